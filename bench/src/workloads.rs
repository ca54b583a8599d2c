//! The shared vocabulary of the harness: the row shape, deterministic data, the
//! checksums that guard against a fast wrong answer, the workloads, and the
//! `Contender` trait every library implements.

use std::future::Future;
use std::time::{Duration, Instant};

use anyhow::{Result, bail, ensure};
use chrono::{NaiveDate, NaiveDateTime, Timelike};

/// Rows in the shared read table (`bench_rows`) and in one bulk insert.
pub const TABLE_ROWS: usize = 10_000;
/// Full-table reads per `select_10k` measurement.
pub const SELECT_ALL_REPEAT: usize = 20;
/// `concurrent`: tasks, queries per task, pool size.
pub const CONC_TASKS: usize = 1000;
pub const CONC_QUERIES: usize = 10;
pub const CONC_POOL: u32 = 20;
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);
/// A `concurrent` run that takes longer than this is a hang: the harness fails.
pub const CONC_OVERALL_TIMEOUT: Duration = Duration::from_secs(120);
/// `eager_has_many`: parents, children per parent, full loads per measurement.
pub const EAGER_PARENTS: usize = 1_000;
pub const EAGER_CHILDREN_PER_PARENT: usize = 10;
pub const EAGER_CHILDREN: usize = EAGER_PARENTS * EAGER_CHILDREN_PER_PARENT;
pub const EAGER_REPEAT: usize = 20;
/// The tables read by `eager_has_many`, shared by every contender of a backend.
pub const PARENTS_TABLE: &str = "bench_parents";
pub const CHILDREN_TABLE: &str = "bench_children";

/// `report_join_group`: users, orders, and reports per measurement. Orders
/// belong to users `1..=REPORT_USERS_WITH_ORDERS` only (the inner join drops
/// the others); users whose id is a multiple of 100 have no done order (the
/// filter drops them).
pub const REPORT_USERS: usize = 1_000;
pub const REPORT_USERS_WITH_ORDERS: usize = 990;
pub const REPORT_ORDERS: usize = 100_000;
pub const REPORT_REPEAT: usize = 10;
/// The tables read by `report_join_group`, shared by every contender of a backend.
pub const REPORT_USERS_TABLE: &str = "rep_users";
pub const REPORT_ORDERS_TABLE: &str = "rep_orders";

/// The statement of `report_join_group`, as dal writes it (portable SQL:
/// `[x]` is a quoted name, `?` a parameter, bound to `true`). Every contender
/// sends this text, in its dialect ([`Backend::report_sql`]).
pub const REPORT_SQL_PORTABLE: &str = "SELECT [rep_users].[id] AS [id], [rep_users].[name] AS [name], COUNT([rep_orders].[id]) AS [count_id], SUM([rep_orders].[amount]) AS [sum_amount] FROM [rep_orders] INNER JOIN [rep_users] ON [rep_users].[id] = [rep_orders].[user_id] WHERE ([rep_orders].[done] = ?) GROUP BY [rep_users].[id], [rep_users].[name] ORDER BY [rep_users].[id]";

/// A row of the `report_join_group` result: user id, user name, number of
/// done orders, sum of their amounts (SUM of an INT: `Option<i64>`).
pub type ReportRow = (i64, String, i64, Option<i64>);

/// The name of the table read by `select_pk`, `select_10k` and `concurrent`,
/// shared by every contender of a backend.
pub const SHARED_TABLE: &str = "bench_rows";

/// The backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    Sqlite,
    Postgres,
    MySql,
}

impl Backend {
    pub fn parse(s: &str) -> Option<Backend> {
        match s.trim() {
            "sqlite" => Some(Backend::Sqlite),
            "postgres" | "postgresql" | "pg" => Some(Backend::Postgres),
            "mysql" | "mariadb" => Some(Backend::MySql),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
            Backend::MySql => "mysql",
        }
    }

    /// Bind parameters one statement may carry (the IN-list chunk of the
    /// hand-written eager loads): 65,535 on PostgreSQL and MySQL, 32,766 on SQLite.
    pub fn max_binds(self) -> usize {
        match self {
            Backend::Sqlite => 32_766,
            Backend::Postgres | Backend::MySql => 65_535,
        }
    }

