// Hooks: only the needed methods, written as `async fn`, using the transaction.
use dal::{Entity, Hooks, Transaction};

#[derive(Entity, Debug, Clone)]
#[dal(table = "notes", hooks, history)]
struct Note {
    #[dal(id)]
    id: i64,
    title: String,
}

#[derive(Entity, Debug, Clone)]
#[dal(table = "audit_lines")]
struct AuditLine {
    #[dal(id)]
    id: i64,
    line: String,
}

impl Hooks for Note {
    async fn before_save(&mut self, _tx: &mut Transaction<'_>) -> dal::Result<()> {
        self.title = self.title.trim().to_string();
        Ok(())
    }

    async fn after_delete(&mut self, tx: &mut Transaction<'_>) -> dal::Result<()> {
        let mut line = AuditLine { id: 0, line: format!("deleted {}", self.id) };
        line.save(&mut *tx).await
    }
}

fn main() {}
