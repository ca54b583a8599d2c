//! MariaDB Spider: an entity's table partitioned over two backend servers
//! behind one Spider front. Entities (saves, reads, updates, soft deletes,
//! counts, history) work through the front unchanged; the backends own the
//! tables and the history triggers, and `ensure_schema` on the front is
//! refused with a clear error.
//!
//! The front is `DAL_TEST_SPIDER_URL` (default
//! `mysql://root@127.0.0.1:3320/test`), the backends
//! `DAL_TEST_SPIDER_BACKENDS` (two comma-separated URLs; default `..:3321`
//! and `..:3322`), known to the front as the servers `dal_b1` and `dal_b2`:
//! three private mariadbd that `.ci/run` makes. When they do not answer, the
//! tests print why and pass, unless `DAL_TEST_REQUIRE_SERVERS=1` (CI).

use dal::migrate::{Migration, Migrator, Module};
use dal::{Db, Entity, Error};

#[derive(Entity, Debug, Clone, PartialEq)]
#[dal(table = "sp_items", history, soft_delete)]
struct Item {
    #[dal(id)]
    id: i64,
    #[dal(length = 64)]
    token: String,
    qty: i32,
}

fn front_url() -> String {
    std::env::var("DAL_TEST_SPIDER_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3320/test".into())
}

fn backend_urls() -> Vec<String> {
    std::env::var("DAL_TEST_SPIDER_BACKENDS")
        .unwrap_or_else(|_| {
            "mysql://root@127.0.0.1:3321/test,mysql://root@127.0.0.1:3322/test".into()
        })
        .split(',')
        .map(str::to_string)
        .collect()
}

fn with_database(url: &str, database: &str) -> String {
    let (base, _) = url.rsplit_once('/').expect("a URL with a database");
    format!("{base}/{database}")
}

/// The front and both backends, each on a fresh database of the same name.
struct Setup {
    name: String,
    front: Db,
    backends: Vec<Db>,
}