    /// The children query of the hand-written eager loads for `n` parent
    /// keys: `SELECT .. FROM bench_children WHERE parent_id IN (?, ..)`
    /// (`$1, ..` on PostgreSQL, `?1, ..` on SQLite).
    pub fn children_in_sql(self, n: usize) -> String {
        let mut sql = format!(
            "SELECT id, parent_id, name, email, age, score, active, created_at FROM {CHILDREN_TABLE} WHERE parent_id IN ("
        );
        for i in 1..=n {
            if i > 1 {
                sql.push_str(", ");
            }
            match self {
                Backend::Postgres => sql.push_str(&format!("${i}")),
                Backend::Sqlite => sql.push_str(&format!("?{i}")),
                Backend::MySql => sql.push('?'),
            }
        }
        sql.push(')');
        sql
    }

    /// [`REPORT_SQL_PORTABLE`] in this dialect: double quotes on PostgreSQL
    /// and SQLite, backticks on MariaDB/MySQL; `$1` for the parameter on
    /// PostgreSQL, `?` elsewhere.
    pub fn report_sql(self) -> String {
        let (open, close, param) = match self {
            Backend::Postgres => ('"', '"', "$1"),
            Backend::Sqlite => ('"', '"', "?"),
            Backend::MySql => ('`', '`', "?"),
        };
        let mut out = String::with_capacity(REPORT_SQL_PORTABLE.len());
        for ch in REPORT_SQL_PORTABLE.chars() {
            match ch {
                '[' => out.push(open),
                ']' => out.push(close),
                '?' => out.push_str(param),
                c => out.push(c),
            }
        }
        out
    }

    /// The most rows one multi-row `INSERT` of the bench columns (6
    /// parameters a row) may carry: 65,535 / 6 on PostgreSQL and MySQL,
    /// 32,766 / 6 on SQLite.
    pub fn max_chunk(self) -> usize {
        self.max_binds() / 6
    }

    /// Rows per multi-row `INSERT` of `bulk_insert` for `contender`: the
    /// best of 500 / 1,000 / 2,000 / 5,000 / 10,000 (as the bind limit
    /// allows) measured with `bench/chunk-sweep.sh` (see bench/README.md),
    /// or `--bulk-chunk` when given. `None`: the contender does not send
    /// multi-row inserts on this backend (COPY, one prepared row at a time,
    /// or dal, which chooses its own).
    pub fn bulk_chunk(self, contender: &str) -> Option<usize> {
        let measured = match (self, contender) {
            // dal chooses (and the PostgreSQL sqlx contenders and floor COPY)
            (_, "dal" | "dal-bare") => return None,
            (Backend::Postgres, "sqlx-pool" | "sqlx-conn" | "floor") => return None,
            (Backend::Sqlite, "floor") => return None,
            (Backend::Postgres, "sea-orm") => 500,
            (Backend::Postgres, "diesel") => 500,
            (Backend::Postgres, "diesel-async") => 2_000,
            (Backend::MySql, "sqlx-pool") => 2_000,
            (Backend::MySql, "sqlx-conn") => 500,
            (Backend::MySql, "sea-orm") => 1_000,
            (Backend::MySql, "diesel") => 2_000,
            (Backend::MySql, "diesel-async") => 1_000,
            (Backend::MySql, "floor") => 2_000,
            (Backend::Sqlite, "sqlx-pool") => 1_000,
            (Backend::Sqlite, "sqlx-conn") => 500,
            (Backend::Sqlite, "sea-orm") => 500,
            (Backend::Sqlite, "diesel") => 500,
            _ => 1_000,
        };
        let chosen = CHUNK_OVERRIDE.get().copied().flatten().unwrap_or(measured);
        Some(chosen.min(self.max_chunk()))
    }

    /// How dal writes `bulk_insert`, for the table: dal picks it itself
    /// (`dal::entity::ops::chunk_rows`: the bind limit, at most 1,000 rows a
    /// statement; PostgreSQL: binary COPY of every row).
    pub fn dal_bulk(self) -> &'static str {
        match self {
            Backend::Postgres => "COPY",
            Backend::MySql | Backend::Sqlite => "1000",
        }
    }

    /// The history method the peers use in `save_history` on this backend
    /// (the fastest measured, see bench/README.md), or `DAL_BENCH_HISTORY`.
    pub fn history_method(self) -> HistoryMethod {
        if let Ok(v) = std::env::var("DAL_BENCH_HISTORY") {
            match v.as_str() {
                "tx" => return HistoryMethod::Transaction,
                "trigger" => return HistoryMethod::Trigger,
                "cte" if self == Backend::Postgres => return HistoryMethod::Cte,
                _ => {}
            }
        }
        HistoryMethod::Trigger
    }
}

