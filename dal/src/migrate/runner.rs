//! The runs: `up`, `up_to`, `rollback`, `fresh`, and `status`.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use dal_schema::ddl::DdlStatement;
use dal_schema::script::{Script, Step};
use dal_schema::{Dialect, Schema};

use super::lock::Session;
use super::tracking::{self, Record};
use super::{
    Applied, Direction, Fresh, Migration, MigrationStatus, Migrator, Progress, Report, State,
};
use crate::db::Db;
use crate::error::{Error, Result};

/// A registered migration, with its SQL for the database's dialect.
struct Entry<'m> {
    module: &'m str,
    name: &'m str,
    /// Position in its module.
    order: u32,
    migration: &'m Migration,
    checksum: String,
}

/// The longest module or migration name (the tracking table's columns).
const MAX_NAME: usize = 255;

fn invalid(field: &str, reason: impl Into<String>) -> Error {
    Error::invalid_input(field, reason)
}

/// Check the registry: names present, unique, short enough; the table name.
fn validate(m: &Migrator) -> Result<()> {
    if !dal_schema::is_valid_identifier(&m.table) {
        return Err(invalid(
            "table_name",
            format!(
                "`{}` is not a valid tracking table name (letters, digits and `_`, not starting with a digit)",
                m.table
            ),
        ));
    }
    let mut modules = HashSet::new();
    for module in &m.modules {
        let name = module.name.as_str();
        if name.is_empty() || name.len() > MAX_NAME || name.contains('/') {
            return Err(invalid(
                "module",
                format!("module name `{name}` must be 1 to {MAX_NAME} bytes long, without `/`"),
            ));
        }
        if !modules.insert(name) {
            return Err(invalid(
                "module",
                format!("module `{name}` is registered twice"),
            ));
        }
        let mut names = HashSet::new();
        for g in &module.migrations {
            if g.name.is_empty() || g.name.len() > MAX_NAME {
                return Err(invalid(
                    "migration",
                    format!(
                        "migration name `{}` in module `{name}` must be 1 to {MAX_NAME} bytes long",
                        g.name
                    ),
                ));
            }
            if !names.insert(g.name.as_str()) {
                return Err(invalid(
                    "migration",
                    format!("module `{name}` has two migrations named `{}`", g.name),
                ));
            }
        }
    }
    Ok(())
}

fn script_error(
    module: &str,
    name: &str,
    which: &str,
    dialect: Dialect,
    e: impl std::fmt::Display,
) -> Error {
    Error::Migration {
        module: module.to_string(),
        name: name.to_string(),
        message: format!(
            "its {which} script cannot be written for {}: {e}; nothing was applied",
            dialect.name()
        ),
        applied: Vec::new(),
    }
}

/// Validate the registry and checksum every up script for `dialect`.
fn prepare(m: &Migrator, dialect: Dialect) -> Result<Vec<Entry<'_>>> {
    validate(m)?;
    let mut out = Vec::new();
    for module in &m.modules {
        for (i, g) in module.migrations.iter().enumerate() {
            let fingerprint =
                g.up.fingerprint(dialect)
                    .map_err(|e| script_error(&module.name, &g.name, "up", dialect, e))?;
            out.push(Entry {
                module: &module.name,
                name: &g.name,
                order: i as u32,
                migration: g,
                checksum: super::checksum_of(&fingerprint),
            });
        }
    }
    Ok(out)
}

fn has_history(script: &Script) -> bool {
    script.steps().iter().any(|s| matches!(s, Step::History(_)))
}

/// The tables history steps are written from: the live ones, read before the
/// run takes its lock, when a script to run has a history step (the others
/// need no model).
async fn live_model<'s>(db: &Db, scripts: impl IntoIterator<Item = &'s Script>) -> Result<Schema> {
    if scripts.into_iter().any(has_history) {
        db.introspect().await
    } else {
        Ok(Schema::new())
    }
}

/// Write `script` for `dialect`, following its changes in `model`.
fn render(
    e: &Entry<'_>,
    which: &str,
    script: &Script,
    dialect: Dialect,
    model: &mut Schema,
) -> Result<Vec<Vec<String>>> {
    script
        .to_sql_by_step_with(dialect, model)
        .map_err(|err| script_error(e.module, e.name, which, dialect, err))
}

