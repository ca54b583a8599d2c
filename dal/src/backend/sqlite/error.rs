//! SQLite's error classification: rusqlite errors and extended result codes
//! -> [`Error`] kind (busy and locked included).

use std::time::Duration;

use crate::error::{ConstraintKind, Error, TimeoutKind};

pub(crate) fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(f.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// Whether a dal error came from `SQLITE_BUSY` / `SQLITE_LOCKED`.
pub(crate) fn is_busy_error(e: &Error) -> bool {
    matches!(e, Error::Busy { .. })
}

pub(crate) fn map_err(e: rusqlite::Error) -> Error {
    match e {
        rusqlite::Error::SqliteFailure(f, msg) => {
            if f.code == rusqlite::ErrorCode::OperationInterrupted {
                return Error::timeout(
                    TimeoutKind::Query,
                    TimeoutKind::Query,
                    Duration::ZERO,
                    Duration::ZERO,
                );
            }
            let message = msg.unwrap_or_else(|| f.to_string());
            classify(f.extended_code, message)
        }
        rusqlite::Error::SqlInputError {
            error, msg, offset, ..
        } => classify(error.extended_code, format!("{msg} (at byte {offset})")),
        rusqlite::Error::InvalidParameterCount(got, want) => Error::invalid_input(
            "parameters",
            format!("the statement takes {want} parameter(s), {got} given"),
        ),
        rusqlite::Error::InvalidColumnType(i, name, ty) => {
            Error::decode(name, format!("column {i} holds {ty}"))
        }
        rusqlite::Error::Utf8Error(_, e) => Error::decode("", format!("invalid UTF-8: {e}")),
        // what the caller asked for is not something SQLite can run: a client
        // error, never a problem with the database
        rusqlite::Error::MultipleStatement => Error::invalid_input(
            "sql",
            "several statements in one call: run scripts with `execute_script`",
        ),
        rusqlite::Error::NulError(e) => {
            Error::invalid_input("sql", format!("the text contains a NUL byte: {e}"))
        }
        rusqlite::Error::InvalidQuery => {
            Error::invalid_input("sql", "the statement is not a query")
        }
        rusqlite::Error::ToSqlConversionFailure(e) => {
            Error::invalid_input("parameter", e.to_string())
        }
        rusqlite::Error::InvalidParameterName(name) => {
            Error::invalid_input("parameters", format!("no parameter named `{name}`"))
        }
        rusqlite::Error::FromSqlConversionFailure(i, ty, e) => {
            Error::decode(i.to_string(), format!("cannot convert {ty}: {e}"))
        }
        rusqlite::Error::IntegralValueOutOfRange(i, v) => {
            Error::decode(i.to_string(), format!("{v} is out of range"))
        }
        rusqlite::Error::InvalidColumnIndex(i) => Error::decode(i.to_string(), "no such column"),
        rusqlite::Error::InvalidColumnName(name) => Error::decode(name, "no such column"),
        other => Error::Driver(other.to_string()),
    }
}

/// SQLite extended result code -> Error.
pub(crate) fn classify(extended: i32, message: String) -> Error {
    let code = Some(extended.to_string());
    let primary = extended & 0xff;
    let constraint = message
        .split_once("constraint failed: ")
        .map(|(_, rest)| rest.to_string());
    let cv = |kind| Error::ConstraintViolation {
        kind,
        constraint: constraint.clone(),
        message: message.clone(),
        code: code.clone(),
    };
    match extended {
        2067 | 1555 => cv(ConstraintKind::Unique),
        787 => cv(ConstraintKind::ForeignKey),
        1299 => cv(ConstraintKind::NotNull),
        275 => cv(ConstraintKind::Check),
        _ if primary == 19 => cv(ConstraintKind::Other),
        // SQLITE_BUSY / SQLITE_LOCKED: another connection holds the lock
        _ if primary == 5 || primary == 6 => Error::Busy { message, code },
        // SQLITE_READONLY
        _ if primary == 8 => Error::ReadOnly { message, code },
        // SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN
        _ if primary == 10 || primary == 13 || primary == 14 => Error::Database {
            message,
            code,
            transient: primary == 10,
        },
        _ => Error::Database {
            message,
            code,
            transient: false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_codes() {
        match classify(2067, "UNIQUE constraint failed: users.email".into()) {
            Error::ConstraintViolation {
                kind: ConstraintKind::Unique,
                constraint,
                ..
            } => assert_eq!(constraint.as_deref(), Some("users.email")),
            other => panic!("{other:?}"),
        }
        let busy = classify(5, "database is locked".into());
        assert!(matches!(busy, Error::Busy { .. }), "{busy:?}");
        assert!(busy.is_transient() && !busy.is_infrastructure());
        assert!(matches!(classify(262, "locked".into()), Error::Busy { .. }));
        assert!(!classify(1, "syntax".into()).is_transient());
    }
}