/// `--bulk-chunk`: one chunk size for every contender that chunks (the sweep).
pub static CHUNK_OVERRIDE: std::sync::OnceLock<Option<usize>> = std::sync::OnceLock::new();

/// How a peer writes a row with its history row in `save_history`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryMethod {
    /// BEGIN, INSERT row, INSERT history row, COMMIT (four round trips).
    Transaction,
    /// One INSERT; an `AFTER INSERT` trigger on the peer's table (created
    /// untimed, like dal's) writes the history row in the same statement.
    Trigger,
    /// PostgreSQL: one statement, `WITH ins AS (INSERT .. RETURNING *)
    /// INSERT INTO .._history SELECT 1, 'insert', .. FROM ins RETURNING id`.
    Cte,
}

impl HistoryMethod {
    pub fn name(self) -> &'static str {
        match self {
            HistoryMethod::Transaction => "transaction",
            HistoryMethod::Trigger => "trigger",
            HistoryMethod::Cte => "cte",
        }
    }
}

/// A row of `bench_children` as the hand-written contenders decode it.
#[derive(Debug, Clone, PartialEq)]
pub struct ChildRow {
    pub id: i64,
    pub parent_id: i64,
    pub name: String,
    pub email: String,
    pub age: i32,
    pub score: f64,
    pub active: bool,
    pub created_at: NaiveDateTime,
}

impl ChildRow {
    pub fn hash(&self) -> u64 {
        row_hash(
            self.id,
            &self.name,
            &self.email,
            self.age,
            self.score,
            self.active,
            self.created_at,
        )
    }
}

/// Group `children` under their parents (one pass, a map from parent id to
/// its children), keeping the parents' order: what the hand-written
/// contenders do after their two queries.
pub fn group_by_parent<P, C>(
    parents: Vec<P>,
    children: Vec<C>,
    parent_id: impl Fn(&P) -> i64,
    child_parent: impl Fn(&C) -> i64,
) -> Vec<(P, Vec<C>)> {
    let mut groups: std::collections::HashMap<i64, Vec<C>> =
        std::collections::HashMap::with_capacity(parents.len());
    for c in children {
        groups.entry(child_parent(&c)).or_default().push(c);
    }
    parents
        .into_iter()
        .map(|p| {
            let mine = groups.remove(&parent_id(&p)).unwrap_or_default();
            (p, mine)
        })
        .collect()
}

/// One row of every bench table. `id` is 0 for a row not inserted yet.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub age: i32,
    pub score: f64,
    pub active: bool,
    pub created_at: NaiveDateTime,
}

/// A MariaDB/MySQL URL for the contenders built on mysql_async (the floor
/// and diesel-async), with `prefer_socket=false`. mysql_async's default
/// (`prefer_socket` on) reconnects a TCP connection to 127.0.0.1 through the
/// server's unix socket, which is faster on one machine; every other
/// contender (dal, sqlx, Diesel's libmysqlclient) goes where the URL says,
/// over TCP, so the race keeps every contender on the same transport.
pub fn mysql_async_url(url: &str) -> String {
    if url.contains("prefer_socket=") {
        return url.to_string();
    }
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}prefer_socket=false")
}

