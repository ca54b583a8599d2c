// Generated code must name only `::dal::__private`, `::core` and `::std` paths,
// so derives still compile in a module that shadows prelude names.
#![allow(dead_code, non_camel_case_types)]

mod shadowed {
    pub struct Result;
    pub struct Ok;
    pub struct Err;
    pub struct Option;
    pub struct Some;
    pub struct None;
    pub struct Vec;
    pub struct String;
    pub trait Default {}
    pub trait Clone {}
    pub trait From {}
    pub struct Error;
    pub struct Row;
    pub struct Json;
    pub struct Encode;
    pub mod core {}
    pub mod std {}

    #[derive(::serde::Serialize, ::serde::Deserialize)]
    pub struct Tags {
        pub list: ::std::vec::Vec<::std::string::String>,
    }

    pub mod codec {
        pub fn encode<'q>(v: &'q i64, out: &mut ::dal::Arguments<'q>) -> ::dal::Result<()> {
            out.push_i64(*v)
        }
        pub fn decode(v: ::dal::ValueRef<'_>) -> ::dal::Result<i64> {
            <i64 as ::dal::Decode>::decode(v)
        }
        pub fn column_type() -> ::dal::ColumnType {
            ::dal::ColumnType::BigInteger
        }
    }

    #[derive(::dal::Entity)]
    #[dal(history, soft_delete, timestamps)]
    pub struct Account {
        #[dal(id)]
        pub id: ::uuid::Uuid,
        #[dal(length = 100, unique, default = "none")]
        pub name: ::std::string::String,
        pub nick: ::core::option::Option<::std::string::String>,
        pub blob: ::std::vec::Vec<u8>,
        #[dal(json)]
        pub tags: Tags,
        #[dal(with = codec)]
        pub coded: i64,
        #[dal(index, references = "teams", on_delete = "cascade")]
        pub team_id: i64,
        #[dal(skip)]
        pub cache: u8,
        #[dal(version)]
        pub version: i64,
    }

    #[derive(::dal::FromRow)]
    pub struct Summary {
        pub id: i64,
        #[dal(rename = "full_name")]
        pub name: ::std::string::String,
        #[dal(default)]
        pub note: ::core::option::Option<::std::string::String>,
        #[dal(json)]
        pub tags: Tags,
        #[dal(skip)]
        pub cache: u8,
    }
}

fn main() {
    use dal::Entity;
    let _ = shadowed::Account::find().filter(shadowed::Account::NAME.eq("x"));
    dal::schema::validate_table(&shadowed::Account::blueprint()).expect("a valid blueprint");
}
