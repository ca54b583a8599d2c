//! The SQL of an entity's fixed operations, written once per dialect.
//!
//! `#[derive(Entity)]` calls [`entity_sql`] at compile time and embeds the
//! results as `&'static str` constants, so saving, loading and deleting an entity
//! never assembles SQL at run time. Every statement uses the dialect's native
//! placeholders; the order of parameters is documented on each field of
//! [`EntitySql`].
//!
//! Column order: the table's columns are the entity's columns in declaration
//! order. Parameters of inserts and updates always come in this order: the id
//! (when bound), the data columns, then the managed columns that are present:
//! version, created_at, updated_at, deleted_at (the last only when the struct
//! maps it), then, with history, the change stamp, actor and note.
//!
//! History is written by triggers ([`history_triggers`]): one statement saves
//! the row and its history entry together, on every dialect. Each write by dal
//! sets three hidden columns — a fresh random change stamp, the actor and the
//! note — which the trigger copies into the history entry; a write made outside
//! dal leaves the stamp unchanged, so its entry records no actor rather than the
//! previous writer's. An update that changes no column records nothing.
//!
//! Over 1,000 lines with its unit tests (the code ends at the `tests` module,
//! about 920 lines): every statement of an entity for every dialect is written
//! here, side by side, so a change to one is seen against the others.

use crate::dialect::{Dialect, UpsertStyle};

/// What a column is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ColumnRole {
    /// The primary key.
    Id,
    /// An ordinary field.
    Data,
    /// Optimistic-locking version counter (incremented by every write).
    Version,
    /// Set when the row is inserted.
    CreatedAt,
    /// Set by every write.
    UpdatedAt,
    /// Set by a soft delete, cleared by a restore.
    DeletedAt,
    /// With history: a fresh random value per write by dal (hidden).
    ChangeStamp,
    /// With history: who made the last change through dal (hidden).
    ChangedBy,
    /// With history: why (hidden).
    ChangeNote,
}

impl ColumnRole {
    /// The audit columns history adds to an entity's table.
    pub fn is_audit(self) -> bool {
        matches!(
            self,
            ColumnRole::ChangeStamp | ColumnRole::ChangedBy | ColumnRole::ChangeNote
        )
    }
}

/// The hidden audit columns of an entity with history.
pub mod audit_columns {
    /// A fresh random value per write by dal.
    pub const STAMP: &str = "dal_change_stamp";
    /// Who made the change.
    pub const ACTOR: &str = "dal_changed_by";
    /// Why.
    pub const NOTE: &str = "dal_change_note";
}

/// One column of an entity's table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityColumn {
    /// Column name.
    pub name: String,
    /// What it is for.
    pub role: ColumnRole,
    /// Whether a struct field holds it (managed columns may live only in the table).
    pub mapped: bool,
}

/// The shape of an entity: enough to write its SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityShape {
    /// Table name.
    pub table: String,
    /// Columns in declaration order (exactly one has [`ColumnRole::Id`]).
    pub columns: Vec<EntityColumn>,
    /// Keep every version in `{table}_history`.
    pub history: bool,
    /// Another unique index besides the primary key exists (the MySQL family's
    /// `ON DUPLICATE KEY UPDATE` would then also fire on that key, so dal updates
    /// first and inserts when nothing matched instead).
    pub other_unique_keys: bool,
}

/// The names of the bookkeeping columns of a history table.
pub mod history_columns {
    /// Version number (1 for the insert, then one per write).
    pub const VERSION: &str = "history_version";
    /// `insert`, `update`, `delete` or `restore`.
    pub const OPERATION: &str = "history_operation";
    /// Who made the change (free text, optional).
    pub const ACTOR: &str = "history_actor";
    /// Why (free text, optional).
    pub const COMMENT: &str = "history_comment";
    /// When.
    pub const AT: &str = "history_at";
}

/// The history table's name for `table`.
pub fn history_table_name(table: &str) -> String {
    crate::model::names::shorten(format!("{table}_history"))
}

/// The SQL of an entity's fixed operations for one dialect.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EntitySql {
    /// Insert letting the server generate the id. Parameters: data, managed.
    /// PostgreSQL returns the id (`RETURNING`); elsewhere the driver reports it.
    pub insert_generated_id: String,
    /// Insert with the id. Parameters: id, data, managed.
    pub insert: String,
    /// Insert, or update every non-key column when the id exists. Parameters:
    /// id, data, managed. Empty on the MySQL family when `other_unique_keys`
    /// (then: `update`, and `insert` when no row matched).
    pub upsert: String,
    /// Update by id. Parameters: data, managed except created_at, then the id.
    pub update: String,
    /// Update by id and current version (optimistic locking). Parameters: data,
    /// managed except created_at (the new version first), the id, the old version.
    pub update_versioned: String,
    /// Select the mapped columns by id, hiding soft-deleted rows. Parameters: id.
    pub select_by_id: String,
    /// Select the mapped columns by id, soft-deleted or not. Parameters: id.
    pub select_by_id_with_deleted: String,
    /// The mapped columns, quoted and comma separated (for queries built at run time).
    pub select_list: String,
    /// Soft delete. Parameters: deleted_at, updated_at (when present), the
    /// audit columns (with history), id.
    pub soft_delete: String,
    /// Undo a soft delete. Parameters: updated_at (when present), the audit
    /// columns (with history), id.
    pub restore: String,
    /// Delete the row. Parameters: id.
    pub delete: String,
    /// Copy the current row into the history table (used before a permanent
    /// delete; other writes are recorded by the triggers). Parameters: operation,
    /// actor, comment, time, id.
    pub history_insert: String,
    /// Every version of a row, oldest first. Parameters: id.
    pub history_select: String,
    /// One version of a row. Parameters: id, version.
    pub history_at_version: String,
}