/// The `i`-th generated row (deterministic; values exactly representable in
/// every backend: scores are multiples of 0.25, times have whole microseconds).
pub fn gen_row(i: usize) -> Row {
    let base = NaiveDate::from_ymd_opt(2024, 1, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    let micros = (i as i64) * 1_000_003 + ((i as i64 * 7919) % 1_000_000);
    Row {
        id: 0,
        name: format!("Name {i:05}"),
        email: format!("user{i:05}@example.com"),
        age: 18 + (i % 60) as i32,
        score: ((i * 37) % 4000) as f64 * 0.25,
        active: !i.is_multiple_of(3),
        created_at: base + chrono::Duration::microseconds(micros),
    }
}

/// Rows `0..n`, unsaved.
pub fn gen_rows(n: usize) -> Vec<Row> {
    (0..n).map(gen_row).collect()
}

/// The shared table's content: row `i` has id `i + 1`.
pub fn shared_row(id: i64) -> Row {
    let mut r = gen_row((id - 1) as usize);
    r.id = id;
    r
}

/// `bench_parents` row `id` (1..=EAGER_PARENTS): the generated row `id - 1`.
pub fn parent_row(id: i64) -> Row {
    shared_row(id)
}

/// `bench_children` row `id` (1..=EAGER_CHILDREN): its parent and its values.
/// Children of one parent are spread over the table (child `id` belongs to
/// parent `(id - 1) % EAGER_PARENTS + 1`), as rows inserted over time are.
pub fn child_row(id: i64) -> (i64, Row) {
    let mut r = gen_row(100_000 + (id - 1) as usize);
    r.id = id;
    ((id - 1) % EAGER_PARENTS as i64 + 1, r)
}

/// What a child contributes to the `eager_has_many` checksum: its row hash,
/// the `parent_id` it holds, and the id of the parent it was grouped under
/// (so a child handed to the wrong parent changes the sum).
pub fn child_hash(row_hash: u64, parent_id: i64, grouped_under: i64) -> u64 {
    mix(
        mix(row_hash, parent_id as u64),
        grouped_under as u64 ^ 0x5bd1_e995,
    )
}

/// The `eager_has_many` checksum of the whole tables, each child under its own parent.
pub fn expected_eager_checksum() -> u64 {
    let parents =
        (1..=EAGER_PARENTS as i64).fold(0u64, |a, id| a.wrapping_add(parent_row(id).hash()));
    (1..=EAGER_CHILDREN as i64).fold(parents, |a, id| {
        let (pid, r) = child_row(id);
        a.wrapping_add(child_hash(r.hash(), pid, pid))
    })
}

/// What `eager_has_many` returns: parents and children loaded, and the
/// checksum (sum of the parents' row hashes and of [`child_hash`] of each child).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EagerResult {
    pub parents: usize,
    pub children: usize,
    pub sum: u64,
}

impl EagerResult {
    /// Add a parent, given its row hash.
    pub fn parent(&mut self, row_hash: u64) {
        self.parents += 1;
        self.sum = self.sum.wrapping_add(row_hash);
    }
    /// Add a child grouped under parent `grouped_under`.
    pub fn child(&mut self, row_hash: u64, parent_id: i64, grouped_under: i64) {
        self.children += 1;
        self.sum = self
            .sum
            .wrapping_add(child_hash(row_hash, parent_id, grouped_under));
    }
}

/// `rep_users` row `id` (1..=REPORT_USERS): name and city.
pub fn report_user(id: i64) -> (String, String) {
    (format!("User {id:04}"), format!("City {:02}", id % 37))
}

/// A row of `rep_orders`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportOrder {
    pub id: i64,
    pub user_id: i64,
    pub amount: i32,
    pub done: bool,
}

/// `rep_orders` row `id` (1..=REPORT_ORDERS): a user drawn by a hash of the
/// id (orders of a user are spread over the table, ~101 each), an amount in
/// 1..=10,000, three orders in four done, but none of a user whose id is a
/// multiple of 100.
pub fn report_order(id: i64) -> ReportOrder {
    let h = mix(0x0bad_cafe, id as u64);
    let user_id = 1 + (h % REPORT_USERS_WITH_ORDERS as u64) as i64;
    ReportOrder {
        id,
        user_id,
        amount: 1 + (mix(h, 1) % 10_000) as i32,
        done: !mix(h, 2).is_multiple_of(4) && user_id % 100 != 0,
    }
}

/// What `report_join_group` must return, computed from the generated rows.
pub fn expected_report() -> Vec<ReportRow> {
    let mut per_user = vec![(0i64, 0i64); REPORT_USERS + 1];
    for id in 1..=REPORT_ORDERS as i64 {
        let o = report_order(id);
        if o.done {
            let u = &mut per_user[o.user_id as usize];
            u.0 += 1;
            u.1 += i64::from(o.amount);
        }
    }
    per_user
        .iter()
        .enumerate()
        .filter(|(_, (count, _))| *count > 0)
        .map(|(id, &(count, sum))| (id as i64, report_user(id as i64).0, count, Some(sum)))
        .collect()
}

/// A deterministic xorshift generator (no dependency, same sequence everywhere).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

/// `n` ids of the shared table, uniformly at random (repeats allowed).
pub fn random_ids(n: usize, seed: u64) -> Vec<i64> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|_| 1 + rng.below(TABLE_ROWS as u64) as i64)
        .collect()
}

