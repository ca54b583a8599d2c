//! `dal generate entities`: one `#[derive(Entity)]` module per table of a live
//! database, from [`dal::Db::introspect`].
//!
//! The work is split in two: [`render`] turns an introspected [`Schema`] into
//! file contents (pure, testable without a database), and
//! [`generate_entities`] introspects, renders and writes the files.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use dal::schema::entity::audit_columns;
use dal::schema::is_valid_identifier;
use dal::{ColumnType, DefaultValue, Dialect, ReferentialAction, Schema, Table};

use crate::names::{camel_ident, singular, snake_ident};

/// What to generate and where.
#[derive(Debug, Clone)]
pub struct GenerateOptions {
    /// The directory that receives `mod.rs` and one `<table>.rs` per table.
    pub out: PathBuf,
    /// Only these tables (every table, but dal's own and history tables, when empty).
    pub tables: Vec<String>,
    /// Overwrite files that exist already.
    pub force: bool,
}

/// One file to write, relative to the output directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// File name (`mod.rs`, `users.rs`, ...).
    pub name: String,
    /// Its Rust source.
    pub contents: String,
}

/// The result of a generation.
#[derive(Debug, Clone, Default)]
pub struct Generated {
    /// `mod.rs` first, then one file per table.
    pub files: Vec<GeneratedFile>,
    /// `(table, struct)` of every entity generated.
    pub entities: Vec<(String, String)>,
    /// `(table, why)` of every table written without an entity.
    pub skipped: Vec<(String, String)>,
}

/// Why a generation failed.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// The database could not be read.
    #[error("cannot read the database schema: {0}")]
    Database(#[from] dal::Error),
    /// A file could not be written.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A file exists and `force` was not given.
    #[error("{0} exists already: pass --force to overwrite it")]
    Exists(PathBuf),
    /// `tables` named a table the database does not have.
    #[error("no table named {0:?} in the database")]
    UnknownTable(String),
}

/// True for the tables `dal generate entities` leaves out unless named: dal's
/// own (`dal_migrations`, `dal_dynamic_fields`, rebuild leftovers) and history
/// tables (`*_history`, written by `#[dal(history)]` entities).
pub fn skipped_by_default(table: &str) -> bool {
    table.starts_with("dal_") || table.starts_with("_dal_") || table.ends_with("_history")
}

/// Introspect `db`, render the entities and write them to `options.out`.
///
/// ```no_run
/// # async fn run() -> Result<(), dal_cli::generate::GenerateError> {
/// let db = dal::Db::connect_url("sqlite://app.db").await?;
/// let options = dal_cli::generate::GenerateOptions {
///     out: "src/entities".into(),
///     tables: vec![],
///     force: false,
/// };
/// let generated = dal_cli::generate::generate_entities(&db, &options).await?;
/// println!("{} entities", generated.entities.len());
/// # Ok(()) }
/// ```
pub async fn generate_entities(
    db: &dal::Db,
    options: &GenerateOptions,
) -> Result<Generated, GenerateError> {
    let schema = db.introspect().await?;
    for t in &options.tables {
        if schema.table(t).is_none() {
            return Err(GenerateError::UnknownTable(t.clone()));
        }
    }
    let generated = render(&schema, db.dialect(), &options.tables);
    write_files(&generated, &options.out, options.force)?;
    Ok(generated)
}

/// Write `generated` into `dir` (created when missing). Without `force`,
/// nothing is written when any of the files exists.
pub fn write_files(generated: &Generated, dir: &Path, force: bool) -> Result<(), GenerateError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| GenerateError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    if !force {
        for f in &generated.files {
            let path = dir.join(&f.name);
            if path.exists() {
                return Err(GenerateError::Exists(path));
            }
        }
    }
    for f in &generated.files {
        let path = dir.join(&f.name);
        std::fs::write(&path, &f.contents).map_err(io(&path))?;
    }
    Ok(())
}

