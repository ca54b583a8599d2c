//! Lowering a column: its type and arguments, its modifiers, its default and
//! its foreign key, each checked on its own token.

use super::*;

impl Lowerer {
    // --- columns ------------------------------------------------------------

    /// Lower a column definition (in `create`, or after `add` in `alter`).
    pub(super) fn column(
        &mut self,
        table: &str,
        def: &ColumnDef,
        spans: &mut TableSpans,
        in_alter: bool,
    ) -> Option<(ColumnModel, Option<PendingForeignKey>)> {
        let kind_name = def.kind.unraw().to_string();
        let call = Loc(def.kind.span(), def.call_end());
        let Some(kind_index) = KINDS.iter().position(|k| *k == kind_name) else {
            let message = match did_you_mean(&kind_name, KINDS.iter().chain(TABLE_ITEMS).copied())
                .or_else(|| {
                    KIND_ALIASES
                        .iter()
                        .find(|(a, _)| a.eq_ignore_ascii_case(&kind_name))
                        .map(|(_, k)| *k)
                }) {
                Some(s) => format!("unknown column type `{kind_name}`: did you mean `{s}`?"),
                None => format!(
                    "unknown column type `{kind_name}`; column types are: {}; table items are: {}",
                    KINDS.join(", "),
                    TABLE_ITEMS.join(", ")
                ),
            };
            self.error(def.kind.span(), message);
            return None;
        };
        let kind_name = KINDS[kind_index];
        let is_id = matches!(kind_name, "id" | "uuid_id");
        if in_alter && is_id {
            self.error_at(
                call,
                format!("`{kind_name}()` declares a primary key, which `alter` cannot add to an existing table; add a plain column instead"),
            );
            return None;
        }
        let (name, explicit_name) = match &def.name {
            Some(n) => {
                self.check_ident("column", n);
                (n.value(), true)
            }
            None if is_id => ("id".to_string(), false),
            None => {
                let hint = if kind_name == "timestamp" {
                    " (for `created_at` and `updated_at`, write `timestamps()`)"
                } else {
                    ""
                };
                self.error_at(
                    call,
                    format!(
                        "`{kind_name}` needs a column name first: {}{hint}",
                        kind_usage(kind_name)
                    ),
                );
                return None;
            }
        };
        let kind = self.kind_args(kind_name, def, call)?;
        let name_loc = match &def.name {
            Some(n) => Loc::at(n.span()),
            None => Loc::at(def.kind.span()),
        };
        let mut s = ColumnSpans::new(name_loc);
        if kind == ColumnKind::Id {
            s.auto_increment = Some(call);
        }

        let Modifiers {
            list: modifiers,
            references,
            on_delete,
            on_update,
            fk_name,
            external,
            default,
        } = self.modifiers(table, &name, def, in_alter, &mut s, spans);

        let column_type = kind.column_type();
        if let Some((value, loc)) = &default
            && let Some(problem) = default_mismatch(&kind, &name, value)
        {
            spans.default_reported.push(name.clone());
            self.error_at(*loc, problem);
        }

        let mut pending = None;
        let foreign = references.map(|(m, target, column)| {
            let at = Loc(m.name.span(), m.close);
            let fk = ForeignModel {
                table: target.value(),
                column: column.as_ref().map(Name::value),
                on_delete,
                on_update,
                name: fk_name.clone(),
                external,
            };
            let constraint = fk_name
                .clone()
                .unwrap_or_else(|| names::foreign_key(table, std::slice::from_ref(&name)));
            spans.items.push((constraint, at));
            pending = Some(PendingForeignKey {
                column: name.clone(),
                column_type: column_type.clone(),
                table: target,
                target_column: column,
                external,
                at,
            });
            fk
        });
        spans.columns.push((name.clone(), s));
        Some((
            ColumnModel {
                kind,
                name,
                explicit_name,
                modifiers,
                foreign,
            },
            pending,
        ))
    }

