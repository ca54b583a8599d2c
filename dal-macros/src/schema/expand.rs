//! Code generation: an expression that builds the `Script` at run time through
//! the fluent builder, making exactly the builder calls `lower` made at compile
//! time (so defaults and generated names match). The code names only
//! `::dal::__private` paths, so it compiles whatever the caller's scope shadows.

use dal_schema::{ColumnType, DefaultValue, ReferentialAction};
use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::{format_ident, quote};

use super::lower::{ColumnModel, ColumnModifier, HistoryAction, ItemModel, ScriptModel, StepModel};

/// The expression for the whole script.
pub(crate) fn expand(model: &ScriptModel) -> TokenStream {
    if model.steps.is_empty() {
        return quote!(::dal::__private::Script::new());
    }
    let script = script_ident();
    let steps = model.steps.iter().map(step);
    quote!({
        let mut #script = ::dal::__private::Script::new();
        #(#steps)*
        #script
    })
}

fn script_ident() -> Ident {
    Ident::new("__dal_script", Span::mixed_site())
}

fn builder_ident() -> Ident {
    Ident::new("__dal_table", Span::mixed_site())
}

fn step(step: &StepModel) -> TokenStream {
    let script = script_ident();
    match step {
        StepModel::CreateTable {
            table,
            items,
            history,
        } => {
            let body = items_body(items);
            let method = if *history {
                quote!(create_table_with_history)
            } else {
                quote!(create_table)
            };
            quote!(#script.#method(::dal::__private::Table::build(#table, #body));)
        }
        StepModel::History { table, action } => {
            let method = match action {
                HistoryAction::Add => quote!(add_history),
                HistoryAction::Refresh => quote!(refresh_history),
                HistoryAction::Drop => quote!(drop_history),
            };
            quote!(#script.#method(#table);)
        }
        StepModel::AddToTable { table, items } => {
            let body = items_body(items);
            quote!(#script.add_to_table(#table, #body);)
        }
        StepModel::DropColumn { table, column } => quote!(#script.drop_column(#table, #column);),
        StepModel::RenameColumn { table, from, to } => {
            quote!(#script.rename_column(#table, #from, #to);)
        }
        StepModel::DropIndex { table, name } => quote!(#script.drop_index(#table, #name);),
        StepModel::DropCheck { table, name } => quote!(#script.drop_check(#table, #name);),
        StepModel::DropForeign { table, name } => quote!(#script.drop_foreign(#table, #name);),
        StepModel::DropTable {
            name,
            if_exists: false,
        } => quote!(#script.drop_table(#name);),
        StepModel::DropTable {
            name,
            if_exists: true,
        } => quote!(#script.drop_table_if_exists(#name);),
        StepModel::RenameTable { from, to } => quote!(#script.rename_table(#from, #to);),
        StepModel::Sql(sql) => quote!(#script.sql(#sql);),
    }
}

/// `|t: &mut TableBuilder| { t.call(..); ... }`
fn items_body(items: &[ItemModel]) -> TokenStream {
    let t = builder_ident();
    let calls = items.iter().map(item);
    quote!(|#t: &mut ::dal::__private::TableBuilder| { #(#calls)* })
}

fn item(item: &ItemModel) -> TokenStream {
    let t = builder_ident();
    match item {
        ItemModel::Column(c) => column(c),
        ItemModel::Timestamps => quote!(#t.timestamps();),
        ItemModel::SoftDeletes => quote!(#t.soft_deletes();),
        ItemModel::WithoutRowid => quote!(#t.without_rowid();),
        ItemModel::Primary(columns) => quote!(#t.primary([#(#columns),*]);),
        ItemModel::Index {
            name,
            columns,
            unique,
        } => {
            let method = format_ident!(
                "{}index{}",
                if *unique { "unique_" } else { "" },
                if name.is_some() { "_named" } else { "" }
            );
            let name = name.iter();
            quote!(#t.#method(#(#name,)* [#(#columns),*]);)
        }
        ItemModel::Check {
            name: None,
            expression,
        } => quote!(#t.check(#expression);),
        ItemModel::Check {
            name: Some(name),
            expression,
        } => quote!(#t.check_named(#name, #expression);),
    }
}

fn column(c: &ColumnModel) -> TokenStream {
    use super::lower::ColumnKind as K;
    let t = builder_ident();
    let method = format_ident!("{}", c.kind.method(c.explicit_name));
    let name = &c.name;
    let call = match &c.kind {
        K::Id | K::UuidId if !c.explicit_name => quote!(#t.#method()),
        K::String(length) => {
            let length = Literal::u32_suffixed(*length);
            quote!(#t.#method(#name, #length))
        }
        K::Decimal(p, s) => {
            let (p, s) = (Literal::u8_suffixed(*p), Literal::u8_suffixed(*s));
            quote!(#t.#method(#name, #p, #s))
        }
        K::Enumeration(variants) => quote!(#t.#method(#name, [#(#variants),*])),
        K::Array(element) => {
            let element = column_type(&element.column_type());
            quote!(#t.#method(#name, #element))
        }
        _ => quote!(#t.#method(#name)),
    };
    let modifiers = c.modifiers.iter().map(|m| match m {
        ColumnModifier::Nullable => quote!(.nullable()),
        ColumnModifier::Default(v) => {
            let v = default_value(v);
            quote!(.default(#v))
        }
        ColumnModifier::UseCurrent => quote!(.use_current()),
        ColumnModifier::Unique => quote!(.unique()),
        ColumnModifier::Index => quote!(.index()),
        ColumnModifier::AutoIncrement => quote!(.auto_increment()),
        ColumnModifier::Primary => quote!(.primary()),
    });
    let foreign = c.foreign.iter().map(|fk| {
        let table = &fk.table;
        let references = match &fk.column {
            Some(column) => quote!(.references_column(#table, #column)),
            None => quote!(.references(#table)),
        };
        let on_delete = fk.on_delete.map(|a| {
            let a = action(a);
            quote!(.on_delete(#a))
        });
        let on_update = fk.on_update.map(|a| {
            let a = action(a);
            quote!(.on_update(#a))
        });
        let named = fk.name.iter().map(|n| quote!(.named(#n)));
        let external = fk.external.then(|| quote!(.external()));
        quote!(#references #on_delete #on_update #(#named)* #external)
    });
    quote!(#call #(#modifiers)* #(#foreign)*;)
}

/// A scalar column type as an expression (the element of an array).
fn column_type(ty: &ColumnType) -> TokenStream {
    let p = quote!(::dal::__private::ColumnType);
    match ty {
        ColumnType::SmallInteger => quote!(#p::SmallInteger),
        ColumnType::Integer => quote!(#p::Integer),
        ColumnType::BigInteger => quote!(#p::BigInteger),
        ColumnType::UnsignedInteger => quote!(#p::UnsignedInteger),
        ColumnType::UnsignedBigInteger => quote!(#p::UnsignedBigInteger),
        ColumnType::Boolean => quote!(#p::Boolean),
        ColumnType::Float => quote!(#p::Float),
        ColumnType::Double => quote!(#p::Double),
        ColumnType::Decimal { precision, scale } => {
            let (precision, scale) = (
                Literal::u8_suffixed(*precision),
                Literal::u8_suffixed(*scale),
            );
            quote!(#p::Decimal { precision: #precision, scale: #scale })
        }
        ColumnType::String { length } => {
            let length = Literal::u32_suffixed(*length);
            quote!(#p::String { length: #length })
        }
        ColumnType::Text => quote!(#p::Text),
        ColumnType::Date => quote!(#p::Date),
        ColumnType::Time => quote!(#p::Time),
        ColumnType::Timestamp => quote!(#p::Timestamp),
        ColumnType::TimestampTz => quote!(#p::TimestampTz),
        ColumnType::Uuid => quote!(#p::Uuid),
        ColumnType::Json => quote!(#p::Json),
        ColumnType::Binary => quote!(#p::Binary),
        ColumnType::Enumeration { variants } => {
            quote!(#p::Enumeration { variants: ::std::vec![#(::std::string::String::from(#variants)),*] })
        }
        ColumnType::Array { element } => {
            let element = column_type(element);
            quote!(#p::array(#element))
        }
    }
}

fn default_value(v: &DefaultValue) -> TokenStream {
    match v {
        DefaultValue::Null => quote!(::dal::__private::DefaultValue::Null),
        DefaultValue::Bool(b) => quote!(#b),
        DefaultValue::Integer(i) => {
            let i = Literal::i64_suffixed(*i);
            quote!(#i)
        }
        DefaultValue::Float(f) => {
            let f = Literal::f64_suffixed(*f);
            quote!(#f)
        }
        DefaultValue::String(s) => quote!(#s),
        DefaultValue::CurrentTimestamp
        | DefaultValue::CurrentDate
        | DefaultValue::Expression(_) => {
            unreachable!("`lower` produces only literal defaults")
        }
    }
}

fn action(a: ReferentialAction) -> TokenStream {
    let variant = format_ident!(
        "{}",
        match a {
            ReferentialAction::NoAction => "NoAction",
            ReferentialAction::Restrict => "Restrict",
            ReferentialAction::Cascade => "Cascade",
            ReferentialAction::SetNull => "SetNull",
            ReferentialAction::SetDefault => "SetDefault",
        }
    );
    quote!(::dal::__private::ReferentialAction::#variant)
}