impl Setup {
    async fn create() -> Option<Setup> {
        let name = format!(
            "dal_t_sp_{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        );
        let mut urls = vec![front_url()];
        urls.extend(backend_urls());
        let mut dbs = Vec::new();
        for u in &urls {
            let admin = match Db::connect_url(u).await {
                Ok(db) => db,
                Err(e) => {
                    let why = format!("{u}: {e}");
                    if dal::testing::servers_required() {
                        panic!(
                            "the Spider servers are required (DAL_TEST_REQUIRE_SERVERS=1): {why}"
                        );
                    }
                    eprintln!("SKIPPED: the test needs the Spider servers of .ci/run: {why}");
                    return None;
                }
            };
            admin
                .execute(&format!("CREATE DATABASE `{name}`"), ())
                .await
                .unwrap();
            admin.close();
            dbs.push(Db::connect_url(&with_database(u, &name)).await.unwrap());
        }
        let front = dbs.remove(0);
        let engine: Option<(String, String)> = front
            .fetch_optional_as(
                "SELECT PLUGIN_NAME, PLUGIN_STATUS FROM information_schema.PLUGINS WHERE PLUGIN_NAME = 'SPIDER'",
                (),
            )
            .await
            .unwrap();
        assert_eq!(
            engine.map(|(_, s)| s).as_deref(),
            Some("ACTIVE"),
            "{} runs the Spider engine",
            front_url()
        );
        Some(Setup {
            name,
            front,
            backends: dbs,
        })
    }

    /// On the front, `table` as a Spider table over the backends' tables of
    /// the same name, partitioned by `KEY(id)`: the backend's own definition,
    /// with the Spider engine and one partition per backend server.
    async fn spider_table(&self, table: &str) {
        let (_, ddl): (String, String) = self.backends[0]
            .fetch_one_as(&format!("SHOW CREATE TABLE [{table}]"), ())
            .await
            .unwrap();
        let columns = &ddl[..=ddl.rfind(')').unwrap()];
        let spider = format!(
            "{columns} ENGINE=SPIDER COMMENT='wrapper \"mysql\", database \"{db}\", table \"{table}\"' \
             PARTITION BY KEY(`id`) (PARTITION p1 COMMENT = 'srv \"dal_b1\"', PARTITION p2 COMMENT = 'srv \"dal_b2\"')",
            db = self.name
        );
        self.front.execute(&spider, ()).await.unwrap();
    }

    async fn drop(self) {
        self.front.close();
        for b in &self.backends {
            b.close();
        }
        let mut urls = vec![front_url()];
        urls.extend(backend_urls());
        for u in urls {
            if let Ok(admin) = Db::connect_url(&u).await {
                let _ = admin
                    .execute(&format!("DROP DATABASE IF EXISTS `{}`", self.name), ())
                    .await;
                admin.close();
            }
        }
    }
}

#[tokio::test]
async fn entities_and_history_work_through_a_spider_front() {
    let Some(s) = Setup::create().await else {
        return;
    };
    // the backends own the tables and the history triggers
    for b in &s.backends {
        Item::ensure_schema(b).await.unwrap();
    }
    s.spider_table("sp_items").await;
    s.spider_table("sp_items_history").await;

    // ensure_schema on the front is refused, saying where it belongs
    match Item::ensure_schema(&s.front).await {
        Err(Error::Unsupported(m)) => {
            assert!(m.contains("Spider"), "{m}");
            assert!(m.contains("backend"), "{m}");
        }
        other => panic!("ensure_schema on the Spider front: {other:?}"),
    }

    // writes through the front land on both backends
    let mut items = Vec::new();
    for k in 0..40 {
        let mut it = Item {
            id: 1000 + k,
            token: format!("t{k}"),
            qty: k as i32,
        };
        it.save(&s.front).await.unwrap();
        items.push(it);
    }
    let mut bulk: Vec<Item> = (0..20)
        .map(|k| Item {
            id: 2000 + k,
            token: format!("bulk{k}"),
            qty: 1,
        })
        .collect();
    Item::save_all(&mut bulk, &s.front).await.unwrap();
    let mut on_backends = 0;
    for b in &s.backends {
        let n = Item::find().count(b).await.unwrap();
        assert!(n > 0, "KEY(id) partitioning puts rows on each backend");
        on_backends += n;
    }
    assert_eq!(on_backends, 60);

    // reads, filters, order, counts through the front
    assert_eq!(Item::find().count(&s.front).await.unwrap(), 60);
    let got = Item::get(&s.front, 1007).await.unwrap().unwrap();
    assert_eq!(got, items[7]);
    let big = Item::find()
        .filter(Item::QTY.ge(30))
        .order_by(Item::QTY.desc())
        .all(&s.front)
        .await
        .unwrap();
    assert_eq!(
        big.iter().map(|i| i.qty).collect::<Vec<_>>(),
        (30..40).rev().collect::<Vec<_>>()
    );

    // an update and a soft delete; the history is the backends' triggers'
    let mut it = items[3].clone();
    it.qty = 333;
    it.save(&s.front).await.unwrap();
    it.delete(&s.front).await.unwrap();
    assert!(Item::get(&s.front, it.id).await.unwrap().is_none());
    assert_eq!(Item::find().count(&s.front).await.unwrap(), 59);
    let h = Item::history(&s.front, it.id).await.unwrap();
    assert_eq!(
        h.iter().map(|v| v.operation.as_str()).collect::<Vec<_>>(),
        vec!["insert", "update", "delete"]
    );
    it.restore(&s.front).await.unwrap();
    assert_eq!(Item::find().count(&s.front).await.unwrap(), 60);

    // ids the front generates (Spider's own counter, spider_auto_increment_mode 0)
    let mut auto = Item {
        id: 0,
        token: "auto".into(),
        qty: 5,
    };
    auto.save(&s.front).await.unwrap();
    assert!(auto.id > 0);
    assert_eq!(
        Item::get(&s.front, auto.id).await.unwrap(),
        Some(auto.clone())
    );

    // a transaction through the front commits or rolls back on both backends
    let (a, b) = (items[0].clone(), items[1].clone());
    let r: Result<(), Error> = s
        .front
        .transaction(move |tx| {
            let (mut a, mut b) = (a.clone(), b.clone());
            Box::pin(async move {
                a.qty = -1;
                b.qty = -1;
                a.save(&mut *tx).await?;
                b.save(&mut *tx).await?;
                Err(Error::invalid_input("test", "roll back"))
            })
        })
        .await;
    assert!(r.is_err());
    assert_eq!(
        Item::find()
            .filter(Item::QTY.eq(-1))
            .count(&s.front)
            .await
            .unwrap(),
        0
    );
    s.drop().await;
}

#[tokio::test]
async fn migrations_on_the_front_make_local_tables() {
    let Some(s) = Setup::create().await else {
        return;
    };
    let create = dal::schema! {
        create sp_notes {
            id();
            text(body);
        }
    };
    let m = Migrator::new()
        .module(Module::new("notes").migration(Migration::new("0001_notes", create)));
    let r = m.up(&s.front).await.unwrap();
    assert_eq!(r.applied.len(), 1);
    s.front
        .execute(
            "INSERT INTO [sp_notes] ([body]) VALUES (?)",
            ("kept on the front",),
        )
        .await
        .unwrap();
    let (engine,): (String,) = s
        .front
        .fetch_one_as(
            "SELECT ENGINE FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'sp_notes'",
            (),
        )
        .await
        .unwrap();
    assert_eq!(
        engine, "InnoDB",
        "a migration's CREATE TABLE is a table of the front's own"
    );
    s.drop().await;
}