    /// The modifiers of a column, checked: each one known, given once, with
    /// the right arguments; the foreign-key ones only with `.references(..)`.
    pub(super) fn modifiers<'d>(
        &mut self,
        table: &str,
        name: &str,
        def: &'d ColumnDef,
        in_alter: bool,
        s: &mut ColumnSpans,
        spans: &mut TableSpans,
    ) -> Modifiers<'d> {
        let mut modifiers = Vec::new();
        let mut seen: Vec<String> = Vec::new();
        let mut references: Option<(&Modifier, Name, Option<Name>)> = None;
        let mut on_delete = None;
        let mut on_update = None;
        let mut fk_name = None;
        let mut external = false;
        let mut fk_modifiers: Vec<&Modifier> = Vec::new();
        let mut default: Option<(DefaultValue, Loc)> = None;
        for m in &def.modifiers {
            let m_name = m.name.unraw().to_string();
            let at = Loc(m.name.span(), m.close);
            let Some(m_index) = MODIFIERS.iter().position(|k| *k == m_name) else {
                let close = did_you_mean(&m_name, MODIFIERS.iter().copied()).or_else(|| {
                    MODIFIER_ALIASES
                        .iter()
                        .find(|(a, _)| a.eq_ignore_ascii_case(&m_name))
                        .map(|(_, k)| *k)
                });
                let message = match close {
                    Some(s) => format!("unknown modifier `.{m_name}()`: did you mean `.{s}()`?"),
                    None => format!(
                        "unknown modifier `.{m_name}()`; modifiers are: {}",
                        MODIFIERS
                            .iter()
                            .map(|m| format!(".{m}()"))
                            .collect::<Vec<_>>()
                            .join(" ")
                    ),
                };
                self.error(m.name.span(), message);
                continue;
            };
            let m_name = MODIFIERS[m_index];
            if seen.iter().any(|x| x == m_name) {
                self.error_at(at, format!("`.{m_name}()` is given twice"));
                continue;
            }
            if (m_name == "default" && seen.iter().any(|x| x == "use_current"))
                || (m_name == "use_current" && seen.iter().any(|x| x == "default"))
            {
                self.error_at(
                    at,
                    "`.default(..)` and `.use_current()` both set the default; keep one",
                );
                continue;
            }
            seen.push(m_name.to_string());
            if in_alter && matches!(m_name, "primary" | "auto_increment") {
                self.error_at(
                    at,
                    format!("`.{m_name}()` cannot be added by `alter`: dal does not change a table's primary key in place"),
                );
                continue;
            }
            match m_name {
                "nullable" | "use_current" | "unique" | "index" | "auto_increment" | "primary"
                | "external" => {
                    if let Some(extra) = m.args.first() {
                        self.error(extra.span(), format!("`.{m_name}()` takes no arguments"));
                        continue;
                    }
                    match m_name {
                        "nullable" => {
                            s.nullable = Some(at);
                            modifiers.push(ColumnModifier::Nullable);
                        }
                        "use_current" => {
                            s.default = Some(at);
                            modifiers.push(ColumnModifier::UseCurrent);
                        }
                        "unique" => {
                            s.unique = Some(at);
                            modifiers.push(ColumnModifier::Unique);
                        }
                        "index" => {
                            spans
                                .items
                                .push((names::index(table, &[name.to_string()]), at));
                            modifiers.push(ColumnModifier::Index);
                        }
                        "auto_increment" => {
                            s.auto_increment = Some(at);
                            modifiers.push(ColumnModifier::AutoIncrement);
                        }
                        "primary" => modifiers.push(ColumnModifier::Primary),
                        _ => {
                            external = true;
                            fk_modifiers.push(m);
                        }
                    }
                }
                "default" => {
                    if m.args.len() != 1 {
                        self.arity(m, "one literal: `.default(0)`, `.default(\"text\")`, `.default(true)` or `.default(null)`");
                        continue;
                    }
                    let arg = &m.args[0];
                    let loc = Loc(arg.span(), arg.end_span());
                    if let Some(v) = self.default_value(arg) {
                        s.default = Some(loc);
                        default = Some((v.clone(), loc));
                        modifiers.push(ColumnModifier::Default(v));
                    }
                }
                "references" => {
                    if m.args.is_empty() || m.args.len() > 2 {
                        self.arity(m, "a table and an optional column: `.references(users)` or `.references(users, id)`");
                        continue;
                    }
                    let mut parts = Vec::new();
                    for a in &m.args {
                        match a.as_name() {
                            Some(n) => parts.push(n),
                            None => self.error(
                                a.span(),
                                "expected a table or column name: `.references(users, id)`",
                            ),
                        }
                    }
                    if parts.len() != m.args.len() {
                        continue;
                    }
                    self.check_ident("table", &parts[0]);
                    if let Some(c) = parts.get(1) {
                        self.check_ident("column", c);
                    }
                    let column = parts.get(1).cloned();
                    references = Some((m, parts.remove(0), column));
                }
                "on_delete" | "on_update" => {
                    fk_modifiers.push(m);
                    if m.args.len() != 1 {
                        self.arity(
                            m,
                            &format!(
                                "one action: `.{m_name}(cascade)`; actions are: {}",
                                action_names()
                            ),
                        );
                        continue;
                    }
                    if let Some(action) = self.action(&m.args[0], m_name) {
                        if action == ReferentialAction::SetNull {
                            s.set_null = Some(Loc::at(m.args[0].span()));
                        }
                        if m_name == "on_delete" {
                            on_delete = Some(action);
                        } else {
                            on_update = Some(action);
                        }
                    }
                }
                _ => {
                    // named
                    fk_modifiers.push(m);
                    match m.args.as_slice() {
                        [Arg::Lit(Lit::Str(n))] => {
                            self.check_ident_str("foreign key", &n.value(), n.span());
                            fk_name = Some(n.value());
                        }
                        _ => self.arity(m, "the foreign key's name as a string: `.named(\"posts_author_foreign\")`"),
                    }
                }
            }
        }
        // foreign-key modifiers need a foreign key
        if references.is_none() {
            for m in &fk_modifiers {
                self.error(
                    m.name.span(),
                    format!(
                        "`.{}()` applies to a foreign key: add `.references(table)` to this column",
                        m.name.unraw()
                    ),
                );
            }
        }

        Modifiers {
            list: modifiers,
            references,
            on_delete,
            on_update,
            fk_name,
            external,
            default,
        }
    }

    /// A wrong number of arguments to a modifier, reported on the call.
    pub(super) fn arity(&mut self, m: &Modifier, takes: &str) {
        let message = format!("`.{}()` takes {takes}", m.name.unraw());
        let at = match m.args.first() {
            Some(a) if m.args.len() > 1 => Loc(
                m.args[1].span(),
                m.args.last().map_or(a.end_span(), Arg::end_span),
            ),
            _ => Loc(m.name.span(), m.close),
        };
        self.error_at(at, message);
    }

    /// The type arguments of a column (`150` of `string(email, 150)`), checked.
    pub(super) fn kind_args(
        &mut self,
        kind: &str,
        def: &ColumnDef,
        call: Loc,
    ) -> Option<ColumnKind> {
        let args = &def.args;
        let too_many = |cx: &mut Lowerer, allowed: usize, takes: &str| {
            if let Some(extra) = args.get(allowed) {
                cx.error_at(
                    Loc(
                        extra.span(),
                        args.last().map_or(extra.end_span(), Arg::end_span),
                    ),
                    format!("`{kind}` takes {takes}: {}", kind_usage(kind)),
                );
                true
            } else {
                false
            }
        };
        use ColumnKind as K;
        Some(match kind {
            "id" | "uuid_id" => {
                if too_many(self, 0, "at most a column name") {
                    return None;
                }
                if kind == "id" { K::Id } else { K::UuidId }
            }
            "string" => {
                if too_many(self, 1, "a column name and an optional length") {
                    return None;
                }
                match args.first() {
                    None => K::String(255),
                    Some(a) => {
                        let length = self.integer_arg(a, "string length")?;
                        if length == 0 || length > u64::from(MAX_STRING_LENGTH) {
                            let hint = if length > 0 {
                                " (use text() for longer values)"
                            } else {
                                ""
                            };
                            self.error(
                                a.span(),
                                format!("string length must be between 1 and {MAX_STRING_LENGTH}, got {length}{hint}"),
                            );
                            K::String(255)
                        } else {
                            K::String(length as u32)
                        }
                    }
                }
            }
            "decimal" => {
                if args.len() < 2 {
                    self.error_at(
                        call,
                        format!(
                            "`decimal` takes a column name, a precision and a scale: {}",
                            kind_usage(kind)
                        ),
                    );
                    return None;
                }
                if too_many(self, 2, "a column name, a precision and a scale") {
                    return None;
                }
                let precision = self.integer_arg(&args[0], "decimal precision")?;
                let scale = self.integer_arg(&args[1], "decimal scale")?;
                let mut p = 10u8;
                if (1..=65).contains(&precision) {
                    p = precision as u8;
                } else {
                    self.error(
                        args[0].span(),
                        format!("decimal precision must be between 1 and 65, got {precision}"),
                    );
                }
                let mut s = 0u8;
                if scale <= 30 && scale <= precision {
                    s = scale.min(u64::from(p)) as u8;
                } else {
                    self.error(
                        args[1].span(),
                        format!("decimal scale must be at most the precision ({precision}) and at most 30, got {scale}"),
                    );
                }
                K::Decimal(p, s)
            }
            "enumeration" => {
                let Some(first) = args.first() else {
                    self.error_at(
                        call,
                        format!(
                            "`enumeration` takes a column name and a list of variants: {}",
                            kind_usage(kind)
                        ),
                    );
                    return None;
                };
                if too_many(self, 1, "a column name and a list of variants") {
                    return None;
                }
                let Arg::List(bracket, items) = first else {
                    self.error(
                        first.span(),
                        format!(
                            "expected the variants as a list of strings: {}",
                            kind_usage(kind)
                        ),
                    );
                    return None;
                };
                if items.is_empty() {
                    self.error(*bracket, "an enumeration needs at least one variant");
                    return None;
                }
                let mut variants: Vec<String> = Vec::new();
                for item in items {
                    match item {
                        Arg::Lit(Lit::Str(v)) => {
                            let value = v.value();
                            if value.is_empty() || value.len() > 255 {
                                self.error(
                                    v.span(),
                                    "an enumeration variant must be 1 to 255 bytes long",
                                );
                            } else if variants.contains(&value) {
                                self.error(
                                    v.span(),
                                    format!("variant \"{value}\" is listed twice"),
                                );
                            } else {
                                variants.push(value);
                            }
                        }
                        other => self.error(other.span(), "expected a variant as a string literal"),
                    }
                }
                if variants.is_empty() {
                    return None;
                }
                K::Enumeration(variants)
            }
            "array" => {
                let Some(first) = args.first() else {
                    self.error_at(
                        call,
                        format!(
                            "`array` takes a column name and an element type: {}",
                            kind_usage(kind)
                        ),
                    );
                    return None;
                };
                let Arg::Ident(element) = first else {
                    self.error(
                        first.span(),
                        format!("expected the element type as a name: {}", kind_usage(kind)),
                    );
                    return None;
                };
                let element_name = element.unraw().to_string();
                if !ARRAY_ELEMENTS.contains(&element_name.as_str()) {
                    let message = if KINDS.contains(&element_name.as_str()) {
                        format!(
                            "`{element_name}` cannot be an array element: an array holds {}; store nested or structured values with `json(name)`",
                            ARRAY_ELEMENTS.join(", ")
                        )
                    } else {
                        unknown_name(
                            "array element type",
                            &element_name,
                            ARRAY_ELEMENTS,
                            KIND_ALIASES,
                        )
                    };
                    self.error(element.span(), message);
                    return None;
                }
                // the element's own arguments follow it: `string, 40`, `decimal, 10, 2`
                let element_def = ColumnDef {
                    kind: element.clone(),
                    close: def.close,
                    name: def.name.clone(),
                    args: args[1..].to_vec(),
                    modifiers: Vec::new(),
                };
                let element_kind = self.kind_args(&element_name, &element_def, call)?;
                K::Array(Box::new(element_kind))
            }
            other => {
                if too_many(self, 0, "only a column name") {
                    return None;
                }
                match other {
                    "text" => K::Text,
                    "small_integer" => K::SmallInteger,
                    "integer" => K::Integer,
                    "big_integer" => K::BigInteger,
                    "unsigned_integer" => K::UnsignedInteger,
                    "unsigned_big_integer" => K::UnsignedBigInteger,
                    "boolean" => K::Boolean,
                    "float" => K::Float,
                    "double" => K::Double,
                    "date" => K::Date,
                    "time" => K::Time,
                    "timestamp" => K::Timestamp,
                    "timestamp_tz" => K::TimestampTz,
                    "uuid" => K::Uuid,
                    "json" => K::Json,
                    "binary" => K::Binary,
                    "foreign_id" => K::ForeignId,
                    _ => K::ForeignUuid,
                }
            }
        })
    }

    /// A non-negative integer literal.
    pub(super) fn integer_arg(&mut self, arg: &Arg, what: &str) -> Option<u64> {
        match arg {
            Arg::Lit(Lit::Int(i)) => match i.base10_parse::<u64>() {
                Ok(v) => Some(v),
                Err(_) => {
                    self.error(i.span(), format!("{what} is too large"));
                    None
                }
            },
            Arg::Neg(minus, _) => {
                self.error(*minus, format!("{what} cannot be negative"));
                None
            }
            other => {
                self.error(other.span(), format!("expected an integer {what}"));
                None
            }
        }
    }

    /// The literal of `.default(..)`.
    pub(super) fn default_value(&mut self, arg: &Arg) -> Option<DefaultValue> {
        let loc = Loc(arg.span(), arg.end_span());
        let number = |lit: &Lit, negative: bool| -> Result<DefaultValue, String> {
            match lit {
                Lit::Int(i) => {
                    let v: i128 = i
                        .base10_parse::<i128>()
                        .map_err(|_| "integer default does not fit in 64 bits".to_string())?;
                    let v = if negative { -v } else { v };
                    i64::try_from(v)
                        .map(DefaultValue::Integer)
                        .map_err(|_| "integer default does not fit in 64 bits".to_string())
                }
                Lit::Float(f) => {
                    let v: f64 = f
                        .base10_parse()
                        .map_err(|e| format!("invalid float default: {e}"))?;
                    if !v.is_finite() {
                        return Err("float default is not a finite number".into());
                    }
                    Ok(DefaultValue::Float(if negative { -v } else { v }))
                }
                _ => Err("only numbers can be negative".into()),
            }
        };
        let result = match arg {
            Arg::Lit(Lit::Bool(b)) => Ok(DefaultValue::Bool(b.value)),
            Arg::Lit(Lit::Str(s)) => Ok(DefaultValue::String(s.value())),
            Arg::Lit(lit @ (Lit::Int(_) | Lit::Float(_))) => number(lit, false),
            Arg::Neg(_, lit) => number(lit, true),
            Arg::Ident(i) if i == "null" => Ok(DefaultValue::Null),
            Arg::Ident(i) if ["NULL", "None", "nil", "Null"].contains(&i.to_string().as_str()) => {
                Err(format!("write `null` for a NULL default, not `{i}`"))
            }
            _ => Err(
                "`.default(..)` takes a literal: an integer, a float, a string, `true`/`false` or `null`".into(),
            ),
        };
        match result {
            Ok(v) => Some(v),
            Err(message) => {
                self.error_at(loc, message);
                None
            }
        }
    }

    /// A referential action of `.on_delete(..)` / `.on_update(..)`.
    pub(super) fn action(&mut self, arg: &Arg, modifier: &str) -> Option<ReferentialAction> {
        let names: Vec<&str> = ACTIONS.iter().map(|(n, _)| *n).collect();
        match arg {
            Arg::Ident(i) => {
                let got = i.unraw().to_string();
                if let Some((_, a)) = ACTIONS.iter().find(|(n, _)| *n == got) {
                    return Some(*a);
                }
                let aliases = [
                    ("null", "set_null"),
                    ("setnull", "set_null"),
                    ("nullify", "set_null"),
                    ("delete", "cascade"),
                    ("none", "no_action"),
                    ("nothing", "no_action"),
                    ("noaction", "no_action"),
                ];
                self.error(
                    i.span(),
                    unknown_name("referential action", &got, &names, &aliases),
                );
                None
            }
            Arg::Lit(Lit::Str(s)) => {
                let value = s.value();
                let hint = match ReferentialAction::parse(&value) {
                    Some(a) => ACTIONS
                        .iter()
                        .find(|(_, x)| *x == a)
                        .map(|(n, _)| format!("`.{modifier}({n})`"))
                        .unwrap_or_default(),
                    None => format!("one of {}", names.join(", ")),
                };
                self.error(
                    s.span(),
                    format!("write the action as a name, without quotes: {hint}"),
                );
                None
            }
            other => {
                self.error(
                    other.span(),
                    format!("expected a referential action: {}", names.join(", ")),
                );
                None
            }
        }
    }

    // --- foreign keys -------------------------------------------------------

    /// A foreign key must reference a table created above in this `schema!` (or
    /// the table itself), and a column of it that exists, has a compatible type
    /// and is unique; `.external()` opts out.
    pub(super) fn check_foreign_key(&mut self, this: Option<&Table>, fk: &PendingForeignKey) {
        if fk.external {
            return;
        }
        let target_name = fk.table.value();
        let target = match this.filter(|t| t.name == target_name) {
            Some(t) => Some(t),
            None => self.tables.get(&target_name),
        };
        let problem: Option<(Loc, String)> = match target {
            None => {
                let mut message = match self.gone.get(&target_name) {
                    Some(what) => format!("table `{target_name}` {what} above in this `schema!`"),
                    None if self.created_below.contains(&target_name) => format!(
                        "table `{target_name}` is created further down in this `schema!`: create it first (PostgreSQL and MySQL check the reference when the table is created)"
                    ),
                    None => format!("table `{target_name}` is not created in this `schema!`"),
                };
                let candidates = self
                    .tables
                    .keys()
                    .map(String::as_str)
                    .chain(this.map(|t| t.name.as_str()));
                if let Some(s) = did_you_mean(&target_name, candidates) {
                    message.push_str(&format!("; did you mean `{s}`?"));
                }
                message.push_str(
                    " (mark the reference `.external()` if the table is managed elsewhere)",
                );
                Some((Loc::at(fk.table.span()), message))
            }
            Some(target) => {
                let column = fk
                    .target_column
                    .as_ref()
                    .map_or_else(|| "id".to_string(), Name::value);
                let at = fk
                    .target_column
                    .as_ref()
                    .map_or(Loc::at(fk.table.span()), |c| Loc::at(c.span()));
                match target.column(&column) {
                    None => {
                        let mut message = format!("table `{target_name}` has no column `{column}`");
                        if fk.target_column.is_none() && target.primary_key.len() == 1 {
                            let pk = &target.primary_key[0];
                            message.push_str(&format!(
                                ": its primary key is `{pk}`, write `.references({target_name}, {pk})`"
                            ));
                        } else {
                            let all: Vec<&str> =
                                target.columns.iter().map(|c| c.name.as_str()).collect();
                            match did_you_mean(&column, all.iter().copied()) {
                                Some(s) => message.push_str(&format!("; did you mean `{s}`?")),
                                None => {
                                    message.push_str(&format!(" (its columns: {})", all.join(", ")))
                                }
                            }
                        }
                        Some((at, message))
                    }
                    Some(tc) => {
                        // the MySQL family refuses keys between signed and unsigned integers
                        let compatible = tc.ty == fk.column_type
                            || (tc.ty.is_integer()
                                && fk.column_type.is_integer()
                                && tc.ty.is_unsigned() == fk.column_type.is_unsigned());
                        let unique = target.primary_key == [column.clone()]
                            || tc.unique
                            || target
                                .indexes
                                .iter()
                                .any(|i| i.unique && i.columns == [column.clone()]);
                        if !compatible {
                            let hint = match &tc.ty {
                                ColumnType::Uuid => {
                                    format!("; declare it with `foreign_uuid({})`", fk.column)
                                }
                                ColumnType::UnsignedBigInteger => {
                                    format!(
                                        "; declare it with `unsigned_big_integer({}).references(..)`",
                                        fk.column
                                    )
                                }
                                ColumnType::UnsignedInteger => {
                                    format!(
                                        "; declare it with `unsigned_integer({}).references(..)`",
                                        fk.column
                                    )
                                }
                                t if t.is_integer() => {
                                    format!("; declare it with `foreign_id({})`", fk.column)
                                }
                                _ => String::new(),
                            };
                            Some((
                                fk.at,
                                format!(
                                    "`{}` is {} but `{target_name}.{column}` is {}: a foreign key needs the same type{hint}",
                                    fk.column, fk.column_type, tc.ty
                                ),
                            ))
                        } else if !unique {
                            Some((
                                at,
                                format!(
                                    "`{target_name}.{column}` is neither the primary key nor unique, so a foreign key cannot reference it (make it `.unique()`)"
                                ),
                            ))
                        } else {
                            None
                        }
                    }
                }
            }
        };
        if let Some((at, message)) = problem {
            self.error_at(at, message);
        }
    }
}