struct W {
    dialect: Dialect,
    out: String,
    n: usize,
}

impl W {
    fn new(dialect: Dialect) -> Self {
        W {
            dialect,
            out: String::with_capacity(256),
            n: 0,
        }
    }
    fn s(&mut self, s: &str) -> &mut Self {
        self.out.push_str(s);
        self
    }
    fn id(&mut self, name: &str) -> &mut Self {
        self.dialect.writer().push_identifier(&mut self.out, name);
        self
    }
    fn qualified(&mut self, alias: &str, name: &str) -> &mut Self {
        self.out.push_str(alias);
        self.out.push('.');
        self.id(name)
    }
    fn p(&mut self) -> &mut Self {
        self.n += 1;
        let n = self.n;
        self.dialect.push_placeholder(&mut self.out, n);
        self
    }
    fn list(&mut self, names: &[&str]) -> &mut Self {
        for (i, n) in names.iter().enumerate() {
            if i > 0 {
                self.s(", ");
            }
            self.id(n);
        }
        self
    }
    fn params(&mut self, count: usize) -> &mut Self {
        for i in 0..count {
            if i > 0 {
                self.s(", ");
            }
            self.p();
        }
        self
    }
    fn done(&mut self) -> String {
        self.n = 0;
        std::mem::take(&mut self.out)
    }
}

impl EntityShape {
    fn names(&self, pred: impl Fn(&EntityColumn) -> bool) -> Vec<&str> {
        self.columns
            .iter()
            .filter(|c| pred(c))
            .map(|c| c.name.as_str())
            .collect()
    }

    fn role(&self, role: ColumnRole) -> Option<&EntityColumn> {
        self.columns.iter().find(|c| c.role == role)
    }

    /// The id column's name.
    pub fn id_column(&self) -> &str {
        self.role(ColumnRole::Id).map_or("id", |c| c.name.as_str())
    }

    /// Managed columns bound by inserts, in parameter order.
    pub fn insert_managed(&self) -> Vec<&str> {
        let mut out = Vec::new();
        for role in [
            ColumnRole::Version,
            ColumnRole::CreatedAt,
            ColumnRole::UpdatedAt,
        ] {
            if let Some(c) = self.role(role) {
                out.push(c.name.as_str());
            }
        }
        if let Some(c) = self.role(ColumnRole::DeletedAt).filter(|c| c.mapped) {
            out.push(c.name.as_str());
        }
        out.extend(self.audit());
        out
    }

    /// The audit columns (stamp, actor, note), when the entity has history.
    pub fn audit(&self) -> Vec<&str> {
        [
            ColumnRole::ChangeStamp,
            ColumnRole::ChangedBy,
            ColumnRole::ChangeNote,
        ]
        .iter()
        .filter_map(|r| self.role(*r).map(|c| c.name.as_str()))
        .collect()
    }

    /// The columns the history table copies (all but the audit columns).
    pub fn history_copied(&self) -> Vec<&str> {
        self.names(|c| !c.role.is_audit())
    }

    /// Managed columns bound by updates, in parameter order (no created_at).
    pub fn update_managed(&self) -> Vec<&str> {
        let created = self.role(ColumnRole::CreatedAt).map(|c| c.name.as_str());
        self.insert_managed()
            .into_iter()
            .filter(|n| Some(*n) != created)
            .collect()
    }

    /// Data columns, in parameter order.
    pub fn data_columns(&self) -> Vec<&str> {
        self.names(|c| c.role == ColumnRole::Data)
    }

    /// Columns a `SELECT` returns (the ones the struct maps).
    pub fn mapped_columns(&self) -> Vec<&str> {
        self.names(|c| c.mapped)
    }
}

