//! Code generation for `#[derive(Entity)]`, from the validated model.
//!
//! Per entity: one `FromRow` impl, one static `EntityInfo` (with every dialect's
//! SQL as string literals), one `Entity` impl, one inherent impl of column-handle
//! constants, and spanned trait checks so an unsupported field type is reported
//! on the field. Generated code names only `::dal::__private::...` (or the path
//! given with `#[dal(crate = "...")]`) and `::core`.

use dal_schema::entity::{ColumnRole, EntityColumn, EntityShape, EntitySql, entity_sql};
use dal_schema::{DefaultValue, Dialect, ReferentialAction};
use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use super::model::{Entity, Field, RelationKind, Storage};
use super::types;

fn role_tokens(p: &TokenStream, role: ColumnRole) -> TokenStream {
    match role {
        ColumnRole::Id => quote!(#p::ColumnRole::Id),
        ColumnRole::Data => quote!(#p::ColumnRole::Data),
        ColumnRole::Version => quote!(#p::ColumnRole::Version),
        ColumnRole::CreatedAt => quote!(#p::ColumnRole::CreatedAt),
        ColumnRole::UpdatedAt => quote!(#p::ColumnRole::UpdatedAt),
        ColumnRole::DeletedAt => quote!(#p::ColumnRole::DeletedAt),
        ColumnRole::ChangeStamp => quote!(#p::ColumnRole::ChangeStamp),
        ColumnRole::ChangedBy => quote!(#p::ColumnRole::ChangedBy),
        ColumnRole::ChangeNote => quote!(#p::ColumnRole::ChangeNote),
    }
}

fn action_tokens(p: &TokenStream, a: ReferentialAction) -> TokenStream {
    match a {
        ReferentialAction::NoAction => quote!(#p::ReferentialAction::NoAction),
        ReferentialAction::Restrict => quote!(#p::ReferentialAction::Restrict),
        ReferentialAction::Cascade => quote!(#p::ReferentialAction::Cascade),
        ReferentialAction::SetNull => quote!(#p::ReferentialAction::SetNull),
        ReferentialAction::SetDefault => quote!(#p::ReferentialAction::SetDefault),
    }
}

fn default_tokens(p: &TokenStream, d: &DefaultValue) -> TokenStream {
    match d {
        DefaultValue::Null => quote!(#p::DefaultValue::Null),
        DefaultValue::Bool(b) => quote!(#p::DefaultValue::Bool(#b)),
        DefaultValue::Integer(i) => quote!(#p::DefaultValue::Integer(#i)),
        DefaultValue::Float(f) => quote!(#p::DefaultValue::Float(#f)),
        DefaultValue::String(s) => {
            quote!(#p::DefaultValue::String(::core::convert::From::from(#s)))
        }
        DefaultValue::CurrentTimestamp => quote!(#p::DefaultValue::CurrentTimestamp),
        DefaultValue::CurrentDate => quote!(#p::DefaultValue::CurrentDate),
        DefaultValue::Expression(e) => {
            quote!(#p::DefaultValue::Expression(::core::convert::From::from(#e)))
        }
    }
}

fn sql_tokens(p: &TokenStream, s: &EntitySql) -> TokenStream {
    let EntitySql {
        insert_generated_id,
        insert,
        upsert,
        update,
        update_versioned,
        select_by_id,
        select_by_id_with_deleted,
        select_list,
        soft_delete,
        restore,
        delete,
        history_insert,
        history_select,
        history_at_version,
    } = s;
    quote! {
        #p::EntitySqlText {
            insert_generated_id: #insert_generated_id,
            insert: #insert,
            upsert: #upsert,
            update: #update,
            update_versioned: #update_versioned,
            select_by_id: #select_by_id,
            select_by_id_with_deleted: #select_by_id_with_deleted,
            select_list: #select_list,
            soft_delete: #soft_delete,
            restore: #restore,
            delete: #delete,
            history_insert: #history_insert,
            history_select: #history_select,
            history_at_version: #history_at_version,
        }
    }
}

/// `tokens` with every span set to `span`, so that an error anywhere in them
/// is reported at the user's token.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut t| {
            if let proc_macro2::TokenTree::Group(g) = &t {
                let mut group = proc_macro2::Group::new(g.delimiter(), respan(g.stream(), span));
                group.set_span(span);
                t = proc_macro2::TokenTree::Group(group);
            } else {
                t.set_span(span);
            }
            t
        })
        .collect()
}

fn const_name(f: &Field) -> syn::Ident {
    let name = f.ident.to_string();
    let name = name.trim_start_matches("r#").to_uppercase();
    syn::Ident::new(&name, f.ident.span())
}

/// The column type of a stored field, as an expression.
fn column_type_expr(p: &TokenStream, f: &Field) -> TokenStream {
    let ty = &f.ty;
    let base = match &f.storage {
        Storage::Plain => quote!(<#ty as #p::SqlType>::column_type()),
        Storage::Json => quote!(#p::ColumnType::Json),
        Storage::With(path) => quote!(#path::column_type()),
    };
    match (f.length, f.precision, f.scale) {
        (Some(n), _, _) => quote!(#p::ColumnType::String { length: #n }),
        (None, None, None) => base,
        (None, precision, scale) => {
            let precision = precision.unwrap_or(20);
            let scale = scale.unwrap_or(6);
            quote!(#p::ColumnType::Decimal { precision: #precision, scale: #scale })
        }
    }
}

fn nullable_expr(p: &TokenStream, f: &Field) -> TokenStream {
    let ty = &f.ty;
    if f.role == Some(ColumnRole::Id) {
        // a key is never NULL, even when `Option<T>` means "not saved yet"
        return quote!(false);
    }
    match &f.storage {
        Storage::Plain => quote!(<#ty as #p::SqlType>::NULLABLE),
        _ => {
            let optional = f.optional;
            quote!(#optional)
        }
    }
}

pub(crate) fn expand(e: &Entity) -> TokenStream {
    let dal = &e.krate;
    let p = quote!(#dal::__private);
    let ident = &e.ident;
    let table = &e.table;
    let id = e.id();
    let id_ident = &id.ident;
    let id_ty = &id.ty;
    let id_column = &id.column;

    // ---------------------------------------------------------------- shape and SQL
    let mut columns: Vec<EntityColumn> = e
        .stored()
        .map(|f| EntityColumn {
            name: f.column.clone(),
            role: f.role.unwrap_or(ColumnRole::Data),
            mapped: true,
        })
        .collect();
    columns.extend(e.hidden.iter().map(|h| EntityColumn {
        name: h.column.to_string(),
        role: h.role,
        mapped: false,
    }));
    let other_unique_keys = e.stored().any(|f| f.unique);
    let shape = EntityShape {
        table: table.clone(),
        columns: columns.clone(),
        history: e.history,
        other_unique_keys,
    };
    let sql: Vec<TokenStream> = Dialect::ALL
        .iter()
        .map(|d| sql_tokens(&p, &entity_sql(&shape, *d)))
        .collect();
    let history_table = if e.history {
        dal_schema::entity::history_table_name(table)
    } else {
        String::new()
    };
    let column_infos = columns.iter().map(|c| {
        let name = &c.name;
        let role = role_tokens(&p, c.role);
        let mapped = c.mapped;
        quote!(#p::EntityColumnInfo { name: #name, role: #role, mapped: #mapped })
    });
    let history = e.history;
    let soft_delete = e.soft_delete;
    let versioned = e.field_with(ColumnRole::Version).is_some();

    // ---------------------------------------------------------------- FromRow
    // position of each mapped column in dal's own SELECT lists
    let mut positions = std::collections::HashMap::new();
    for (i, f) in e.stored().enumerate() {
        positions.insert(f.column.clone(), i);
    }
    let select_columns: Vec<&String> = e.stored().map(|f| &f.column).collect();
    let reads = e.fields.iter().map(|f| {
        let name = &f.ident;
        let ty = &f.ty;
        let col = &f.column;
        if f.role.is_none() {
            return quote!(#name: ::core::default::Default::default());
        }
        let hint = positions.get(col).copied().unwrap_or(0);
        match &f.storage {
            Storage::Plain => {
                let span = ty.span();
                let read = quote_spanned!(span=> #p::decode_field::<#ty, _>(row, #hint, #col)?);
                quote!(#name: #read)
            }
            Storage::Json => quote! {
                #name: #p::FieldSource::row(row).get_hinted::<#p::Json<#ty>>(#hint, #col)?.0
            },
            Storage::With(path) => quote! {
                #name: #path::decode(#p::FieldSource::row(row).value_ref(#col)?).map_err(|e| match e {
                    #p::Error::Decode { column, reason } if column.is_empty() => {
                        #p::Error::Decode { column: ::core::convert::From::from(#col), reason }
                    }
                    other => other,
                })?
            },
        }
    });

    // ---------------------------------------------------------------- binding
    let binds = e
        .stored()
        .filter(|f| f.role == Some(ColumnRole::Data))
        .map(|f| {
            let name = &f.ident;
            let col = &f.column;
            // a value the backend cannot store is refused naming its column
            let named = quote!(.map_err(|e| #p::field_error(e, #col))?;);
            match &f.storage {
                Storage::Plain => {
                    let span = f.ty.span();
                    let ty = &f.ty;
                    quote_spanned!(span=> #p::encode_field::<#ty>(&self.#name, out, #col)?;)
                }
                Storage::Json => quote!(out.push_json(&self.#name) #named),
                Storage::With(path) => quote!(#path::encode(&self.#name, out) #named),
            }
        });

    // one data column by name: the partial save of a tracked entity
    let column_binds = e
        .stored()
        .filter(|f| f.role == Some(ColumnRole::Data))
        .map(|f| {
            let name = &f.ident;
            let col = &f.column;
            let named = quote!(.map_err(|e| #p::field_error(e, #col))?;);
            let bind = match &f.storage {
                Storage::Plain => {
                    let span = f.ty.span();
                    let ty = &f.ty;
                    quote_spanned!(span=> #p::encode_field::<#ty>(&self.#name, out, #col)?;)
                }
                Storage::Json => quote!(out.push_json(&self.#name) #named),
                Storage::With(path) => quote!(#path::encode(&self.#name, out) #named),
            };
            quote! {
                #col => {
                    #bind
                    ::core::result::Result::Ok(true)
                }
            }
        });

    // ---------------------------------------------------------------- blueprint
    let collation = e.collation.as_ref().map(
        |c| quote!(t.collation = ::core::option::Option::Some(::core::convert::From::from(#c));),
    );
    let blueprint_columns = e.stored().map(|f| {
        let col = &f.column;
        let ty = column_type_expr(&p, f);
        let nullable = nullable_expr(&p, f);
        let unique = f.unique;
        let id_ty = &f.ty;
        let auto = if f.role == Some(ColumnRole::Id) {
            quote!(<#id_ty as #p::EntityId>::KIND == #p::IdKind::AutoIncrement)
        } else {
            quote!(false)
        };
        let default = match (&f.default, f.role) {
            (Some(d), _) => {
                let d = default_tokens(&p, d);
                quote!(::core::option::Option::Some(#d))
            }
            (None, Some(ColumnRole::CreatedAt | ColumnRole::UpdatedAt)) => {
                quote!(::core::option::Option::Some(#p::DefaultValue::CurrentTimestamp))
            }
            (None, Some(ColumnRole::Version)) => {
                quote!(::core::option::Option::Some(#p::DefaultValue::Integer(1)))
            }
            (None, _) => quote!(::core::option::Option::None),
        };
        quote! {
            #p::bp_column(&mut t, #col, #ty, #nullable, #default, #unique, #auto);
        }
    });
    let hidden_columns = e.hidden.iter().map(|h| {
        let col = h.column;
        let none = quote!(::core::option::Option::None);
        let (ty, nullable, default) = match h.role {
            ColumnRole::DeletedAt => (quote!(#p::ColumnType::TimestampTz), true, none),
            ColumnRole::ChangeStamp => (quote!(#p::ColumnType::BigInteger), true, none),
            ColumnRole::ChangedBy => (quote!(#p::ColumnType::String { length: 255 }), true, none),
            ColumnRole::ChangeNote => (quote!(#p::ColumnType::Text), true, none),
            _ => (
                quote!(#p::ColumnType::TimestampTz),
                false,
                quote!(::core::option::Option::Some(#p::DefaultValue::CurrentTimestamp)),
            ),
        };
        quote! {
            #p::bp_column(&mut t, #col, #ty, #nullable, #default, false, false);
        }
    });
    let indexes = e
        .stored()
        .filter(|f| f.index || (f.belongs_to.is_some() && !f.unique))
        .map(|f| {
            let col = &f.column;
            let name = dal_schema::model::names::index(table, std::slice::from_ref(&f.column));
            quote! {
                #p::bp_index(&mut t, #name, #col);
            }
        });
    let foreign_keys = e.stored().filter_map(|f| {
        let r = f.references.as_ref()?;
        let col = &f.column;
        let name = dal_schema::model::names::foreign_key(table, std::slice::from_ref(&f.column));
        let rt = &r.table;
        let rc = &r.column;
        let od = action_tokens(&p, r.on_delete);
        let ou = action_tokens(&p, r.on_update);
        Some(quote! {
            #p::bp_foreign_key(&mut t, #name, #col, (#rt, #rc), #od, #ou);
        })
    });

    let relation_keys = e.stored().filter_map(|f| {
        let b = f.belongs_to.as_ref()?;
        let col = &f.column;
        let name = dal_schema::model::names::foreign_key(table, std::slice::from_ref(&f.column));
        let target = &b.target;
        let info = respan(quote!(<#target as #p::Entity>::INFO), target.span());
        let od = action_tokens(&p, b.on_delete);
        let ou = action_tokens(&p, b.on_update);
        Some(quote! {
            #p::bp_foreign_key(&mut t, #name, #col, (#info.table, #info.id_column), #od, #ou);
        })
    });

    // ---------------------------------------------------------------- relations
    let mut relation_items = Vec::new();
    let mut relation_checks = Vec::new();
    for f in e.stored() {
        let Some(b) = &f.belongs_to else { continue };
        let name = b.name.as_deref().expect("checked: a valid relation name");
        let handle = syn::Ident::new(&name.to_uppercase(), b.span);
        let method = syn::Ident::new(name, b.span);
        let target = &b.target;
        let field = &f.ident;
        let fty = &f.ty;
        let col = &f.column;
        let fspan = fty.span();
        let tspan = target.span();
        // what needs the target to be an entity is spanned at the target
        let target_id = respan(quote!(<#target as #p::Entity>::Id), tspan);
        let handle_ty = respan(quote!(#p::BelongsTo<#ident, #target>), tspan);
        let load = respan(quote!(#p::BelongsTo::load(Self::#handle, self, ex)), tspan);
        let new = respan(quote!(#p::BelongsTo::__new), tspan);
        let key = quote_spanned!(fspan=> <#fty as #p::RelationKey<#target_id>>::key(&c.#field));
        let from_key = quote_spanned!(fspan=> <#fty as #p::RelationKey<#target_id>>::from_key(id));
        // the call's parentheses at the target too, so the call is reported there
        let mut args = proc_macro2::Group::new(
            proc_macro2::Delimiter::Parenthesis,
            quote!(#name, #col, |c| #key, |c, id| c.#field = #from_key,),
        );
        args.set_span(tspan);
        let doc = format!(
            "The belongs-to relation of `{col}`, to `{}`.",
            quote!(#target)
        );
        let mdoc = format!(
            "Load the `{}` this row belongs to (through `{col}`); `None` when the key is unset or no such row exists. Counted by the N+1 detector.",
            quote!(#target)
        );
        relation_items.push(quote! {
            #[doc = #doc]
            #[allow(dead_code)]
            pub const #handle: #handle_ty = #new #args;
            #[doc = #mdoc]
            #[allow(dead_code)]
            #[track_caller]
            pub fn #method<'__dal, __X: #p::Executor<'__dal>>(
                &self,
                ex: __X,
            ) -> impl ::core::future::Future<Output = #p::Result<::core::option::Option<#target>>> + ::core::marker::Send + use<'__dal, __X> {
                #load
            }
        });
    }
    for r in &e.relations {
        let name = r.name.to_string();
        let name = name.trim_start_matches("r#").to_string();
        let handle = syn::Ident::new(&name.to_uppercase(), r.name.span());
        let method = &r.name;
        let target = &r.target;
        let inverse = &r.inverse;
        let ispan = inverse.span();
        let tspan = target.span();
        relation_checks.push(quote_spanned!(tspan=> #p::assert_relation_target::<#target>();));
        // what needs the target to be an entity is spanned at the target
        let of = respan(quote!(Self::#handle.of(self)), tspan);
        let load = respan(quote!(Self::#handle.load(self, ex)), tspan);
        match r.kind {
            RelationKind::HasMany => {
                let doc = format!(
                    "The has-many relation `{name}`: the `{}` rows holding this row's key.",
                    quote!(#target)
                );
                let mdoc = format!(
                    "This row's `{name}`, as a query to refine and run. Counted by the N+1 detector when it runs."
                );
                let inv =
                    quote_spanned!(ispan=> #p::HasMany::<#ident, #target>::__new(#name, #inverse));
                let has_many_ty = respan(quote!(#p::HasMany<#ident, #target>), tspan);
                relation_items.push(quote! {
                    #[doc = #doc]
                    #[allow(dead_code)]
                    pub const #handle: #has_many_ty = #inv;
                    #[doc = #mdoc]
                    #[allow(dead_code)]
                    #[inline]
                    #[track_caller]
                    pub fn #method(&self) -> #p::Find<#target> {
                        #of
                    }
                });
            }
            RelationKind::HasOne => {
                let doc = format!(
                    "The has-one relation `{name}`: the `{}` row holding this row's key.",
                    quote!(#target)
                );
                let mdoc = format!("Load this row's `{name}`. Counted by the N+1 detector.");
                let inv =
                    quote_spanned!(ispan=> #p::HasOne::<#ident, #target>::__new(#name, #inverse));
                let has_one_ty = respan(quote!(#p::HasOne<#ident, #target>), tspan);
                relation_items.push(quote! {
                    #[doc = #doc]
                    #[allow(dead_code)]
                    pub const #handle: #has_one_ty = #inv;
                    #[doc = #mdoc]
                    #[allow(dead_code)]
                    #[track_caller]
                    pub fn #method<'__dal, __X: #p::Executor<'__dal>>(
                        &self,
                        ex: __X,
                    ) -> impl ::core::future::Future<Output = #p::Result<::core::option::Option<#target>>> + ::core::marker::Send + use<'__dal, __X> {
                        #load
                    }
                });
            }
            RelationKind::ManyToMany => {
                let Some((join, from)) = &r.join else {
                    continue;
                };
                let fspan = from.span();
                let doc = format!(
                    "The many-to-many relation `{name}`: the `{}` rows linked to this row through `{}`.",
                    quote!(#target),
                    quote!(#join)
                );
                let mdoc = format!(
                    "This row's `{name}`, as a query to refine and run. Counted by the N+1 detector when it runs."
                );
                let right = quote_spanned!(ispan=> #inverse);
                let m2m_ty = respan(quote!(#p::ManyToMany<#ident, #target, #join>), tspan);
                let left = quote_spanned!(fspan=> #from);
                relation_items.push(quote! {
                    #[doc = #doc]
                    #[allow(dead_code)]
                    pub const #handle: #m2m_ty =
                        #p::ManyToMany::<#ident, #target, #join>::__new(#name, #right, #left);
                    #[doc = #mdoc]
                    #[allow(dead_code)]
                    #[inline]
                    #[track_caller]
                    pub fn #method(&self) -> #p::Find<#target> {
                        #of
                    }
                });
            }
        }
    }

    // ---------------------------------------------------------------- managed accessors
    let mut managed = Vec::new();
    if let Some(f) = e.field_with(ColumnRole::Version) {
        let name = &f.ident;
        let ty = &f.ty;
        managed.push(quote! {
            #[inline]
            fn __version(&self) -> ::core::option::Option<i64> {
                ::core::option::Option::Some(self.#name as i64)
            }
            #[inline]
            fn __set_version(&mut self, version: i64) {
                self.#name = version as #ty;
            }
        });
    }
    if let Some(f) = e.field_with(ColumnRole::CreatedAt) {
        let name = &f.ident;
        let span = f.ty.span();
        managed.push(quote_spanned! {span=>
            #[inline]
            fn __created_at(&self) -> ::core::option::Option<#p::DateTime<#p::Utc>> {
                #p::TimestampField::timestamp(&self.#name)
            }
            #[inline]
            fn __set_created_at(&mut self, at: #p::DateTime<#p::Utc>) {
                #p::TimestampField::set_timestamp(&mut self.#name, ::core::option::Option::Some(at))
            }
        });
    }
    if let Some(f) = e.field_with(ColumnRole::UpdatedAt) {
        let name = &f.ident;
        let span = f.ty.span();
        managed.push(quote_spanned! {span=>
            #[inline]
            fn __set_updated_at(&mut self, at: #p::DateTime<#p::Utc>) {
                #p::TimestampField::set_timestamp(&mut self.#name, ::core::option::Option::Some(at))
            }
        });
    }
    if let Some(f) = e.field_with(ColumnRole::DeletedAt) {
        let name = &f.ident;
        let span = f.ty.span();
        managed.push(quote_spanned! {span=>
            #[inline]
            fn __deleted_at(&self) -> ::core::option::Option<#p::DateTime<#p::Utc>> {
                #p::TimestampField::timestamp(&self.#name)
            }
            #[inline]
            fn __set_deleted_at(&mut self, at: ::core::option::Option<#p::DateTime<#p::Utc>>) {
                #p::TimestampField::set_timestamp(&mut self.#name, at)
            }
        });
    }
    let value_arms = e
        .stored()
        .filter(|f| {
            matches!(f.storage, Storage::Plain) && types::known_column_type(&f.inner_ty).is_some()
        })
        .map(|f| {
            let name = &f.ident;
            let col = &f.column;
            quote! {
                #col => {
                    let value: ::std::sync::Arc<dyn #p::Encode> =
                        ::std::sync::Arc::new(::core::clone::Clone::clone(&self.#name));
                    ::core::option::Option::Some(value)
                }
            }
        });

    // ---------------------------------------------------------------- handles and checks
    let handles = e.stored().map(|f| {
        let name = const_name(f);
        let col = &f.column;
        let inner = &f.inner_ty;
        let handle_ty = match &f.storage {
            Storage::Json => quote!(#p::Json<#inner>),
            _ => quote!(#inner),
        };
        let doc = format!("The `{col}` column, for typed queries.");
        let null = if f.optional {
            quote!(#p::Nullable)
        } else {
            quote!(#p::NotNull)
        };
        quote! {
            #[doc = #doc]
            #[allow(dead_code)]
            pub const #name: #p::Col<#ident, #handle_ty, #null> = #p::Col::new(#col);
        }
    });
    let checks = e.stored().map(|f| {
        let ty = &f.ty;
        let span: Span = ty.span();
        match (&f.storage, f.role) {
            (_, Some(ColumnRole::Id)) => quote_spanned!(span=> #p::assert_entity_id::<#ty>();),
            (_, Some(ColumnRole::CreatedAt | ColumnRole::UpdatedAt | ColumnRole::DeletedAt)) => {
                quote_spanned!(span=> #p::assert_timestamp::<#ty>();)
            }
            // data fields are checked by the field reads and writes themselves
            _ => quote!(),
        }
    });
    let info_ident = format_ident!("__DAL_ENTITY_INFO_{}", ident);
    let hooks = if e.hooks {
        let hook = |name: &str| {
            let method = format_ident!("__{}", name);
            let public = format_ident!("{}", name);
            quote! {
                #[inline]
                fn #method<'__a, '__t: '__a>(
                    &'__a mut self,
                    tx: &'__a mut #p::Transaction<'__t>,
                ) -> #p::BoxFuture<'__a, #p::Result<()>> {
                    ::std::boxed::Box::pin(<Self as #p::Hooks>::#public(self, tx))
                }
            }
        };
        let methods = ["before_save", "after_save", "before_delete", "after_delete"].map(hook);
        quote! {
            const __HOOKS: bool = true;
            #(#methods)*
        }
    } else {
        quote!()
    };

    let shard_key = match e.fields.iter().find(|f| f.shard_key.is_some()) {
        Some(f) => {
            let column = &f.column;
            quote! {
                const __SHARD_KEY: ::core::option::Option<&'static str> =
                    ::core::option::Option::Some(#column);
            }
        }
        None => quote!(),
    };

    let cache = if e.cache {
        quote! {
            const __CACHED: bool = true;

            #[inline]
            fn __cache_encode(&self) -> ::core::option::Option<::std::vec::Vec<u8>> {
                #p::cache_encode(self)
            }

            #[inline]
            fn __cache_decode(bytes: &[u8]) -> ::core::option::Option<Self> {
                #p::cache_decode(bytes)
            }
        }
    } else {
        quote!()
    };

    quote! {
        const _: () = {
            // the fields, read from a borrowed row or from one the decoder
            // owns (whose values are moved out, not copied)
            fn __dal_read<S: #p::FieldSource>(row: &mut S) -> #p::Result<#ident> {
                ::core::result::Result::Ok(#ident { #(#reads),* })
            }

            #[automatically_derived]
            impl #p::FromRow for #ident {
                #[inline]
                fn from_row(row: &#p::Row<'_>) -> #p::Result<Self> {
                    __dal_read(&mut &*row)
                }

                #[inline]
                fn from_owned_row(mut row: #p::Row<'static>) -> #p::Result<Self> {
                    __dal_read(&mut row)
                }

                #[inline]
                fn __columns() -> ::core::option::Option<&'static [&'static str]> {
                    ::core::option::Option::Some(&[#(#select_columns),*])
                }
            }

            #[allow(non_upper_case_globals)]
            static #info_ident: #p::EntityInfo = #p::EntityInfo {
                table: #table,
                history_table: #history_table,
                id_column: #id_column,
                columns: &[#(#column_infos),*],
                history: #history,
                soft_delete: #soft_delete,
                versioned: #versioned,
                other_unique_keys: #other_unique_keys,
                sql: [#(#sql),*],
                statements: [#p::OnceLock::new(), #p::OnceLock::new(), #p::OnceLock::new()],
            };

            #[automatically_derived]
            impl #p::Entity for #ident {
                type Id = #id_ty;
                const INFO: &'static #p::EntityInfo = &#info_ident;

                #[inline]
                fn blueprint() -> #p::Table {
                    let mut t = #p::Table::new(#table);
                    #collation
                    #(#blueprint_columns)*
                    #(#hidden_columns)*
                    t.primary_key = ::std::vec![::core::convert::From::from(#id_column)];
                    #(#indexes)*
                    #(#foreign_keys)*
                    #(#relation_keys)*
                    t
                }

                #[inline]
                fn id(&self) -> #id_ty {
                    ::core::clone::Clone::clone(&self.#id_ident)
                }

                #[inline]
                fn __set_id(&mut self, id: #id_ty) {
                    self.#id_ident = id;
                }

                #[inline]
                fn __bind_data<'q>(&'q self, out: &mut #p::Arguments<'q>) -> #p::Result<()> {
                    #(#binds)*
                    ::core::result::Result::Ok(())
                }

                #(#managed)*

                #hooks

                #cache
                #shard_key

                #[inline]
                fn __bind_column<'__q>(&'__q self, column: &str, out: &mut #p::Arguments<'__q>) -> #p::Result<bool> {
                    match column {
                        #(#column_binds)*
                        _ => ::core::result::Result::Ok(false),
                    }
                }

                #[inline]
                fn __value_of(&self, column: &str) -> ::core::option::Option<::std::sync::Arc<dyn #p::Encode>> {
                    match column {
                        #(#value_arms)*
                        _ => ::core::option::Option::None,
                    }
                }
            }

            #[allow(dead_code)]
            fn __dal_check_field_types() {
                #(#checks)*
                #(#relation_checks)*
            }
        };

        #[automatically_derived]
        impl #ident {
            #(#handles)*
            #(#relation_items)*
        }
    }
}

/// When the derive fails, an `Entity` impl that is never run, so that other
/// entities naming this one (`belongs_to = User`) do not fail too: the user
/// sees this entity's own errors only. Emitted only when the key's type is
/// plainly one dal accepts (otherwise it could add an error of its own).
pub(crate) fn fallback(input: &syn::DeriveInput) -> TokenStream {
    let syn::Data::Struct(syn::DataStruct {
        fields: syn::Fields::Named(fields),
        ..
    }) = &input.data
    else {
        return TokenStream::new();
    };
    if !input.generics.params.is_empty() {
        return TokenStream::new();
    }
    let marked_id = |f: &syn::Field| {
        f.attrs
            .iter()
            .filter(|a| a.path().is_ident("dal"))
            .any(|a| {
                a.parse_args_with(
                    syn::punctuated::Punctuated::<syn::Meta, syn::Token![,]>::parse_terminated,
                )
                .is_ok_and(|metas| metas.iter().any(|m| m.path().is_ident("id")))
            })
    };
    let Some(id) = fields.named.iter().find(|f| marked_id(f)).or_else(|| {
        fields
            .named
            .iter()
            .find(|f| f.ident.as_ref().is_some_and(|i| i == "id"))
    }) else {
        return TokenStream::new();
    };
    let key = types::option_inner(&id.ty).unwrap_or(&id.ty);
    if !matches!(
        types::type_name(key).as_deref(),
        Some("i16" | "i32" | "i64" | "u32" | "u64" | "Uuid" | "String")
    ) {
        return TokenStream::new();
    }
    let krate = dal_path(input);
    let p = quote!(#krate::__private);
    let ident = &input.ident;
    let id_ty = &id.ty;
    let never = quote!(::core::panic!("`#[derive(Entity)]` failed"));
    // a well-formed `INFO`, since other entities' constants may read it
    let shape = EntityShape {
        table: String::new(),
        columns: vec![EntityColumn {
            name: "id".into(),
            role: ColumnRole::Id,
            mapped: true,
        }],
        history: false,
        other_unique_keys: false,
    };
    let sql = Dialect::ALL
        .iter()
        .map(|d| sql_tokens(&p, &entity_sql(&shape, *d)));
    quote! {
        const _: () = {
            static __DAL_FALLBACK_INFO: #p::EntityInfo = #p::EntityInfo {
                    table: "",
                    history_table: "",
                    id_column: "id",
                    columns: &[],
                    history: false,
                    soft_delete: false,
                    versioned: false,
                    other_unique_keys: false,
                    sql: [#(#sql),*],
                    statements: [#p::OnceLock::new(), #p::OnceLock::new(), #p::OnceLock::new()],
                };
            #[automatically_derived]
            impl #p::FromRow for #ident {
                fn from_row(_: &#p::Row<'_>) -> #p::Result<Self> { #never }
            }
            #[automatically_derived]
            impl #p::Entity for #ident {
                type Id = #id_ty;
                const INFO: &'static #p::EntityInfo = &__DAL_FALLBACK_INFO;
                fn blueprint() -> #p::Table { #never }
                fn id(&self) -> #id_ty { #never }
                fn __set_id(&mut self, _: #id_ty) { #never }
                fn __bind_data<'q>(&'q self, _: &mut #p::Arguments<'q>) -> #p::Result<()> { #never }
                fn __value_of(&self, _: &str) -> ::core::option::Option<::std::sync::Arc<dyn #p::Encode>> { #never }
            }
        };
    }
}

/// The `crate = "..."` path of a struct that failed to derive, or `::dal`.
fn dal_path(input: &syn::DeriveInput) -> TokenStream {
    let mut krate = quote!(::dal);
    for a in input.attrs.iter().filter(|a| a.path().is_ident("dal")) {
        let _ = a.parse_nested_meta(|m| {
            if m.path.is_ident("crate") {
                let lit: syn::LitStr = m.value()?.parse()?;
                if let Ok(path) = lit.parse::<syn::Path>() {
                    krate = path.to_token_stream();
                }
            } else if m.input.peek(syn::Token![=]) {
                let _: syn::Expr = m.value()?.parse()?;
            } else if m.input.peek(syn::token::Paren) {
                let _: TokenStream = m.input.parse::<proc_macro2::Group>()?.stream();
            }
            Ok(())
        });
    }
    krate
}