/// The Rust type of a key or column, without `Option`.
fn rust_type(ty: &ColumnType) -> String {
    match ty {
        ColumnType::SmallInteger => "i16".into(),
        ColumnType::Integer => "i32".into(),
        ColumnType::BigInteger => "i64".into(),
        ColumnType::UnsignedInteger => "u32".into(),
        ColumnType::UnsignedBigInteger => "u64".into(),
        ColumnType::Boolean => "bool".into(),
        ColumnType::Float => "f32".into(),
        ColumnType::Double => "f64".into(),
        ColumnType::Decimal { .. } => "rust_decimal::Decimal".into(),
        ColumnType::String { .. } | ColumnType::Text => "String".into(),
        ColumnType::Date => "chrono::NaiveDate".into(),
        ColumnType::Time => "chrono::NaiveTime".into(),
        ColumnType::Timestamp => "chrono::NaiveDateTime".into(),
        ColumnType::TimestampTz => "chrono::DateTime<chrono::Utc>".into(),
        ColumnType::Uuid => "uuid::Uuid".into(),
        ColumnType::Json => "serde_json::Value".into(),
        ColumnType::Binary => "Vec<u8>".into(),
        // replaced by the generated enum's name
        ColumnType::Enumeration { .. } => "String".into(),
        ColumnType::Array { element } => format!("Vec<{}>", rust_type(element)),
    }
}

/// Key types an entity's `#[dal(id)]` can have.
fn is_key_type(ty: &ColumnType) -> bool {
    matches!(
        ty,
        ColumnType::SmallInteger
            | ColumnType::Integer
            | ColumnType::BigInteger
            | ColumnType::UnsignedInteger
            | ColumnType::UnsignedBigInteger
            | ColumnType::Uuid
            | ColumnType::String { .. }
            | ColumnType::Text
    )
}

/// The spelling `on_delete = ".."` takes, when the action is worth writing.
fn action_name(a: ReferentialAction, dialect: Dialect) -> Option<&'static str> {
    match a {
        ReferentialAction::Cascade => Some("cascade"),
        ReferentialAction::SetNull => Some("set_null"),
        ReferentialAction::SetDefault => Some("set_default"),
        // InnoDB reports an omitted action as RESTRICT: the same as NO ACTION there
        ReferentialAction::Restrict if dialect != Dialect::MySql => Some("restrict"),
        _ => None,
    }
}

/// A Rust string literal.
fn lit(s: &str) -> String {
    format!("{s:?}")
}

/// A floating-point literal that reads back as a float (`1` is `1.0`).
fn float_lit(f: f64) -> String {
    let s = format!("{f:?}");
    if s.contains(['.', 'e', 'E']) {
        s
    } else {
        format!("{s}.0")
    }
}

/// What one table becomes.
struct Plan<'s> {
    table: &'s Table,
    module: String,
    /// The struct's name; `None` when the table cannot be an entity.
    entity: Option<String>,
    skip_reason: Option<String>,
    /// Field names by column name.
    fields: BTreeMap<String, String>,
    /// Relations declared on this entity (`has_many(..)`/`has_one(..)`).
    parent_relations: Vec<String>,
    /// Names used by fields and relations (column handles and relation
    /// constants share the entity's associated-constant namespace).
    used_names: BTreeSet<String>,
    /// Sibling types the file names.
    imports: BTreeSet<String>,
}

/// How a foreign-key column is written.
enum KeyKind {
    /// `belongs_to = Parent` with the relation's name (`None`: the default).
    BelongsTo {
        parent: String,
        relation: Option<String>,
    },
    References,
}