/// Write the fixed SQL of an entity for `dialect`.
pub fn entity_sql(shape: &EntityShape, dialect: Dialect) -> EntitySql {
    let mut w = W::new(dialect);
    let table = shape.table.as_str();
    let id = shape.id_column();
    let data = shape.data_columns();
    let ins_managed = shape.insert_managed();
    let upd_managed = shape.update_managed();
    let mapped = shape.mapped_columns();
    let deleted = shape.role(ColumnRole::DeletedAt).map(|c| c.name.as_str());
    let updated = shape.role(ColumnRole::UpdatedAt).map(|c| c.name.as_str());
    let version = shape.role(ColumnRole::Version).map(|c| c.name.as_str());
    let caps = dialect.capabilities();

    let mut generated_cols: Vec<&str> = data.clone();
    generated_cols.extend(&ins_managed);
    let mut all_cols: Vec<&str> = vec![id];
    all_cols.extend(&generated_cols);

    let mut sql = EntitySql::default();

    // insert letting the server pick the id
    w.s("INSERT INTO ").id(table);
    if generated_cols.is_empty() {
        w.s(if dialect == Dialect::MySql {
            " () VALUES ()"
        } else {
            " DEFAULT VALUES"
        });
    } else {
        w.s(" (")
            .list(&generated_cols)
            .s(") VALUES (")
            .params(generated_cols.len())
            .s(")");
    }
    if dialect == Dialect::Postgres {
        w.s(" RETURNING ").id(id);
    }
    sql.insert_generated_id = w.done();

    // insert with id
    let insert = |w: &mut W| {
        w.s("INSERT INTO ")
            .id(table)
            .s(" (")
            .list(&all_cols)
            .s(") VALUES (")
            .params(all_cols.len())
            .s(")");
    };
    insert(&mut w);
    sql.insert = w.done();

    // upsert
    let set_cols: Vec<&str> = data.iter().chain(upd_managed.iter()).copied().collect();
    match caps.upsert {
        UpsertStyle::OnConflict => {
            insert(&mut w);
            w.s(" ON CONFLICT (").id(id).s(") DO ");
            if set_cols.is_empty() {
                w.s("NOTHING");
            } else {
                w.s("UPDATE SET ");
                for (i, c) in set_cols.iter().enumerate() {
                    if i > 0 {
                        w.s(", ");
                    }
                    w.id(c).s(" = excluded.").id(c);
                }
            }
            sql.upsert = w.done();
        }
        UpsertStyle::OnDuplicateKey => {
            if !shape.other_unique_keys {
                insert(&mut w);
                w.s(" ON DUPLICATE KEY UPDATE ");
                if set_cols.is_empty() {
                    w.id(id).s(" = ").id(id);
                } else {
                    for (i, c) in set_cols.iter().enumerate() {
                        if i > 0 {
                            w.s(", ");
                        }
                        w.id(c).s(" = VALUES(").id(c).s(")");
                    }
                }
                sql.upsert = w.done();
            }
        }
    }

    // update by id (and version)
    let update = |w: &mut W, versioned: bool| {
        w.s("UPDATE ").id(table).s(" SET ");
        if set_cols.is_empty() {
            w.id(id).s(" = ").id(id);
        }
        for (i, c) in set_cols.iter().enumerate() {
            if i > 0 {
                w.s(", ");
            }
            w.id(c).s(" = ").p();
        }
        w.s(" WHERE ").id(id).s(" = ").p();
        if versioned && let Some(v) = version {
            w.s(" AND ").id(v).s(" = ").p();
        }
    };
    update(&mut w, false);
    sql.update = w.done();
    if version.is_some() {
        update(&mut w, true);
        sql.update_versioned = w.done();
    }

    // selects
    w.list(&mapped);
    sql.select_list = w.done();
    let select = |w: &mut W, hide_deleted: bool| {
        w.s("SELECT ")
            .list(&mapped)
            .s(" FROM ")
            .id(table)
            .s(" WHERE ")
            .id(id)
            .s(" = ")
            .p();
        if let (true, Some(d)) = (hide_deleted, deleted) {
            w.s(" AND ").id(d).s(" IS NULL");
        }
    };
    select(&mut w, true);
    sql.select_by_id = w.done();
    select(&mut w, false);
    sql.select_by_id_with_deleted = w.done();

    // soft delete / restore
    if let Some(d) = deleted {
        w.s("UPDATE ").id(table).s(" SET ").id(d).s(" = ").p();
        if let Some(u) = updated {
            w.s(", ").id(u).s(" = ").p();
        }
        if let Some(v) = version {
            w.s(", ").id(v).s(" = ").id(v).s(" + 1");
        }
        for a in shape.audit() {
            w.s(", ").id(a).s(" = ").p();
        }
        w.s(" WHERE ")
            .id(id)
            .s(" = ")
            .p()
            .s(" AND ")
            .id(d)
            .s(" IS NULL");
        sql.soft_delete = w.done();

        w.s("UPDATE ").id(table).s(" SET ").id(d).s(" = NULL");
        if let Some(u) = updated {
            w.s(", ").id(u).s(" = ").p();
        }
        if let Some(v) = version {
            w.s(", ").id(v).s(" = ").id(v).s(" + 1");
        }
        for a in shape.audit() {
            w.s(", ").id(a).s(" = ").p();
        }
        w.s(" WHERE ")
            .id(id)
            .s(" = ")
            .p()
            .s(" AND ")
            .id(d)
            .s(" IS NOT NULL");
        sql.restore = w.done();
    }

    w.s("DELETE FROM ")
        .id(table)
        .s(" WHERE ")
        .id(id)
        .s(" = ")
        .p();
    sql.delete = w.done();

    if shape.history {
        use history_columns as h;
        let htable = history_table_name(table);
        history_insert(&mut w, shape, &htable, 1);
        sql.history_insert = w.done();

        let history_select = |w: &mut W, one: bool| {
            w.s("SELECT ")
                .list(&[h::VERSION, h::OPERATION, h::ACTOR, h::COMMENT, h::AT])
                .s(", ")
                .list(&mapped)
                .s(" FROM ")
                .id(&htable)
                .s(" WHERE ")
                .id(id)
                .s(" = ")
                .p();
            if one {
                w.s(" AND ").id(h::VERSION).s(" = ").p();
            } else {
                w.s(" ORDER BY ").id(h::VERSION);
            }
        };
        history_select(&mut w, false);
        sql.history_select = w.done();
        history_select(&mut w, true);
        sql.history_at_version = w.done();
    }
    sql
}