/// `n` distinct ids of the shared table in random order (a partial shuffle).
pub fn distinct_ids(n: usize, seed: u64) -> Vec<i64> {
    let mut all: Vec<i64> = (1..=TABLE_ROWS as i64).collect();
    let mut rng = Rng::new(seed);
    let n = n.min(all.len());
    for i in 0..n {
        let j = i + rng.below((all.len() - i) as u64) as usize;
        all.swap(i, j);
    }
    all.truncate(n);
    all
}

fn mix(mut h: u64, v: u64) -> u64 {
    h ^= v
        .wrapping_add(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(h << 6)
        .wrapping_add(h >> 2);
    h.wrapping_mul(0xff51_afd7_ed55_8ccd)
}

fn str_hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Hash of every field but the id.
pub fn row_hash_no_id(
    name: &str,
    email: &str,
    age: i32,
    score: f64,
    active: bool,
    created_at: NaiveDateTime,
) -> u64 {
    let mut h = mix(0, str_hash(name));
    h = mix(h, str_hash(email));
    h = mix(h, age as u64);
    h = mix(h, score.to_bits());
    h = mix(h, u64::from(active));
    h = mix(h, created_at.and_utc().timestamp() as u64);
    mix(h, u64::from(created_at.nanosecond() / 1000))
}

/// Hash of every field.
#[allow(clippy::too_many_arguments)]
pub fn row_hash(
    id: i64,
    name: &str,
    email: &str,
    age: i32,
    score: f64,
    active: bool,
    created_at: NaiveDateTime,
) -> u64 {
    mix(
        row_hash_no_id(name, email, age, score, active, created_at),
        id as u64,
    )
}

impl Row {
    pub fn hash(&self) -> u64 {
        row_hash(
            self.id,
            &self.name,
            &self.email,
            self.age,
            self.score,
            self.active,
            self.created_at,
        )
    }
    pub fn hash_no_id(&self) -> u64 {
        row_hash_no_id(
            &self.name,
            &self.email,
            self.age,
            self.score,
            self.active,
            self.created_at,
        )
    }
}

/// Order-independent checksum of rows (sum of row hashes).
pub fn checksum<'a>(rows: impl IntoIterator<Item = &'a Row>) -> u64 {
    rows.into_iter()
        .fold(0u64, |acc, r| acc.wrapping_add(r.hash()))
}

/// Checksum ignoring ids.
pub fn checksum_no_id<'a>(rows: impl IntoIterator<Item = &'a Row>) -> u64 {
    rows.into_iter()
        .fold(0u64, |acc, r| acc.wrapping_add(r.hash_no_id()))
}

/// The expected checksum of the shared table's rows `ids` (with repeats).
pub fn expected_pk_checksum(ids: &[i64]) -> u64 {
    ids.iter()
        .fold(0u64, |acc, &id| acc.wrapping_add(shared_row(id).hash()))
}

/// The new values `update_pk` writes into row `id`.
#[derive(Debug, Clone, Copy)]
pub struct Update {
    pub id: i64,
    pub age: i32,
    pub score: f64,
}

pub fn updates_for(ids: &[i64]) -> Vec<Update> {
    ids.iter()
        .map(|&id| Update {
            id,
            age: 100 + (id % 50) as i32,
            score: 5000.0 + (id % 97) as f64 * 0.5,
        })
        .collect()
}

/// `partial_update`: the shared ten-column table every contender's table is
/// copied from, its columns, and the one column the updates change.
pub const WIDE_TABLE: &str = "bench_wide";
pub const WIDE_COLS: &str = "id, s1, s2, s3, s4, n1, n2, n3, f1, f2, b1";

/// A row of the ten-data-column table of `partial_update`.
#[derive(Debug, Clone, PartialEq)]
pub struct WideRow {
    pub id: i64,
    pub s1: String,
    pub s2: String,
    pub s3: String,
    pub s4: String,
    pub n1: i32,
    pub n2: i32,
    pub n3: i32,
    pub f1: f64,
    pub f2: f64,
    pub b1: bool,
}