/// Render the entities of `schema` (introspected from a `dialect` database).
///
/// `tables` limits the output to those tables; when empty every table is
/// rendered but dal's own and history tables ([`skipped_by_default`]).
///
/// ```
/// use dal::{Dialect, Schema, Table};
/// let mut schema = Schema::new();
/// schema.tables.push(Table::build("users", |t| { t.id(); t.string("email", 120).unique(); }));
/// let out = dal_cli::generate::render(&schema, Dialect::Sqlite, &[]);
/// assert_eq!(out.entities, [("users".to_string(), "User".to_string())]);
/// assert!(out.files[1].contents.contains("#[dal(length = 120, unique)]"));
/// ```
pub fn render(schema: &Schema, dialect: Dialect, tables: &[String]) -> Generated {
    let selected: Vec<&Table> = schema
        .tables
        .iter()
        .filter(|t| {
            if tables.is_empty() {
                !skipped_by_default(&t.name)
            } else {
                tables.contains(&t.name)
            }
        })
        .collect();

    // names: modules and structs, unique within the output
    let mut plans: Vec<Plan<'_>> = Vec::new();
    let mut type_names: BTreeSet<String> = BTreeSet::new();
    let mut modules: BTreeSet<String> = BTreeSet::from(["mod".to_string()]);
    for table in &selected {
        let mut module = snake_ident(&table.name);
        while !modules.insert(module.clone()) {
            module.push('_');
        }
        let mut name = camel_ident(&singular(&snake_ident(&table.name)));
        if type_names.contains(&name) {
            name = camel_ident(&table.name);
        }
        while !type_names.insert(name.clone()) {
            name.push('_');
        }
        let mut plan = Plan {
            table,
            module,
            entity: Some(name),
            skip_reason: None,
            fields: BTreeMap::new(),
            parent_relations: Vec::new(),
            used_names: BTreeSet::new(),
            imports: BTreeSet::new(),
        };
        plan.skip_reason = entity_problem(table);
        if plan.skip_reason.is_some() {
            plan.entity = None;
        }
        let mut used: BTreeSet<String> = BTreeSet::new();
        for c in &table.columns {
            let mut f = snake_ident(&c.name);
            while !used.insert(f.clone()) {
                f.push('_');
            }
            plan.fields.insert(c.name.clone(), f);
        }
        plan.used_names = used;
        plans.push(plan);
    }
    let by_table: HashMap<String, usize> = plans
        .iter()
        .enumerate()
        .map(|(i, p)| (p.table.name.clone(), i))
        .collect();

    // relations: a belongs-to on the child, a has-many / has-one on the parent
    let mut keys: HashMap<(usize, String), KeyKind> = HashMap::new();
    for ci in 0..plans.len() {
        let Some(child) = plans[ci].entity.clone() else {
            continue;
        };
        let table = plans[ci].table;
        for fk in &table.foreign_keys {
            let [column] = fk.columns.as_slice() else {
                continue;
            };
            let [target] = fk.references_columns.as_slice() else {
                continue;
            };
            let parent = by_table.get(&fk.references_table).copied();
            let belongs = parent.filter(|&pi| {
                let p = &plans[pi];
                pi != ci
                    && p.entity.is_some()
                    && p.table.primary_key == [target.clone()]
                    && same_key_type(table, column, p.table, target)
            });
            let Some(pi) = belongs else {
                keys.insert((ci, column.clone()), KeyKind::References);
                continue;
            };
            let parent_name = plans[pi].entity.clone().unwrap_or_default();
            let field = plans[ci].fields[column].clone();
            // the relation: the field without `_id`, unless that is taken
            let base = match field.strip_suffix("_id") {
                Some(n) if !n.is_empty() && !n.ends_with('_') => n.to_string(),
                _ => format!("{field}_rel"),
            };
            let mut relation = base.clone();
            while crate::names::is_keyword(&relation) || plans[ci].used_names.contains(&relation) {
                relation.push_str("_rel");
            }
            plans[ci].used_names.insert(relation.clone());
            let explicit = (relation != base || !field.ends_with("_id")).then(|| relation.clone());
            keys.insert(
                (ci, column.clone()),
                KeyKind::BelongsTo {
                    parent: parent_name.clone(),
                    relation: explicit,
                },
            );
            plans[ci].imports.insert(parent_name);
            // the parent's side
            let unique = table.column(column).is_some_and(|c| c.unique)
                || table
                    .all_indexes()
                    .iter()
                    .any(|i| i.unique && i.columns == [column.clone()]);
            let mut name = if unique {
                snake_ident(&singular(&snake_ident(&table.name)))
            } else {
                snake_ident(&table.name)
            };
            if plans[pi].used_names.contains(&name) || name.ends_with('_') {
                name = format!("{}_by_{relation}", name.trim_end_matches('_'));
            }
            while plans[pi].used_names.contains(&name) {
                name.push_str("_rel");
            }
            plans[pi].used_names.insert(name.clone());
            let kind = if unique { "has_one" } else { "has_many" };
            plans[pi].parent_relations.push(format!(
                "{kind}({name} = {child}::{})",
                relation.to_uppercase()
            ));
            if pi != ci {
                plans[pi].imports.insert(child.clone());
            }
        }
    }

    let mut out = Generated::default();
    let mut mod_rs = String::new();
    let _ = writeln!(
        mod_rs,
        "//! Entities generated by `dal generate entities` from a {} database.\n//!\n\
         //! One module per table. Review them: names, relations and defaults are\n\
         //! guesses from the schema (see each file).\n",
        dialect_name(dialect)
    );
    for p in &plans {
        let _ = writeln!(mod_rs, "pub mod {};", p.module);
    }
    mod_rs.push('\n');
    let mut files = Vec::new();
    for (i, p) in plans.iter().enumerate() {
        let (contents, exported) = render_table(p, i, &keys, dialect);
        if !exported.is_empty() {
            let _ = writeln!(mod_rs, "pub use {}::{{{}}};", p.module, exported.join(", "));
        }
        match &p.entity {
            Some(e) => out.entities.push((p.table.name.clone(), e.clone())),
            None => out.skipped.push((
                p.table.name.clone(),
                p.skip_reason.clone().unwrap_or_default(),
            )),
        }
        files.push(GeneratedFile {
            name: format!("{}.rs", p.module),
            contents,
        });
    }
    out.files.push(GeneratedFile {
        name: "mod.rs".into(),
        contents: mod_rs,
    });
    out.files.extend(files);
    out
}