/// `INSERT INTO {table}_history (..) SELECT .. FROM {table} t WHERE t.id IN (?, ..)`
/// for `rows` ids. Parameters: operation (NULL lets the statement tell an insert
/// from an update by the history it already has), actor, comment, time, then the ids.
fn history_insert(w: &mut W, shape: &EntityShape, htable: &str, rows: usize) {
    use history_columns as h;
    let table = shape.table.as_str();
    let id = shape.id_column();
    let every = shape.history_copied();
    w.s("INSERT INTO ")
        .id(htable)
        .s(" (")
        .list(&[h::VERSION, h::OPERATION, h::ACTOR, h::COMMENT, h::AT])
        .s(", ")
        .list(&every)
        .s(") SELECT (SELECT COALESCE(MAX(")
        .qualified("h", h::VERSION)
        .s("), 0) + 1 FROM ")
        .id(htable)
        .s(" h WHERE ")
        .qualified("h", id)
        .s(" = ")
        .qualified("t", id)
        .s(")");
    w.s(", ").p().s(", ").p().s(", ").p().s(", ").p();
    for c in &every {
        w.s(", ").qualified("t", c);
    }
    w.s(" FROM ").id(table).s(" t WHERE ").qualified("t", id);
    if rows == 1 {
        w.s(" = ").p();
    } else {
        w.s(" IN (").params(rows).s(")");
    }
}

/// The SQL expression for "now" in a trigger, in the column's stored form.
fn now_expr(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Postgres => "CURRENT_TIMESTAMP",
        Dialect::MySql => "CURRENT_TIMESTAMP(6)",
        Dialect::Sqlite => "strftime('%Y-%m-%d %H:%M:%f', 'now')",
    }
}

/// `a IS NOT DISTINCT FROM b`, per dialect.
fn same(dialect: Dialect, a: &str, b: &str) -> String {
    match dialect {
        Dialect::Postgres => format!("{a} IS NOT DISTINCT FROM {b}"),
        Dialect::MySql => format!("{a} <=> {b}"),
        Dialect::Sqlite => format!("{a} IS {b}"),
    }
}

/// Names of the history triggers (and PostgreSQL's trigger function) of `table`.
pub fn history_trigger_names(table: &str) -> (String, String, String) {
    use crate::model::names::shorten;
    (
        shorten(format!("{table}_dal_history_insert")),
        shorten(format!("{table}_dal_history_update")),
        shorten(format!("{table}_dal_history")),
    )
}