/// Row `id` (1..=TABLE_ROWS) of `bench_wide`.
pub fn wide_row(id: i64) -> WideRow {
    let i = id as usize;
    WideRow {
        id,
        s1: format!("alpha {i:06}"),
        s2: format!("bravo {:06}", i * 7 % 100_003),
        s3: format!("charlie {:06}", i * 13 % 100_019),
        s4: format!("delta-{i}-{}", i % 97),
        n1: (i % 1000) as i32,
        n2: (i * 3 % 10_007) as i32,
        n3: -((i % 313) as i32),
        f1: (i % 4000) as f64 * 0.5,
        f2: (i * 11 % 8000) as f64 * 0.25,
        b1: i.is_multiple_of(2),
    }
}

impl WideRow {
    pub fn hash(&self) -> u64 {
        let mut h = mix(0, self.id as u64);
        for s in [&self.s1, &self.s2, &self.s3, &self.s4] {
            h = mix(h, str_hash(s));
        }
        for n in [self.n1, self.n2, self.n3] {
            h = mix(h, n as u64);
        }
        h = mix(h, self.f1.to_bits());
        h = mix(h, self.f2.to_bits());
        mix(h, u64::from(self.b1))
    }
}

/// One `partial_update`: set column `n1` of row `id` to `n1`.
#[derive(Debug, Clone, Copy)]
pub struct PartialUp {
    pub id: i64,
    pub n1: i32,
}

pub fn partial_updates(ids: &[i64]) -> Vec<PartialUp> {
    ids.iter()
        .map(|&id| PartialUp {
            id,
            n1: 1_000_000 + id as i32,
        })
        .collect()
}

/// The checksum of `bench_wide` after `ups`.
pub fn expected_wide_checksum(ups: &[PartialUp]) -> u64 {
    let mut rows: Vec<WideRow> = (1..=TABLE_ROWS as i64).map(wide_row).collect();
    for u in ups {
        rows[(u.id - 1) as usize].n1 = u.n1;
    }
    rows.iter().fold(0u64, |a, r| a.wrapping_add(r.hash()))
}

/// `stream_1m`: the shared table streamed (its row `id` is `shared_row(id)`),
/// its size, and the smaller stream whose peak memory the big one is compared with.
pub const STREAM_TABLE: &str = "bench_stream";
pub const STREAM_ROWS: usize = 1_000_000;
pub const STREAM_SMALL: usize = 10_000;

/// The workloads, in report order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Workload {
    InsertOne,
    BulkInsert,
    SelectPk,
    Select10k,
    UpdatePk,
    SaveHistory,
    EagerHasMany,
    ReportJoinGroup,
    PartialUpdate,
    Stream1m,
    Concurrent,
}

impl Workload {
    pub const ALL: [Workload; 11] = [
        Workload::InsertOne,
        Workload::BulkInsert,
        Workload::SelectPk,
        Workload::Select10k,
        Workload::UpdatePk,
        Workload::SaveHistory,
        Workload::EagerHasMany,
        Workload::ReportJoinGroup,
        Workload::PartialUpdate,
        Workload::Stream1m,
        Workload::Concurrent,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Workload::InsertOne => "insert_one",
            Workload::BulkInsert => "bulk_insert",
            Workload::SelectPk => "select_pk",
            Workload::Select10k => "select_10k",
            Workload::UpdatePk => "update_pk",
            Workload::SaveHistory => "save_history",
            Workload::Concurrent => "concurrent",
            Workload::EagerHasMany => "eager_has_many",
            Workload::ReportJoinGroup => "report_join_group",
            Workload::PartialUpdate => "partial_update",
            Workload::Stream1m => "stream_1m",
        }
    }

    /// What one "op" of the reported ops/s is.
    pub fn unit(self) -> &'static str {
        match self {
            Workload::InsertOne => "rows/s",
            Workload::BulkInsert => "rows/s",
            Workload::SelectPk => "queries/s",
            Workload::Select10k => "rows/s",
            Workload::UpdatePk => "updates/s",
            Workload::SaveHistory => "saves/s",
            Workload::Concurrent => "queries/s",
            Workload::EagerHasMany => "rows/s",
            // orders aggregated: 100,000 per report
            Workload::ReportJoinGroup => "orders/s",
            Workload::PartialUpdate => "updates/s",
            Workload::Stream1m => "rows/s",
        }
    }

    pub fn parse(s: &str) -> Option<Workload> {
        Workload::ALL.into_iter().find(|w| w.name() == s)
    }

    /// The table a contender writes for this workload (`None`: the shared table).
    pub fn table(self, prefix: &str) -> Option<String> {
        match self {
            Workload::InsertOne
            | Workload::BulkInsert
            | Workload::UpdatePk
            | Workload::SaveHistory
            | Workload::PartialUpdate => Some(format!("{prefix}_{}", self.name())),
            Workload::Stream1m
            | Workload::SelectPk
            | Workload::Select10k
            | Workload::Concurrent
            | Workload::EagerHasMany
            | Workload::ReportJoinGroup => None,
        }
    }
}

