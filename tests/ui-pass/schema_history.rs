// Every history form of `schema!`, written for every dialect from the tables
// the script itself creates.
use dal::Dialect;
use dal::schema::script::{HistoryAction, Step};

fn main() {
    let script = dal::schema! {
        create tasks {
            id();
            string(title, 200);
            timestamps();
            soft_deletes();
            history();
        }
        create notes { id(); text(body); }
        alter notes { add_history(); }
        alter notes { add string(tag, 20).nullable(); refresh_history(); }
        alter tasks { drop_history(); }
    };
    let actions: Vec<HistoryAction> = script
        .steps()
        .iter()
        .filter_map(|s| match s {
            Step::History(h) => Some(h.action),
            _ => None,
        })
        .collect();
    assert_eq!(
        actions,
        [
            HistoryAction::Add,
            HistoryAction::Add,
            HistoryAction::Refresh,
            HistoryAction::Drop
        ]
    );
    for dialect in Dialect::ALL {
        let sql = script.to_sql(dialect).expect("SQL for every step");
        assert!(sql.iter().any(|s| s.contains("notes_history")));
    }
}