/// The statements that (re)create the triggers recording an entity's history:
/// after every insert, and after every update that changes a column. Run them
/// after creating the history table, and again whenever columns change (the
/// triggers list the columns).
pub fn history_triggers(shape: &EntityShape, dialect: Dialect) -> Vec<String> {
    use history_columns as h;
    let mut w = W::new(dialect);
    let table = shape.table.as_str();
    let htable = history_table_name(table);
    let id = shape.id_column();
    let copied = shape.history_copied();
    let deleted = shape.role(ColumnRole::DeletedAt).map(|c| c.name.as_str());
    let q = |n: &str| dialect.quote_identifier(n);
    let new = |n: &str| format!("NEW.{}", q(n));
    let old = |n: &str| format!("OLD.{}", q(n));
    let (ins_name, upd_name, func_name) = history_trigger_names(table);

    // INSERT INTO h (..) SELECT <version>, <op>, <actor>, <note>, <now>, NEW.cols FROM h WHERE h.id = NEW.id
    let record = |op: String, actor: String, note: String| -> String {
        let mut s = format!(
            "INSERT INTO {} ({}, {}) SELECT ",
            q(&htable),
            [h::VERSION, h::OPERATION, h::ACTOR, h::COMMENT, h::AT]
                .map(q)
                .join(", "),
            copied.iter().map(|c| q(c)).collect::<Vec<_>>().join(", ")
        );
        // the next number, whatever wrote the row (a versioned entity's own
        // counter agrees as long as every write goes through dal)
        s.push_str(&format!("COALESCE(MAX({}), 0) + 1", q(h::VERSION)));
        s.push_str(&format!(", {op}, {actor}, {note}, {}", now_expr(dialect)));
        for c in &copied {
            s.push_str(", ");
            s.push_str(&new(c));
        }
        s.push_str(&format!(
            " FROM {} WHERE {} = {}",
            q(&htable),
            q(id),
            new(id)
        ));
        s
    };
    let stamp = audit_columns::STAMP;
    // an update by dal changes the stamp; one made elsewhere leaves it, and the
    // actor it would show is the previous writer's
    let fresh = |col: &str| {
        format!(
            "CASE WHEN {} THEN NULL ELSE {} END",
            same(dialect, &old(stamp), &new(stamp)),
            new(col)
        )
    };
    let on_insert = record(
        "'insert'".into(),
        new(audit_columns::ACTOR),
        new(audit_columns::NOTE),
    );
    let update_op = match deleted {
        Some(d) => format!(
            "CASE WHEN {o} IS NULL AND {n} IS NOT NULL THEN 'delete' WHEN {o} IS NOT NULL AND {n} IS NULL THEN 'restore' ELSE 'update' END",
            o = old(d),
            n = new(d)
        ),
        None => "'update'".into(),
    };
    let on_update = record(
        update_op,
        fresh(audit_columns::ACTOR),
        fresh(audit_columns::NOTE),
    );
    let unchanged = copied
        .iter()
        .map(|c| same(dialect, &old(c), &new(c)))
        .collect::<Vec<_>>()
        .join(" AND ");
    let mut out = Vec::new();
    match dialect {
        Dialect::Postgres => {
            let changed = format!(
                "({}) IS DISTINCT FROM ({})",
                copied.iter().map(|c| old(c)).collect::<Vec<_>>().join(", "),
                copied.iter().map(|c| new(c)).collect::<Vec<_>>().join(", ")
            );
            out.push(format!(
                "CREATE OR REPLACE FUNCTION {f}() RETURNS trigger LANGUAGE plpgsql AS $dal$\nBEGIN\n  IF TG_OP = 'INSERT' THEN\n    {on_insert};\n  ELSIF {changed} THEN\n    {on_update};\n  END IF;\n  RETURN NULL;\nEND\n$dal$",
                f = q(&func_name)
            ));
            w.s("DROP TRIGGER IF EXISTS ")
                .id(&func_name)
                .s(" ON ")
                .id(table);
            out.push(w.done());
            out.push(format!(
                "CREATE TRIGGER {} AFTER INSERT OR UPDATE ON {} FOR EACH ROW EXECUTE FUNCTION {}()",
                q(&func_name),
                q(table),
                q(&func_name)
            ));
        }
        Dialect::MySql => {
            for name in [&ins_name, &upd_name] {
                out.push(format!("DROP TRIGGER IF EXISTS {}", q(name)));
            }
            out.push(format!(
                "CREATE TRIGGER {} AFTER INSERT ON {} FOR EACH ROW {on_insert}",
                q(&ins_name),
                q(table)
            ));
            out.push(format!(
                "CREATE TRIGGER {} AFTER UPDATE ON {} FOR EACH ROW BEGIN IF NOT ({unchanged}) THEN {on_update}; END IF; END",
                q(&upd_name),
                q(table)
            ));
        }
        Dialect::Sqlite => {
            for name in [&ins_name, &upd_name] {
                out.push(format!("DROP TRIGGER IF EXISTS {}", q(name)));
            }
            out.push(format!(
                "CREATE TRIGGER {} AFTER INSERT ON {} BEGIN {on_insert}; END",
                q(&ins_name),
                q(table)
            ));
            out.push(format!(
                "CREATE TRIGGER {} AFTER UPDATE ON {} WHEN NOT ({unchanged}) BEGIN {on_update}; END",
                q(&upd_name),
                q(table)
            ));
        }
    }
    out
}

/// The statements that remove an entity's history triggers.
pub fn drop_history_triggers(table: &str, dialect: Dialect) -> Vec<String> {
    let (ins, upd, func) = history_trigger_names(table);
    let q = |n: &str| dialect.quote_identifier(n);
    match dialect {
        Dialect::Postgres => vec![
            format!("DROP TRIGGER IF EXISTS {} ON {}", q(&func), q(table)),
            format!("DROP FUNCTION IF EXISTS {}()", q(&func)),
        ],
        _ => vec![
            format!("DROP TRIGGER IF EXISTS {}", q(&ins)),
            format!("DROP TRIGGER IF EXISTS {}", q(&upd)),
        ],
    }
}

/// The hidden audit columns history adds to a table, in the order they are
/// appended: the change stamp (`BIGINT`), the actor (`VARCHAR(255)`) and the
/// note (`TEXT`), all nullable and without default (see [`audit_columns`]).
pub fn audit_column_defs() -> Vec<crate::Column> {
    use crate::{Column, ColumnType};
    [
        (audit_columns::STAMP, ColumnType::BigInteger),
        (audit_columns::ACTOR, ColumnType::String { length: 255 }),
        (audit_columns::NOTE, ColumnType::Text),
    ]
    .into_iter()
    .map(|(name, ty)| Column {
        nullable: true,
        ..Column::new(name, ty)
    })
    .collect()
}

/// True for the names of the hidden audit columns.
pub fn is_audit_column(name: &str) -> bool {
    [
        audit_columns::STAMP,
        audit_columns::ACTOR,
        audit_columns::NOTE,
    ]
    .contains(&name)
}

