//! Entity lifecycle hooks on every backend: `before_save` / `after_save` /
//! `before_delete` / `after_delete` run inside the write's transaction; a
//! before-hook error aborts the write and changes nothing; an after-hook
//! error rolls the write back (and what the hooks wrote with it); hooks run
//! for saves, bulk saves, tracked saves and deletes, inside a caller's
//! transaction too.

use dal::{Entity, Error, Hooks, Transaction};

use crate::support::TestDb;

#[derive(Entity, Debug, Clone, PartialEq)]
#[dal(table = "hk_accounts", hooks, soft_delete)]
pub struct Account {
    #[dal(id)]
    pub id: i64,
    #[dal(length = 120)]
    pub email: String,
    pub slug: String,
    pub balance: i64,
}

/// What the hooks wrote, in the same transaction.
#[derive(Entity, Debug, Clone, PartialEq)]
#[dal(table = "hk_events")]
pub struct Event {
    #[dal(id)]
    pub id: i64,
    pub what: String,
}

impl Hooks for Account {
    async fn before_save(&mut self, _tx: &mut Transaction<'_>) -> dal::Result<()> {
        self.email = self.email.trim().to_lowercase();
        if !self.email.contains('@') {
            return Err(Error::invalid_input("email", "an email needs an @"));
        }
        self.slug = self.email.replace(['@', '.'], "-");
        Ok(())
    }

    async fn after_save(&mut self, tx: &mut Transaction<'_>) -> dal::Result<()> {
        let mut e = Event {
            id: 0,
            what: format!("saved {} {}", self.id, self.email),
        };
        e.save(&mut *tx).await?;
        if self.balance < 0 {
            return Err(Error::invalid_input("balance", "no debts"));
        }
        Ok(())
    }

    async fn before_delete(&mut self, tx: &mut Transaction<'_>) -> dal::Result<()> {
        if self.balance > 0 {
            return Err(Error::invalid_input("balance", "close the balance first"));
        }
        let mut e = Event {
            id: 0,
            what: format!("deleting {}", self.id),
        };
        e.save(&mut *tx).await
    }

    async fn after_delete(&mut self, tx: &mut Transaction<'_>) -> dal::Result<()> {
        let mut e = Event {
            id: 0,
            what: format!("deleted {}", self.id),
        };
        e.save(&mut *tx).await
    }
}

fn account(email: &str, balance: i64) -> Account {
    Account {
        id: 0,
        email: email.into(),
        slug: String::new(),
        balance,
    }
}

async fn events(db: &dal::Db) -> Vec<String> {
    Event::find()
        .order_by(Event::ID.asc())
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.what)
        .collect()
}

/// Saves: the before-hook changes the entity before it is written (and
/// refuses bad input: nothing written, no id); the after-hook writes in the
/// same transaction, and its error rolls back the row, the hook's own
/// writes, and the entity's id.
pub async fn hk_save_hooks_run_in_the_write_transaction(t: &TestDb) {
    let db = &t.db;
    Account::ensure_schema(db).await.unwrap();
    Event::ensure_schema(db).await.unwrap();

    let mut a = account("  Ada@Example.org ", 10);
    a.save(db).await.unwrap();
    assert_eq!(a.email, "ada@example.org");
    assert_eq!(a.slug, "ada-example-org");
    assert_eq!(Account::get(db, a.id).await.unwrap().unwrap(), a);
    assert_eq!(
        events(db).await,
        [format!("saved {} ada@example.org", a.id)]
    );

    let mut bad = account("nobody", 0);
    let err = bad.save(db).await.unwrap_err();
    assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
    assert_eq!(bad.id, 0);
    let mut debt = account("debt@example.org", -5);
    let err = debt.save(db).await.unwrap_err();
    assert!(err.to_string().contains("no debts"), "{err}");
    assert_eq!(debt.id, 0, "the id of a rolled-back insert is put back");
    assert_eq!(Account::find().count(db).await.unwrap(), 1);
    assert_eq!(
        events(db).await.len(),
        1,
        "the hook's write rolled back too"
    );

    // an update that the after-hook refuses leaves the stored row alone
    a.balance = -1;
    assert!(a.save(db).await.is_err());
    assert_eq!(Account::get(db, a.id).await.unwrap().unwrap().balance, 10);

    // bulk and tracked saves run the hooks too
    let mut many = vec![account("B@x.org", 1), account("C@x.org", 2)];
    Account::save_all(&mut many, db).await.unwrap();
    assert_eq!(many[0].email, "b@x.org");
    assert_eq!(events(db).await.len(), 3);
    let mut bad_batch = vec![account("d@x.org", 1), account("nope", 1)];
    assert!(Account::save_all(&mut bad_batch, db).await.is_err());
    assert!(bad_batch.iter().all(|a| a.id == 0));
    assert_eq!(Account::find().count(db).await.unwrap(), 3);

    let mut tracked = Account::get_tracked(db, many[1].id).await.unwrap().unwrap();
    tracked.email = "CEE@x.org".into();
    tracked.save(db).await.unwrap();
    let stored = Account::get(db, many[1].id).await.unwrap().unwrap();
    assert_eq!(stored.email, "cee@x.org");
    assert_eq!(
        stored.slug, "cee-x-org",
        "a column the hook changed is written too"
    );

    // inside a caller's transaction: rolled back with it
    let mut tx = db.begin().await.unwrap();
    let mut inside = account("tx@x.org", 0);
    inside.save(&mut tx).await.unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(Account::find().count(db).await.unwrap(), 3);
    assert_eq!(events(db).await.len(), 4);
}

/// Deletes: the before-hook can refuse (nothing deleted), both hooks write
/// in the delete's transaction, for soft and permanent deletes.
pub async fn hk_delete_hooks(t: &TestDb) {
    let db = &t.db;
    Account::ensure_schema(db).await.unwrap();
    Event::ensure_schema(db).await.unwrap();
    let mut rich = account("rich@x.org", 100);
    rich.save(db).await.unwrap();
    let err = rich.delete(db).await.unwrap_err();
    assert!(err.to_string().contains("close the balance"), "{err}");
    assert!(Account::get(db, rich.id).await.unwrap().is_some());

    let mut empty = account("empty@x.org", 0);
    empty.save(db).await.unwrap();
    assert!(empty.delete(db).await.unwrap());
    assert!(Account::get(db, empty.id).await.unwrap().is_none());
    let mut gone = account("gone@x.org", 0);
    gone.save(db).await.unwrap();
    assert!(gone.delete_permanently(db).await.unwrap());
    let log = events(db).await;
    assert!(log.contains(&format!("deleting {}", empty.id)), "{log:?}");
    assert!(log.contains(&format!("deleted {}", empty.id)), "{log:?}");
    assert!(log.contains(&format!("deleted {}", gone.id)), "{log:?}");
}

macro_rules! hook_tests {
    ($setup:path) => {
        backend_tests!($setup;
            hooks::hk_save_hooks_run_in_the_write_transaction,
            hooks::hk_delete_hooks,
        );
    };
}