fn dialect_name(d: Dialect) -> &'static str {
    match d {
        Dialect::Postgres => "PostgreSQL",
        Dialect::MySql => "MySQL/MariaDB",
        Dialect::Sqlite => "SQLite",
    }
}

/// Whether a foreign-key column holds the same Rust type as the key it
/// references (the derive refuses a belongs-to otherwise).
fn same_key_type(child: &Table, column: &str, parent: &Table, target: &str) -> bool {
    match (child.column(column), parent.column(target)) {
        (Some(c), Some(p)) => rust_type(&c.ty) == rust_type(&p.ty),
        _ => false,
    }
}

/// Why `table` cannot be an entity, if it cannot.
fn entity_problem(table: &Table) -> Option<String> {
    let [pk] = table.primary_key.as_slice() else {
        return Some(if table.primary_key.is_empty() {
            "it has no primary key, and an entity needs a single-column one".into()
        } else {
            format!(
                "its primary key has {} columns ({}), and an entity needs a single-column one",
                table.primary_key.len(),
                table.primary_key.join(", ")
            )
        });
    };
    let column = table.column(pk)?;
    if !is_key_type(&column.ty) || column.nullable {
        return Some(format!(
            "its key `{pk}` is {}{}, and an entity key is an integer, a UUID or a string",
            if column.nullable { "a nullable " } else { "" },
            column.ty
        ));
    }
    if !is_valid_identifier(&table.name) {
        return Some(format!(
            "its name is not one the derive accepts (1 to 63 ASCII letters, digits or `_`): {:?}",
            table.name
        ));
    }
    if let Some(c) = table.columns.iter().find(|c| !is_valid_identifier(&c.name)) {
        return Some(format!(
            "its column {:?} has a name the derive cannot map (1 to 63 ASCII letters, digits or `_`)",
            c.name
        ));
    }
    None
}