/// The history table of `table` (whose one-column primary key is `id_column`):
/// the bookkeeping columns ([`history_columns`]), then a copy of every column
/// of `table` but the audit ones (nullable but the id, enumerations widened to
/// `VARCHAR(255)` so old values survive a narrowed enumeration, defaults kept
/// except `CURRENT_TIMESTAMP`, no other keys or constraints), keyed by (id,
/// version) and stored in key order (`WITHOUT ROWID` on SQLite).
///
/// This is the table `Entity::ensure_schema` creates for an entity with
/// `history`, and the one a `schema!` `history()` / `add_history()` creates.
///
/// ```
/// use dal_schema::Table;
/// use dal_schema::entity::history_table;
///
/// let tasks = Table::build("tasks", |t| {
///     t.id();
///     t.string("title", 200);
/// });
/// let h = history_table(&tasks, "id");
/// assert_eq!(h.name, "tasks_history");
/// assert_eq!(h.primary_key, ["id", "history_version"]);
/// let names: Vec<&str> = h.columns.iter().map(|c| c.name.as_str()).collect();
/// assert_eq!(names, ["history_version", "history_operation", "history_actor",
///                    "history_comment", "history_at", "id", "title"]);
/// ```
pub fn history_table(table: &crate::Table, id_column: &str) -> crate::Table {
    use crate::{Column, ColumnType, DefaultValue, Table};
    use history_columns as h;
    let mut t = Table::build(&history_table_name(&table.name), |t| {
        t.big_integer(h::VERSION);
        t.string(h::OPERATION, 16);
        t.string(h::ACTOR, 255).nullable();
        t.text(h::COMMENT).nullable();
        t.timestamp_tz(h::AT);
        t.primary([id_column.to_string(), h::VERSION.to_string()]);
        t.without_rowid();
    });
    // the copies compare their strings as the table does
    t.collation = table.collation.clone();
    for c in table.columns.iter().filter(|c| !is_audit_column(&c.name)) {
        let ty = match &c.ty {
            // the history keeps values the enumeration may later drop
            ColumnType::Enumeration { .. } => ColumnType::String { length: 255 },
            other => other.clone(),
        };
        let key = c.name == id_column;
        // old versions get the column's default when a column is added later
        let default = c
            .default
            .clone()
            .filter(|d| !key && !matches!(d, DefaultValue::CurrentTimestamp));
        t.columns.push(Column {
            nullable: !key,
            default,
            ..Column::new(c.name.clone(), ty)
        });
    }
    t
}

/// The shape the history triggers of a plain table are written from: its
/// one-column primary key is the id, the audit columns ([`audit_columns`])
/// keep their roles, a column called `deleted_at` marks soft deletes (so the
/// history tells a delete and a restore from an update), every other column
/// is data. `None` without a one-column primary key.
///
/// For an entity whose columns have these names, the triggers written from
/// this shape are the entity's own ([`history_triggers`]).
pub fn table_history_shape(table: &crate::Table) -> Option<EntityShape> {
    let [id] = table.primary_key.as_slice() else {
        return None;
    };
    let columns = table
        .columns
        .iter()
        .map(|c| {
            let role = match c.name.as_str() {
                n if n == id => ColumnRole::Id,
                audit_columns::STAMP => ColumnRole::ChangeStamp,
                audit_columns::ACTOR => ColumnRole::ChangedBy,
                audit_columns::NOTE => ColumnRole::ChangeNote,
                "deleted_at" => ColumnRole::DeletedAt,
                _ => ColumnRole::Data,
            };
            EntityColumn {
                name: c.name.clone(),
                role,
                mapped: true,
            }
        })
        .collect();
    Some(EntityShape {
        table: table.name.clone(),
        columns,
        history: true,
        other_unique_keys: false,
    })
}

/// History insert for `rows` ids at once (bulk saves); see [`EntitySql::history_insert`].
pub fn history_insert_many(shape: &EntityShape, dialect: Dialect, rows: usize) -> String {
    let mut w = W::new(dialect);
    history_insert(
        &mut w,
        shape,
        &history_table_name(&shape.table),
        rows.max(1),
    );
    w.done()
}