/// How a `concurrent` query failed.
#[derive(Debug)]
pub enum ConcError {
    /// No connection within the acquire timeout (counted, not fatal).
    AcquireTimeout,
    Other(anyhow::Error),
}

impl<E: Into<anyhow::Error>> From<E> for ConcError {
    fn from(e: E) -> Self {
        ConcError::Other(e.into())
    }
}

/// A pool of `CONC_POOL` connections shared by the `concurrent` tasks.
pub trait ConcPool: Clone + Send + Sync + 'static {
    /// Select one row of the shared table by primary key; returns its hash.
    fn select(&self, id: i64) -> impl Future<Output = std::result::Result<u64, ConcError>> + Send;
    /// Release every connection.
    fn close(self) -> impl Future<Output = ()> + Send;
}

/// A pool type for contenders that do not take part in `concurrent`.
#[derive(Clone)]
pub struct NoPool;

impl ConcPool for NoPool {
    async fn select(&self, _id: i64) -> std::result::Result<u64, ConcError> {
        Err(ConcError::Other(anyhow::anyhow!("not supported")))
    }
    async fn close(self) {}
}

/// One library (or one way of using it) on one backend. Tables are named
/// `{prefix}_{workload}`; `bench_rows` is shared. The harness creates and
/// fills tables and verifies results; the methods do only the measured work.
pub trait Contender: Send {
    type Pool: ConcPool;

    /// The column name in the report.
    fn name(&self) -> &'static str;
    /// Prefix of this contender's tables.
    fn prefix(&self) -> &'static str;
    /// Whether the contender runs `w` (a skipped cell prints as `-`).
    fn supports(&self, w: Workload) -> bool {
        w != Workload::Concurrent
    }

    /// Insert each row on its own (autocommit); returns the generated ids in order.
    fn insert_one<'a>(
        &'a mut self,
        rows: &'a [Row],
    ) -> impl Future<Output = Result<Vec<i64>>> + Send + 'a;
    /// Insert all rows in one transaction; returns the generated ids when the
    /// library reports them (else an empty vector).
    fn bulk_insert<'a>(
        &'a mut self,
        rows: &'a [Row],
    ) -> impl Future<Output = Result<Vec<i64>>> + Send + 'a;
    /// Select each id of the shared table into a struct; returns the sum of the row hashes.
    fn select_pk<'a>(&'a mut self, ids: &'a [i64])
    -> impl Future<Output = Result<u64>> + Send + 'a;
    /// Select the whole shared table into structs; returns (rows, checksum).
    fn select_all(&mut self) -> impl Future<Output = Result<(usize, u64)>> + Send + '_;
    /// Load every parent of `bench_parents` with its children from
    /// `bench_children` (grouped per parent, in structs) the library's way;
    /// returns the counts and the checksum (see [`EagerResult`]).
    fn eager_has_many(&mut self) -> impl Future<Output = Result<EagerResult>> + Send + '_;
    /// `report_join_group`: [`REPORT_SQL_PORTABLE`] (each user with a done
    /// order: id, name, number and sum of amounts of its done orders, by user
    /// id) over `rep_orders` joined to `rep_users`, the library's way; the
    /// rows in the order read. Contenders that do not run it keep this default
    /// (and say so in `supports`).
    fn report_join_group(&mut self) -> impl Future<Output = Result<Vec<ReportRow>>> + Send + '_ {
        let name = self.name();
        async move { bail!("{name} does not run report_join_group") }
    }
    /// Untimed: whatever the contender needs before `save_history`, after the
    /// harness created the row and history tables (dal lets `ensure_schema`
    /// create its own tables, with the triggers that record history).
    fn prepare_history<'a>(
        &'a mut self,
        _table: &'a str,
    ) -> impl Future<Output = Result<()>> + Send + 'a {
        async { Ok(()) }
    }
    /// Untimed: whatever the contender needs before `update_pk` (dal loads the entities).
    fn prepare_update<'a>(
        &'a mut self,
        _ids: &'a [i64],
    ) -> impl Future<Output = Result<()>> + Send + 'a {
        async { Ok(()) }
    }
    /// Untimed: whatever the contender needs before `partial_update` (dal
    /// loads the entities, tracked).
    fn prepare_partial<'a>(
        &'a mut self,
        _ids: &'a [i64],
    ) -> impl Future<Output = Result<()>> + Send + 'a {
        async { Ok(()) }
    }
    /// Set the one column `n1` of each row of `{prefix}_partial_update` by
    /// primary key (autocommit), leaving the nine others alone.
    fn partial_update<'a>(
        &'a mut self,
        ups: &'a [PartialUp],
    ) -> impl Future<Output = Result<()>> + Send + 'a;
    /// Update age and score of each row by primary key (autocommit).
    fn update_pk<'a>(
        &'a mut self,
        ups: &'a [Update],
    ) -> impl Future<Output = Result<()>> + Send + 'a;
    /// Insert each row together with its history row (version 1, operation
    /// `insert`) in one transaction per row; returns the ids in order.
    fn save_history<'a>(
        &'a mut self,
        rows: &'a [Row],
    ) -> impl Future<Output = Result<Vec<i64>>> + Send + 'a;
    /// Open a pool of `CONC_POOL` connections with `ACQUIRE_TIMEOUT`.
    fn conc_pool(&mut self) -> impl Future<Output = Result<Self::Pool>> + Send + '_ {
        let name = self.name();
        async move { bail!("{name} does not run the concurrent workload") }
    }
}