/// The source of one table's module and the names it exports.
fn render_table(
    p: &Plan<'_>,
    index: usize,
    keys: &HashMap<(usize, String), KeyKind>,
    dialect: Dialect,
) -> (String, Vec<String>) {
    let t = p.table;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "//! `{}`: generated by `dal generate entities` from a {} database.\n",
        t.name,
        dialect_name(dialect)
    );
    let Some(name) = &p.entity else {
        let _ = writeln!(
            s,
            "// No entity for `{}`: {}.\n//\n\
             // Read and write it with SQL (`db.fetch_all_as::<(..), _>(\"SELECT .. FROM [{}]\", ())`),\n\
             // or give it a single-column primary key and run the generator again.\n//\n\
             // Columns:",
            t.name,
            p.skip_reason.as_deref().unwrap_or("it cannot be mapped"),
            t.name
        );
        for c in &t.columns {
            let _ = writeln!(
                s,
                "//   {} {}{}",
                c.name,
                c.ty,
                if c.nullable { " NULL" } else { "" }
            );
        }
        return (s, Vec::new());
    };
    let history = [
        audit_columns::STAMP,
        audit_columns::ACTOR,
        audit_columns::NOTE,
    ]
    .iter()
    .all(|c| t.column(c).is_some());
    let mut exported = vec![name.clone()];

    if !p.imports.is_empty() {
        let names: Vec<&str> = p.imports.iter().map(String::as_str).collect();
        if let [one] = names.as_slice() {
            let _ = writeln!(s, "use super::{one};\n");
        } else {
            let _ = writeln!(s, "use super::{{{}}};\n", names.join(", "));
        }
    }

    // enums first
    let mut enum_names: HashMap<String, String> = HashMap::new();
    for c in &t.columns {
        let ColumnType::Enumeration { variants } = &c.ty else {
            continue;
        };
        let enum_name = format!("{name}{}", camel_ident(&p.fields[&c.name]));
        let _ = writeln!(
            s,
            "/// The values of `{}.{}`.\n#[derive(dal::DbEnum, Debug, Clone, Copy, PartialEq, Eq)]\npub enum {enum_name} {{",
            t.name, c.name
        );
        let mut used = BTreeSet::new();
        for v in variants {
            let mut variant = camel_ident(v);
            while !used.insert(variant.clone()) {
                variant.push('_');
            }
            let _ = writeln!(s, "    #[dal(rename = {})]\n    {variant},", lit(v));
        }
        s.push_str("}\n\n");
        enum_names.insert(c.name.clone(), enum_name.clone());
        exported.push(enum_name);
    }

    // struct attributes
    let mut attrs = vec![format!("table = {}", lit(&t.name))];
    if history {
        attrs.push("history".into());
    }
    if let Some(collation) = &t.collation {
        attrs.push(format!("collation = {}", lit(collation)));
    }
    attrs.extend(p.parent_relations.iter().cloned());
    let _ = writeln!(s, "/// A row of `{}`.", t.name);
    let multi: Vec<String> = t
        .indexes
        .iter()
        .filter(|i| i.columns.len() > 1)
        .map(|i| {
            format!(
                "{}index `{}` ({})",
                if i.unique { "unique " } else { "" },
                i.name,
                i.columns.join(", ")
            )
        })
        .chain(
            t.checks
                .iter()
                .map(|c| format!("check `{}`: {}", c.name, c.expression)),
        )
        .chain(
            t.foreign_keys
                .iter()
                .filter(|f| f.columns.len() > 1)
                .map(|f| {
                    format!(
                        "foreign key `{}` ({}) -> {}({})",
                        f.name,
                        f.columns.join(", "),
                        f.references_table,
                        f.references_columns.join(", ")
                    )
                }),
        )
        .collect();
    if !multi.is_empty() {
        s.push_str(
            "///\n/// Kept by the database, not declared here (the derive has no form for them):\n",
        );
        for m in &multi {
            let _ = writeln!(s, "/// - {m}");
        }
    }
    let _ = writeln!(
        s,
        "#[derive(dal::Entity, Debug, Clone)]\n#[dal({})]\npub struct {name} {{",
        attrs.join(", ")
    );

    let pk = &t.primary_key[0];
    let indexed: BTreeSet<&str> = t
        .indexes
        .iter()
        .filter(|i| !i.unique && i.columns.len() == 1)
        .map(|i| i.columns[0].as_str())
        .collect();
    let unique_indexed: BTreeSet<&str> = t
        .indexes
        .iter()
        .filter(|i| i.unique && i.columns.len() == 1)
        .map(|i| i.columns[0].as_str())
        .collect();
    for c in &t.columns {
        if history
            && [
                audit_columns::STAMP,
                audit_columns::ACTOR,
                audit_columns::NOTE,
            ]
            .contains(&c.name.as_str())
        {
            continue;
        }
        let field = &p.fields[&c.name];
        let is_id = &c.name == pk;
        let mut a: Vec<String> = Vec::new();
        let mut notes: Vec<String> = Vec::new();
        if is_id {
            a.push("id".into());
            if !c.auto_increment && c.ty.is_integer() {
                notes.push(
                    "the server does not generate this key: set it before the first save".into(),
                );
            }
        }
        if field != &c.name {
            a.push(format!("rename = {}", lit(&c.name)));
        }
        match &c.ty {
            ColumnType::String { length } => a.push(format!("length = {length}")),
            ColumnType::Decimal { precision, scale } => {
                a.push(format!("precision = {precision}, scale = {scale}"))
            }
            _ => {}
        }
        // the derive indexes no TEXT, JSON, binary or array column (MySQL cannot)
        let indexable = !matches!(
            c.ty,
            ColumnType::Text | ColumnType::Json | ColumnType::Binary | ColumnType::Array { .. }
        );
        let unique = c.unique || unique_indexed.contains(c.name.as_str());
        let plain_index = indexed.contains(c.name.as_str());
        if !is_id && indexable && unique {
            a.push("unique".into());
        }
        // a belongs-to indexes its column itself
        let belongs_to = matches!(
            keys.get(&(index, c.name.clone())),
            Some(KeyKind::BelongsTo { .. })
        );
        if !is_id && indexable && plain_index && !belongs_to {
            a.push("index".into());
        }
        if !is_id && !indexable && (unique || plain_index) {
            notes.push(format!(
                "the database has a {} index on this {} column, which the derive cannot declare",
                if unique { "unique" } else { "plain" },
                c.ty
            ));
        }
        if let Some(d) = &c.default
            && !is_id
        {
            match default_attr(&c.ty, d) {
                Some(v) => a.push(format!("default = {v}")),
                None => notes.push(format!("the database default is {d}")),
            }
        }
        if let Some(fk) = t
            .foreign_keys
            .iter()
            .find(|f| f.columns.len() == 1 && f.columns[0] == c.name)
        {
            match keys.get(&(index, c.name.clone())) {
                Some(KeyKind::BelongsTo { parent, relation }) => {
                    a.push(format!("belongs_to = {parent}"));
                    if let Some(r) = relation {
                        a.push(format!("relation = {}", lit(r)));
                    }
                }
                _ => a.push(format!(
                    "references = {}",
                    lit(&format!(
                        "{}.{}",
                        fk.references_table,
                        fk.references_columns.join(",")
                    ))
                )),
            }
            if let Some(action) = action_name(fk.on_delete, dialect) {
                a.push(format!("on_delete = {}", lit(action)));
            }
            if let Some(action) = action_name(fk.on_update, dialect) {
                a.push(format!("on_update = {}", lit(action)));
            }
        }
        let mut ty = match enum_names.get(&c.name) {
            Some(e) => e.clone(),
            None => rust_type(&c.ty),
        };
        if c.nullable && !is_id {
            ty = format!("Option<{ty}>");
        }
        for n in &notes {
            let _ = writeln!(s, "    // {n}");
        }
        if !a.is_empty() {
            let _ = writeln!(s, "    #[dal({})]", a.join(", "));
        }
        let _ = writeln!(s, "    pub {field}: {ty},");
    }
    s.push_str("}\n");
    (s, exported)
}

/// `#[dal(default = ..)]` for a literal default the derive takes on this
/// column; `None` for the others (expressions, current time, ...).
fn default_attr(ty: &ColumnType, d: &DefaultValue) -> Option<String> {
    match (ty, d) {
        (ColumnType::Boolean, DefaultValue::Bool(b)) => Some(b.to_string()),
        (ColumnType::Boolean, DefaultValue::Integer(i @ (0 | 1))) => Some((*i == 1).to_string()),
        (t, DefaultValue::Integer(i)) if t.is_integer() => Some(i.to_string()),
        (ColumnType::Float | ColumnType::Double, DefaultValue::Float(f)) if f.is_finite() => {
            Some(float_lit(*f))
        }
        (ColumnType::Float | ColumnType::Double, DefaultValue::Integer(i)) => {
            Some(float_lit(*i as f64))
        }
        (
            ColumnType::String { .. } | ColumnType::Text | ColumnType::Enumeration { .. },
            DefaultValue::String(v),
        ) => Some(lit(v)),
        _ => None,
    }
}