/// A multi-row insert of `rows` rows. With `with_id`, each row binds the id,
/// the data columns and the managed columns (and `upsert` updates rows whose id
/// exists — not available on the MySQL family when the entity has other unique
/// keys); without, the server generates ids and PostgreSQL returns them in order.
pub fn insert_many(
    shape: &EntityShape,
    dialect: Dialect,
    rows: usize,
    with_id: bool,
    upsert: bool,
) -> String {
    let mut w = W::new(dialect);
    let id = shape.id_column();
    let data = shape.data_columns();
    let managed = shape.insert_managed();
    let mut cols: Vec<&str> = Vec::new();
    if with_id {
        cols.push(id);
    }
    cols.extend(&data);
    cols.extend(&managed);
    w.s("INSERT INTO ")
        .id(&shape.table)
        .s(" (")
        .list(&cols)
        .s(") VALUES ");
    for r in 0..rows.max(1) {
        if r > 0 {
            w.s(", ");
        }
        w.s("(").params(cols.len()).s(")");
    }
    if upsert && with_id {
        let updated: Vec<&str> = data
            .iter()
            .chain(shape.update_managed().iter())
            .copied()
            .collect();
        match dialect.capabilities().upsert {
            UpsertStyle::OnConflict => {
                w.s(" ON CONFLICT (").id(id).s(") DO ");
                if updated.is_empty() {
                    w.s("NOTHING");
                } else {
                    w.s("UPDATE SET ");
                    for (i, c) in updated.iter().enumerate() {
                        if i > 0 {
                            w.s(", ");
                        }
                        w.id(c).s(" = excluded.").id(c);
                    }
                }
            }
            UpsertStyle::OnDuplicateKey => {
                w.s(" ON DUPLICATE KEY UPDATE ");
                if updated.is_empty() {
                    w.id(id).s(" = ").id(id);
                }
                for (i, c) in updated.iter().enumerate() {
                    if i > 0 {
                        w.s(", ");
                    }
                    w.id(c).s(" = VALUES(").id(c).s(")");
                }
            }
        }
    }
    if !with_id && dialect == Dialect::Postgres {
        w.s(" RETURNING ").id(id);
    }
    w.done()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(name: &str, role: ColumnRole, mapped: bool) -> EntityColumn {
        EntityColumn {
            name: name.into(),
            role,
            mapped,
        }
    }

    fn users() -> EntityShape {
        EntityShape {
            table: "users".into(),
            columns: vec![
                col("id", ColumnRole::Id, true),
                col("email", ColumnRole::Data, true),
                col("name", ColumnRole::Data, true),
                col("version", ColumnRole::Version, true),
                col("created_at", ColumnRole::CreatedAt, true),
                col("updated_at", ColumnRole::UpdatedAt, false),
                col("deleted_at", ColumnRole::DeletedAt, false),
                col(audit_columns::STAMP, ColumnRole::ChangeStamp, false),
                col(audit_columns::ACTOR, ColumnRole::ChangedBy, false),
                col(audit_columns::NOTE, ColumnRole::ChangeNote, false),
            ],
            history: true,
            other_unique_keys: false,
        }
    }

    /// History tables, their bookkeeping columns, the hidden audit columns and
    /// the history triggers exist in deployed databases under these names.
    /// NEVER CHANGE THESE VALUES without a migration plan: a renamed history
    /// table or column loses every recorded version from dal's view, and a
    /// renamed trigger leaves the old one firing next to the new one.
    #[test]
    fn history_names_are_pinned() {
        assert_eq!(history_table_name("users"), "users_history");
        assert_eq!(
            history_table_name(&"t".repeat(60)),
            "tttttttttttttttttttttttttttttttttttttttttttttttttttttt_017e0e66"
        );
        assert_eq!(
            history_trigger_names("users"),
            (
                "users_dal_history_insert".to_string(),
                "users_dal_history_update".to_string(),
                "users_dal_history".to_string()
            )
        );
        assert_eq!(
            history_trigger_names(&"t".repeat(60)),
            (
                "tttttttttttttttttttttttttttttttttttttttttttttttttttttt_96bd4a3c".to_string(),
                "tttttttttttttttttttttttttttttttttttttttttttttttttttttt_554919a0".to_string(),
                "tttttttttttttttttttttttttttttttttttttttttttttttttttttt_9933cf04".to_string()
            )
        );
        assert_eq!(
            [
                history_columns::VERSION,
                history_columns::OPERATION,
                history_columns::ACTOR,
                history_columns::COMMENT,
                history_columns::AT
            ],
            [
                "history_version",
                "history_operation",
                "history_actor",
                "history_comment",
                "history_at"
            ]
        );
        assert_eq!(
            [
                audit_columns::STAMP,
                audit_columns::ACTOR,
                audit_columns::NOTE
            ],
            ["dal_change_stamp", "dal_changed_by", "dal_change_note"]
        );
    }

    #[test]
    fn postgres_statements() {
        let sql = entity_sql(&users(), Dialect::Postgres);
        assert_eq!(
            sql.insert_generated_id,
            "INSERT INTO \"users\" (\"email\", \"name\", \"version\", \"created_at\", \"updated_at\", \"dal_change_stamp\", \"dal_changed_by\", \"dal_change_note\") VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING \"id\""
        );
        assert_eq!(
            sql.upsert,
            "INSERT INTO \"users\" (\"id\", \"email\", \"name\", \"version\", \"created_at\", \"updated_at\", \"dal_change_stamp\", \"dal_changed_by\", \"dal_change_note\") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (\"id\") DO UPDATE SET \"email\" = excluded.\"email\", \"name\" = excluded.\"name\", \"version\" = excluded.\"version\", \"updated_at\" = excluded.\"updated_at\", \"dal_change_stamp\" = excluded.\"dal_change_stamp\", \"dal_changed_by\" = excluded.\"dal_changed_by\", \"dal_change_note\" = excluded.\"dal_change_note\""
        );
        assert_eq!(
            sql.update_versioned,
            "UPDATE \"users\" SET \"email\" = $1, \"name\" = $2, \"version\" = $3, \"updated_at\" = $4, \"dal_change_stamp\" = $5, \"dal_changed_by\" = $6, \"dal_change_note\" = $7 WHERE \"id\" = $8 AND \"version\" = $9"
        );
        assert_eq!(
            sql.select_by_id,
            "SELECT \"id\", \"email\", \"name\", \"version\", \"created_at\" FROM \"users\" WHERE \"id\" = $1 AND \"deleted_at\" IS NULL"
        );
        assert_eq!(
            sql.soft_delete,
            "UPDATE \"users\" SET \"deleted_at\" = $1, \"updated_at\" = $2, \"version\" = \"version\" + 1, \"dal_change_stamp\" = $3, \"dal_changed_by\" = $4, \"dal_change_note\" = $5 WHERE \"id\" = $6 AND \"deleted_at\" IS NULL"
        );
        assert_eq!(
            sql.history_insert,
            "INSERT INTO \"users_history\" (\"history_version\", \"history_operation\", \"history_actor\", \"history_comment\", \"history_at\", \"id\", \"email\", \"name\", \"version\", \"created_at\", \"updated_at\", \"deleted_at\") SELECT (SELECT COALESCE(MAX(h.\"history_version\"), 0) + 1 FROM \"users_history\" h WHERE h.\"id\" = t.\"id\"), $1, $2, $3, $4, t.\"id\", t.\"email\", t.\"name\", t.\"version\", t.\"created_at\", t.\"updated_at\", t.\"deleted_at\" FROM \"users\" t WHERE t.\"id\" = $5"
        );
    }

    #[test]
    fn history_triggers_per_dialect() {
        let shape = users();
        let pg = history_triggers(&shape, Dialect::Postgres);
        assert_eq!(pg.len(), 3);
        assert!(pg[0].starts_with("CREATE OR REPLACE FUNCTION \"users_dal_history\"() RETURNS trigger LANGUAGE plpgsql AS $dal$"), "{}", pg[0]);
        assert!(
            pg[0].contains("ELSIF (OLD.\"id\", OLD.\"email\""),
            "{}",
            pg[0]
        );
        assert!(pg[0].contains(
            "CASE WHEN OLD.\"deleted_at\" IS NULL AND NEW.\"deleted_at\" IS NOT NULL THEN 'delete'"
        ));
        assert!(pg[0].contains("CASE WHEN OLD.\"dal_change_stamp\" IS NOT DISTINCT FROM NEW.\"dal_change_stamp\" THEN NULL ELSE NEW.\"dal_changed_by\" END"));
        assert!(
            !pg[0].contains("OLD.\"dal_changed_by\" IS NOT DISTINCT"),
            "audit columns are not compared"
        );
        assert_eq!(
            pg[2],
            "CREATE TRIGGER \"users_dal_history\" AFTER INSERT OR UPDATE ON \"users\" FOR EACH ROW EXECUTE FUNCTION \"users_dal_history\"()"
        );
        let my = history_triggers(&shape, Dialect::MySql);
        assert_eq!(my.len(), 4);
        assert!(my[2].starts_with("CREATE TRIGGER `users_dal_history_insert` AFTER INSERT ON `users` FOR EACH ROW INSERT INTO `users_history`"));
        assert!(
            my[3].contains("BEGIN IF NOT (OLD.`id` <=> NEW.`id` AND "),
            "{}",
            my[3]
        );
        let lite = history_triggers(&shape, Dialect::Sqlite);
        assert!(
            lite[3].contains("WHEN NOT (OLD.\"id\" IS NEW.\"id\" AND "),
            "{}",
            lite[3]
        );
        assert!(lite[2].contains("strftime('%Y-%m-%d %H:%M:%f', 'now')"));
        assert_eq!(drop_history_triggers("users", Dialect::Postgres).len(), 2);
    }

    #[test]
    fn mysql_upsert_depends_on_other_unique_keys() {
        let mut shape = users();
        let sql = entity_sql(&shape, Dialect::MySql);
        assert!(
            sql.upsert
                .contains("ON DUPLICATE KEY UPDATE `email` = VALUES(`email`)")
        );
        assert!(!sql.insert_generated_id.contains("RETURNING"));
        shape.other_unique_keys = true;
        assert!(entity_sql(&shape, Dialect::MySql).upsert.is_empty());
        assert!(!entity_sql(&shape, Dialect::Postgres).upsert.is_empty());
    }

    #[test]
    fn without_version_or_history() {
        let mut shape = users();
        shape
            .columns
            .retain(|c| c.role != ColumnRole::Version && !c.role.is_audit());
        shape.history = false;
        let sql = entity_sql(&shape, Dialect::Sqlite);
        assert!(sql.update_versioned.is_empty());
        assert!(sql.history_insert.is_empty());
        assert!(!sql.insert.contains("dal_change"));
    }

    #[test]
    fn bulk_statements() {
        let shape = users();
        let ins = insert_many(&shape, Dialect::Postgres, 2, false, false);
        assert_eq!(
            ins,
            "INSERT INTO \"users\" (\"email\", \"name\", \"version\", \"created_at\", \"updated_at\", \"dal_change_stamp\", \"dal_changed_by\", \"dal_change_note\") VALUES ($1, $2, $3, $4, $5, $6, $7, $8), ($9, $10, $11, $12, $13, $14, $15, $16) RETURNING \"id\""
        );
        let up = insert_many(&shape, Dialect::MySql, 2, true, true);
        assert!(up.contains("ON DUPLICATE KEY UPDATE `email` = VALUES(`email`), `name` = VALUES(`name`), `version` = VALUES(`version`), `updated_at` = VALUES(`updated_at`)"), "{up}");
        let h = history_insert_many(&shape, Dialect::Sqlite, 3);
        assert!(h.ends_with("WHERE t.\"id\" IN (?, ?, ?)"), "{h}");
    }
}
