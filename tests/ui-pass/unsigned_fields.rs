// `u64`/`usize` fields map to unsigned big integers, `u32` to unsigned
// integers, the other widths to the signed column that holds their whole range;
// typed handles of a `u64` column take any value that converts to `u64`;
// `schema!` has `unsigned_integer` and `unsigned_big_integer`.
use dal::{ColumnType, Dialect, Entity};

#[derive(Entity, Debug, Clone)]
struct Counter {
    id: u64,
    #[dal(default = 0, index)]
    hits: u64,
    peak: Option<u64>,
    size: usize,
    offset: isize,
    wide: u32,
    word: u16,
    byte: u8,
    tiny: i8,
    short: i16,
}

fn main() {
    let _ = Counter::find()
        .filter(Counter::HITS.gt(5u64) & Counter::HITS.le(7u32))
        .filter(Counter::PEAK.between(1u64, u64::MAX))
        .filter(Counter::HITS.in_list([1u8, 2]))
        .filter(Counter::SIZE.eq(3usize))
        .order_by(Counter::HITS.desc());
    let _ = Counter::PEAK.set(9u64);

    let t = Counter::blueprint();
    let ty = |c: &str| t.column(c).unwrap().ty.clone();
    assert_eq!(ty("id"), ColumnType::UnsignedBigInteger);
    assert!(t.column("id").unwrap().auto_increment);
    assert_eq!(ty("hits"), ColumnType::UnsignedBigInteger);
    assert_eq!(ty("peak"), ColumnType::UnsignedBigInteger);
    assert_eq!(ty("size"), ColumnType::UnsignedBigInteger);
    assert_eq!(ty("offset"), ColumnType::BigInteger);
    assert_eq!(ty("wide"), ColumnType::UnsignedInteger);
    assert_eq!(ty("word"), ColumnType::Integer);
    assert_eq!(ty("byte"), ColumnType::SmallInteger);
    assert_eq!(ty("tiny"), ColumnType::SmallInteger);
    assert_eq!(ty("short"), ColumnType::SmallInteger);

    let script = dal::schema! {
        create accounts {
            unsigned_big_integer(id).auto_increment().primary();
            unsigned_big_integer(balance).default(0);
            unsigned_integer(votes).default(4294967295);
        }
        create payments {
            id();
            unsigned_big_integer(account_id).references(accounts);
        }
        alter payments {
            add unsigned_big_integer(amount).nullable();
        }
    };
    let mysql = script.to_sql(Dialect::MySql).unwrap().join("\n");
    assert!(mysql.contains("`balance` BIGINT UNSIGNED NOT NULL DEFAULT 0"), "{mysql}");
    assert!(mysql.contains("`votes` INT UNSIGNED NOT NULL DEFAULT 4294967295"), "{mysql}");
    let pg = script.to_sql(Dialect::Postgres).unwrap().join("\n");
    assert!(
        pg.contains("CHECK (\"votes\" >= 0 AND \"votes\" <= 4294967295)"),
        "{pg}"
    );
    assert!(pg.contains("CONSTRAINT \"payments_amount_unsigned\" CHECK (\"amount\" >= 0)"), "{pg}");
}