/// Latency percentiles and counts of a `concurrent` run.
#[derive(Debug, Clone, Default)]
pub struct ConcStats {
    pub elapsed: Duration,
    pub queries: usize,
    pub acquire_timeouts: usize,
    pub p50: Duration,
    pub p99: Duration,
}

/// Run `CONC_TASKS` tasks of `CONC_QUERIES` selects each over `pool`.
pub async fn run_concurrent<P: ConcPool>(pool: &P, seed: u64) -> Result<ConcStats> {
    let start = Instant::now();
    let mut handles = Vec::with_capacity(CONC_TASKS);
    for t in 0..CONC_TASKS {
        let pool = pool.clone();
        let ids = random_ids(CONC_QUERIES, seed.wrapping_add(t as u64 * 7_919));
        handles.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(ids.len());
            let mut timeouts = 0usize;
            let mut sum = 0u64;
            let mut ok_ids = Vec::with_capacity(ids.len());
            for id in ids {
                let t0 = Instant::now();
                match pool.select(id).await {
                    Ok(h) => {
                        lat.push(t0.elapsed());
                        sum = sum.wrapping_add(h);
                        ok_ids.push(id);
                    }
                    Err(ConcError::AcquireTimeout) => timeouts += 1,
                    Err(ConcError::Other(e)) => return Err(e),
                }
            }
            ensure!(
                sum == expected_pk_checksum(&ok_ids),
                "concurrent: wrong rows returned"
            );
            Ok((lat, timeouts))
        }));
    }
    let all = async {
        let mut lat = Vec::with_capacity(CONC_TASKS * CONC_QUERIES);
        let mut timeouts = 0;
        for h in handles {
            let (l, t) = h.await??;
            lat.extend(l);
            timeouts += t;
        }
        anyhow::Ok((lat, timeouts))
    };
    let (mut lat, acquire_timeouts) = match tokio::time::timeout(CONC_OVERALL_TIMEOUT, all).await {
        Ok(r) => r?,
        Err(_) => bail!("concurrent: HANG, not finished after {CONC_OVERALL_TIMEOUT:?}"),
    };
    let elapsed = start.elapsed();
    lat.sort_unstable();
    let pct = |p: f64| {
        if lat.is_empty() {
            Duration::ZERO
        } else {
            lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)]
        }
    };
    Ok(ConcStats {
        elapsed,
        queries: lat.len(),
        acquire_timeouts,
        p50: pct(0.50),
        p99: pct(0.99),
    })
}

/// Checks that `ids` are `n` distinct positive values.
pub fn check_ids(what: &str, ids: &[i64], n: usize) -> Result<()> {
    ensure!(
        ids.len() == n,
        "{what}: {} ids returned for {n} rows",
        ids.len()
    );
    let mut sorted = ids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    ensure!(sorted.len() == n, "{what}: returned ids are not distinct");
    ensure!(sorted[0] > 0, "{what}: non-positive id returned");
    Ok(())
}