fn has_rebuild(script: &Script) -> bool {
    script
        .steps()
        .iter()
        .any(|s| matches!(s, Step::Ddl(DdlStatement::RebuildTable { .. })))
}

/// The index in `entries` of `target` (`module/name` or a unique `name`).
fn resolve(entries: &[Entry<'_>], target: &str) -> Result<usize> {
    if let Some((module, name)) = target.split_once('/') {
        return entries
            .iter()
            .position(|e| e.module == module && e.name == name)
            .ok_or_else(|| {
                invalid(
                    "target",
                    format!("no migration `{name}` in module `{module}`"),
                )
            });
    }
    let found: Vec<usize> = entries
        .iter()
        .enumerate()
        .filter(|(_, e)| e.name == target)
        .map(|(i, _)| i)
        .collect();
    match found.as_slice() {
        [i] => Ok(*i),
        [] => Err(invalid("target", format!("no migration named `{target}`"))),
        many => Err(invalid(
            "target",
            format!(
                "`{target}` is the name of migrations in several modules ({}): write `module/{target}`",
                many.iter()
                    .map(|&i| entries[i].module)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

/// The first applied migration whose checksum changed, in registration order.
fn check_drift(entries: &[Entry<'_>], records: &[Record]) -> Result<()> {
    let recorded: HashMap<(&str, &str), &Record> = records
        .iter()
        .map(|r| ((r.module.as_str(), r.name.as_str()), r))
        .collect();
    for e in entries {
        if let Some(r) = recorded.get(&(e.module, e.name))
            && r.checksum != e.checksum
        {
            return Err(Error::MigrationDrift {
                module: e.module.to_string(),
                name: e.name.to_string(),
                applied: r.checksum.clone(),
                current: e.checksum.clone(),
            });
        }
    }
    Ok(())
}

fn now_micros() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// How a migration changes the tracking table.
enum Track<'r> {
    /// Record it as applied.
    Insert {
        order: u32,
        checksum: &'r str,
        seq: i64,
    },
    /// Forget it.
    Delete,
}

/// One migration to run in a session.
struct Job<'r> {
    module: &'r str,
    name: &'r str,
    steps: Vec<Vec<String>>,
    direction: Direction,
    track: Track<'r>,
}

impl Session<'_> {
    /// Create the tracking table unless it exists (checked first: under the
    /// lock that is race-free, and PostgreSQL logs no "already exists" notice).
    async fn ensure_table(&mut self, table: &str) -> Result<()> {
        let sql = match self.dialect {
            Dialect::Postgres => {
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?"
            }
            Dialect::MySql => {
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?"
            }
            Dialect::Sqlite => {
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?"
            }
        };
        let found: Vec<(i64,)> = self.fetch(sql, (table,)).await?;
        if found.first().is_some_and(|(n,)| *n > 0) {
            return Ok(());
        }
        for sql in tracking::create_sql(table, self.dialect)? {
            self.raw(&sql).await?;
        }
        Ok(())
    }

    async fn records(&mut self, table: &str) -> Result<Vec<Record>> {
        let rows: Vec<tracking::Row> = self.fetch(&tracking::select_sql(table), ()).await?;
        Ok(tracking::decode(rows))
    }

    async fn write_tracking(
        &mut self,
        table: &str,
        job: &Job<'_>,
        duration: Duration,
    ) -> Result<()> {
        match job.track {
            Track::Insert {
                order,
                checksum,
                seq,
            } => {
                self.exec(
                    &tracking::insert_sql(table),
                    (
                        job.module,
                        job.name,
                        i64::from(order),
                        now_micros(),
                        checksum,
                        millis(duration),
                        seq,
                    ),
                )
                .await?;
            }
            Track::Delete => {
                self.exec(&tracking::delete_sql(table), (job.module, job.name))
                    .await?;
            }
        }
        Ok(())
    }

    /// Run one migration and write its tracking row: in one transaction
    /// (PostgreSQL) or savepoint (SQLite), statement by statement on MySQL.
    async fn run_job(&mut self, table: &str, job: &Job<'_>) -> Result<Duration> {
        let started = Instant::now();
        let statements: Vec<(usize, &str)> = job
            .steps
            .iter()
            .enumerate()
            .flat_map(|(i, s)| s.iter().map(move |sql| (i, sql.as_str())))
            .collect();
        let total = statements.len();
        let fail = |message: String, applied: Vec<String>| Error::Migration {
            module: job.module.to_string(),
            name: job.name.to_string(),
            message,
            applied,
        };
        match self.dialect {
            Dialect::MySql => {
                let mut done: Vec<String> = Vec::new();
                for (k, (step, sql)) in statements.iter().enumerate() {
                    if let Err(e) = self.raw(sql).await {
                        let message = format!(
                            "statement {} of {total} (step {}) failed: {e}\n  failed: {sql}\n{}",
                            k + 1,
                            step + 1,
                            mysql_applied_note(&done, job.direction)
                        );
                        return Err(fail(message, done));
                    }
                    done.push(sql.to_string());
                }
                if let Err(e) = self.write_tracking(table, job, started.elapsed()).await {
                    let what = match job.direction {
                        Direction::Up => "recording it as applied",
                        Direction::Down => "removing its row",
                    };
                    let message = format!(
                        "all {total} statement(s) took effect, but {what} in `{table}` failed: {e}\n{}",
                        list_statements(&done)
                    );
                    return Err(fail(message, done));
                }
            }
            Dialect::Postgres | Dialect::Sqlite => {
                let sqlite = self.dialect == Dialect::Sqlite;
                let (begin, commit, rollback) = if sqlite {
                    (
                        "SAVEPOINT dal_migration",
                        "RELEASE SAVEPOINT dal_migration",
                        "ROLLBACK TO SAVEPOINT dal_migration; RELEASE SAVEPOINT dal_migration",
                    )
                } else {
                    ("BEGIN", "COMMIT", "ROLLBACK")
                };
                self.raw(begin).await?;
                self.set_in_transaction(!sqlite);
                let mut failure: Option<String> = None;
                for (k, (step, sql)) in statements.iter().enumerate() {
                    if let Err(e) = self.raw(sql).await {
                        failure = Some(format!(
                            "statement {} of {total} (step {}) failed: {e}\n  failed: {sql}",
                            k + 1,
                            step + 1
                        ));
                        break;
                    }
                }
                if failure.is_none() && self.sqlite_fk_off {
                    match self.sqlite_foreign_key_violation() {
                        Ok(None) => {}
                        Ok(Some(v)) => failure = Some(format!("foreign keys broken: {v}")),
                        Err(e) => failure = Some(format!("checking foreign keys failed: {e}")),
                    }
                }
                if failure.is_none()
                    && let Err(e) = self.write_tracking(table, job, started.elapsed()).await
                {
                    failure = Some(format!("writing the tracking row in `{table}` failed: {e}"));
                }
                if let Some(mut message) = failure {
                    self.set_in_transaction(false);
                    if sqlite && !self.sqlite_in_transaction() {
                        message.push_str(
                            "\nSQLite rolled back the whole run's transaction: nothing of this \
                             migration, and none of the migrations applied before it in this run, \
                             took effect",
                        );
                    } else if self.raw(rollback).await.is_err() {
                        self.mark_broken();
                        message.push_str("\nrolling it back failed too: the connection is discarded, which rolls back");
                    } else {
                        message.push_str(match job.direction {
                            Direction::Up => "\nrolled back: nothing of this migration was applied",
                            Direction::Down => "\nrolled back: nothing of this rollback took effect; the migration stays applied",
                        });
                    }
                    return Err(fail(message, Vec::new()));
                }
                let committed = self.raw(commit).await;
                self.set_in_transaction(false);
                if let Err(e) = committed {
                    if !sqlite {
                        self.mark_broken();
                    }
                    return Err(fail(
                        format!(
                            "{commit} failed: {e}; whether the migration took effect is unknown: check the status"
                        ),
                        Vec::new(),
                    ));
                }
            }
        }
        Ok(started.elapsed())
    }
}

fn list_statements(done: &[String]) -> String {
    done.iter()
        .enumerate()
        .map(|(i, s)| format!("  {}. {s}", i + 1))
        .collect::<Vec<_>>()
        .join("\n")
}

fn mysql_applied_note(done: &[String], direction: Direction) -> String {
    let state = match direction {
        Direction::Up => "the migration is not recorded as applied",
        Direction::Down => "the migration is still recorded as applied",
    };
    if done.is_empty() {
        return format!("no statement of it took effect; {state}");
    }
    format!(
        "MySQL/MariaDB commit DDL implicitly: {} statement(s) before it took effect and stay applied \
         ({state}; undo or complete them by hand before running it again):\n{}",
        done.len(),
        list_statements(done)
    )
}

/// Run `jobs` in order, with progress callbacks and logs.
async fn run_jobs(
    m: &Migrator,
    s: &mut Session<'_>,
    jobs: &[Job<'_>],
    report: &mut Report,
) -> Result<()> {
    let total = jobs.len();
    for (index, job) in jobs.iter().enumerate() {
        m.emit(Progress::Starting {
            module: job.module,
            name: job.name,
            index,
            total,
            direction: job.direction,
        });
        let r = s.run_job(&m.table, job).await;
        let duration = match r {
            Ok(d) => d,
            Err(mut e) => {
                let earlier = match job.direction {
                    Direction::Up => &report.applied,
                    Direction::Down => &report.rolled_back,
                };
                if let Error::Migration { message, .. } = &mut e
                    && !earlier.is_empty()
                {
                    let names: Vec<String> = earlier
                        .iter()
                        .map(|a| format!("{}/{}", a.module, a.name))
                        .collect();
                    let verb = match job.direction {
                        Direction::Up => "applied",
                        Direction::Down => "rolled back",
                    };
                    message.push_str(&format!(
                        "\n{verb} earlier in this run: {}",
                        names.join(", ")
                    ));
                }
                tracing::warn!(
                    target: "dal::migrate",
                    db = s.db_name(),
                    module = job.module,
                    name = job.name,
                    direction = %job.direction,
                    error = %e.redacted(),
                    "migration failed"
                );
                return Err(e);
            }
        };
        tracing::info!(
            target: "dal::migrate",
            db = s.db_name(),
            module = job.module,
            name = job.name,
            direction = %job.direction,
            duration_ms = duration.as_millis() as u64,
            "{}",
            match job.direction {
                Direction::Up => "migration applied",
                Direction::Down => "migration rolled back",
            }
        );
        m.emit(Progress::Finished {
            module: job.module,
            name: job.name,
            duration,
            direction: job.direction,
        });
        let done = Applied {
            module: job.module.to_string(),
            name: job.name.to_string(),
            duration,
        };
        match job.direction {
            Direction::Up => report.applied.push(done),
            Direction::Down => report.rolled_back.push(done),
        }
    }
    Ok(())
}

/// Release the session and combine its outcome with the run's.
async fn finish(s: Session<'_>, r: Result<Report>) -> Result<Report> {
    let closed = s.close().await;
    match (r, closed) {
        (Ok(report), Ok(())) => Ok(report),
        (Ok(_), Err(e)) => Err(e),
        (Err(mut e), Err(ce)) => {
            if let Error::Migration { message, .. } = &mut e {
                message.push_str(&format!(
                    "\ncommitting the run failed too ({ce}): none of its migrations took effect"
                ));
            }
            Err(e)
        }
        (Err(e), Ok(())) => Err(e),
    }
}

fn up_jobs<'e>(
    entries: &'e [Entry<'e>],
    records: &[Record],
    limit: Option<usize>,
    dialect: Dialect,
    model: &mut Schema,
) -> Result<Vec<Job<'e>>> {
    let applied: HashSet<(&str, &str)> = records
        .iter()
        .map(|r| (r.module.as_str(), r.name.as_str()))
        .collect();
    let mut seq = records.iter().map(|r| r.applied_seq).max().unwrap_or(0);
    entries
        .iter()
        .enumerate()
        .filter(|(i, e)| limit.is_none_or(|l| *i <= l) && !applied.contains(&(e.module, e.name)))
        .map(|(_, e)| {
            seq += 1;
            Ok(Job {
                module: e.module,
                name: e.name,
                steps: render(e, "up", e.migration.up_script(), dialect, model)?,
                direction: Direction::Up,
                track: Track::Insert {
                    order: e.order,
                    checksum: &e.checksum,
                    seq,
                },
            })
        })
        .collect()
}

pub(super) async fn up(m: &Migrator, db: &Db, target: Option<&str>) -> Result<Report> {
    let dialect = db.dialect();
    let entries = prepare(m, dialect)?;
    let limit = target.map(|t| resolve(&entries, t)).transpose()?;
    let fk_off = entries.iter().any(|e| has_rebuild(e.migration.up_script()));
    let mut model = live_model(db, entries.iter().map(|e| e.migration.up_script())).await?;
    let mut s = Session::open(db, &m.table, m.lock_timeout, fk_off).await?;
    let r = async {
        s.ensure_table(&m.table).await?;
        let records = s.records(&m.table).await?;
        check_drift(&entries, &records)?;
        let jobs = up_jobs(&entries, &records, limit, dialect, &mut model)?;
        let mut report = Report::default();
        run_jobs(m, &mut s, &jobs, &mut report).await?;
        Ok(report)
    }
    .await;
    finish(s, r).await
}

pub(super) async fn rollback(m: &Migrator, db: &Db, n: usize) -> Result<Report> {
    let dialect = db.dialect();
    let entries = prepare(m, dialect)?;
    if n == 0 {
        return Ok(Report::default());
    }
    let fk_off = entries
        .iter()
        .any(|e| e.migration.down_script().is_some_and(has_rebuild));
    let mut model =
        live_model(db, entries.iter().filter_map(|e| e.migration.down_script())).await?;
    let mut s = Session::open(db, &m.table, m.lock_timeout, fk_off).await?;
    let r = async {
        s.ensure_table(&m.table).await?;
        let mut records = s.records(&m.table).await?;
        check_drift(&entries, &records)?;
        records.sort_by_key(|r| std::cmp::Reverse(r.applied_seq));
        records.truncate(n);
        let by_name: HashMap<(&str, &str), &Entry<'_>> =
            entries.iter().map(|e| ((e.module, e.name), e)).collect();
        // everything is checked before anything is rolled back
        let mut downs: Vec<(&Record, Vec<Vec<String>>)> = Vec::new();
        for r in &records {
            let Some(e) = by_name.get(&(r.module.as_str(), r.name.as_str())) else {
                return Err(invalid(
                    "rollback",
                    format!(
                        "migration {}/{} is applied but no longer registered, so it has no down script; nothing was rolled back",
                        r.module, r.name
                    ),
                ));
            };
            let Some(down) = e.migration.down_script() else {
                return Err(invalid(
                    "rollback",
                    format!(
                        "migration {}/{} is irreversible (it has no down script); nothing was rolled back",
                        r.module, r.name
                    ),
                ));
            };
            let sql = render(e, "down", down, dialect, &mut model)?;
            downs.push((r, sql));
        }
        let jobs: Vec<Job<'_>> = downs
            .into_iter()
            .map(|(r, sql)| Job {
                module: &r.module,
                name: &r.name,
                steps: sql,
                direction: Direction::Down,
                track: Track::Delete,
            })
            .collect();
        let mut report = Report::default();
        run_jobs(m, &mut s, &jobs, &mut report).await?;
        Ok(report)
    }
    .await;
    finish(s, r).await
}

pub(super) async fn fresh(m: &Migrator, db: &Db, confirm: Fresh) -> Result<Report> {
    if confirm != Fresh::Confirmed {
        return Err(invalid(
            "fresh",
            "fresh drops every table of the database; pass Fresh::Confirmed to do it",
        ));
    }
    let dialect = db.dialect();
    let entries = prepare(m, dialect)?;
    // SQLite: dropping tables that others reference needs foreign keys off
    let mut s = Session::open(db, &m.table, m.lock_timeout, true).await?;
    let r = async {
        let dropped = drop_all(&mut s).await?;
        tracing::info!(
            target: "dal::migrate",
            db = s.db_name(),
            tables = ?dropped,
            "fresh: dropped every table"
        );
        s.ensure_table(&m.table).await?;
        // every table is gone: the scripts create what history steps read
        let jobs = up_jobs(&entries, &[], None, dialect, &mut Schema::new())?;
        let mut report = Report::default();
        run_jobs(m, &mut s, &jobs, &mut report).await?;
        Ok(report)
    }
    .await;
    finish(s, r).await
}

/// Drop every base table of the current schema / database; returns their names.
async fn drop_all(s: &mut Session<'_>) -> Result<Vec<String>> {
    let dialect = s.dialect;
    let sql = match dialect {
        Dialect::Postgres => {
            // tables that belong to an extension are the extension's business
            "SELECT c.relname::text AS name FROM pg_catalog.pg_class c \
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') \
             AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d \
                 WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e') \
             ORDER BY 1"
        }
        Dialect::MySql => {
            "SELECT TABLE_NAME AS name FROM information_schema.TABLES \
             WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED') ORDER BY 1"
        }
        Dialect::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite^_%' ESCAPE '^' ORDER BY 1"
        }
    };
    let rows: Vec<crate::row::Row<'static>> = s.fetch(sql, ()).await?;
    let names: Vec<String> = rows
        .iter()
        .map(|r| crate::introspect::shape::text(r, "name"))
        .collect::<Result<_>>()?;
    if names.is_empty() {
        return Ok(names);
    }
    let quoted: Vec<String> = names.iter().map(|n| dialect.quote_identifier(n)).collect();
    match dialect {
        Dialect::Postgres => {
            s.raw(&format!(
                "DROP TABLE IF EXISTS {} CASCADE",
                quoted.join(", ")
            ))
            .await?;
        }
        Dialect::MySql => {
            s.raw("SET FOREIGN_KEY_CHECKS = 0").await?;
            let r = s
                .raw(&format!("DROP TABLE IF EXISTS {}", quoted.join(", ")))
                .await;
            if s.raw("SET FOREIGN_KEY_CHECKS = 1").await.is_err() {
                s.mark_broken();
            }
            r?;
        }
        Dialect::Sqlite => {
            for q in &quoted {
                s.raw(&format!("DROP TABLE IF EXISTS {q}")).await?;
            }
        }
    }
    Ok(names)
}

pub(super) async fn status(m: &Migrator, db: &Db) -> Result<Vec<MigrationStatus>> {
    let entries = prepare(m, db.dialect())?;
    let records = tracking::read(db, &m.table).await?;
    let recorded: HashMap<(&str, &str), &Record> = records
        .iter()
        .map(|r| ((r.module.as_str(), r.name.as_str()), r))
        .collect();
    let mut out = Vec::with_capacity(entries.len());
    let from_record =
        |r: &Record, module: &str, name: &str, order: u32, state: State| MigrationStatus {
            module: module.to_string(),
            name: name.to_string(),
            order,
            state,
            applied_at: Some(r.applied_at),
            checksum: Some(r.checksum.clone()),
            duration: Some(Duration::from_millis(r.duration_ms.max(0) as u64)),
        };
    for e in &entries {
        out.push(match recorded.get(&(e.module, e.name)) {
            Some(r) => {
                let state = if r.checksum == e.checksum {
                    State::Applied
                } else {
                    State::Drifted
                };
                from_record(r, e.module, e.name, e.order, state)
            }
            None => MigrationStatus {
                module: e.module.to_string(),
                name: e.name.to_string(),
                order: e.order,
                state: State::Pending,
                applied_at: None,
                checksum: None,
                duration: None,
            },
        });
    }
    let registered: HashSet<(&str, &str)> = entries.iter().map(|e| (e.module, e.name)).collect();
    for r in &records {
        if !registered.contains(&(r.module.as_str(), r.name.as_str())) {
            let order = u32::try_from(r.order_index).unwrap_or(u32::MAX);
            out.push(from_record(r, &r.module, &r.name, order, State::Missing));
        }
    }
    Ok(out)
}
