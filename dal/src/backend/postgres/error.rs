//! PostgreSQL's error classification: SQLSTATE -> [`Error`] kind, and which
//! errors invalidate a prepared statement or the connection.

use crate::error::{ConstraintKind, Error};

/// A tokio-postgres error from a PostgreSQL connection. The server's errors
/// are classified by SQLSTATE; the driver's own by their cause (a TLS
/// refusal, an I/O failure) or kind.
pub(crate) fn map_err(e: tokio_postgres::Error) -> Error {
    if let Some(db) = e.as_db_error() {
        return classify(
            db.code().code(),
            db.message().to_string(),
            db.constraint().map(str::to_string),
        );
    }
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        if let Some(tls) = s.downcast_ref::<rustls::Error>() {
            return crate::backend::server::tls_error(tls);
        }
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            if let Some(tls) = io.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
                return crate::backend::server::tls_error(tls);
            }
            return Error::ConnectionLost {
                message: io.to_string(),
                code: io.raw_os_error().map(|c| c.to_string()),
            };
        }
        source = s.source();
    }
    if e.is_closed() {
        return Error::ConnectionLost {
            message: "the connection was closed".into(),
            code: None,
        };
    }
    // the driver's error kinds are private: told apart by their text (its
    // `Display` leaves the cause out: appended here)
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(&e);
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    if text.starts_with("error performing TLS handshake") {
        Error::config(
            "tls_mode",
            format!(
                "TLS could not be set up: {text} (check tls_mode / sslmode and \
                 tls_root_cert / sslrootcert)"
            ),
        )
    } else if text.starts_with("error serializing parameter") || text.starts_with("expected ") {
        Error::invalid_input("parameter", text)
    } else if text.starts_with("error deserializing column") || text.starts_with("invalid column") {
        Error::decode("", text)
    } else if text.starts_with("authentication error") {
        Error::config("password", text)
    } else if text.starts_with("invalid configuration") || text.starts_with("invalid connection") {
        Error::config("url", text)
    } else if text.starts_with("error connecting") || text.starts_with("timeout") {
        Error::ConnectionLost {
            message: text,
            code: None,
        }
    } else {
        Error::Driver(text)
    }
}

/// Whether a prepared statement was invalidated by a schema change: "cached
/// plan must not change result type" (0A000) after `ALTER TABLE` under a
/// `SELECT *`. The statement did not run; re-preparing it fixes it.
pub(crate) fn stale_statement(e: &Error) -> bool {
    match e {
        Error::Database {
            code: Some(code),
            message,
            ..
        } => code == "0A000" && message.contains("cached plan"),
        _ => false,
    }
}

/// Whether an error leaves the connection unusable (it is then discarded):
/// a lost connection, a driver or protocol problem, and the protocol
/// violation (08P01), after which the server closes the session.
pub(crate) fn breaks_connection(e: &Error) -> bool {
    match e {
        Error::ConnectionLost { .. } | Error::Driver(_) => true,
        Error::Database { code: Some(c), .. } => c == "08P01",
        _ => false,
    }
}

/// PostgreSQL SQLSTATE -> Error.
pub(crate) fn classify(code: &str, message: String, constraint: Option<String>) -> Error {
    let code_s = Some(code.to_string());
    let cv = |kind| Error::ConstraintViolation {
        kind,
        constraint: constraint.clone(),
        message: message.clone(),
        code: code_s.clone(),
    };
    match code {
        "23505" => cv(ConstraintKind::Unique),
        "23503" => cv(ConstraintKind::ForeignKey),
        "23502" => cv(ConstraintKind::NotNull),
        "23514" => cv(ConstraintKind::Check),
        c if c.starts_with("23") => cv(ConstraintKind::Other),
        "40001" => Error::Serialization {
            deadlock: false,
            message,
            code: code_s,
        },
        "40P01" => Error::Serialization {
            deadlock: true,
            message,
            code: code_s,
        },
        "25006" => Error::ReadOnly {
            message,
            code: code_s,
        },
        // lock_not_available: NOWAIT or lock_timeout
        "55P03" => Error::Busy {
            message,
            code: code_s,
        },
        // protocol_violation: the server refused what the client sent (the
        // statement's own bytes); the server closes the session, but
        // nothing is wrong with it
        "08P01" => Error::Database {
            message,
            code: code_s,
            transient: false,
        },
        // admin_shutdown, crash_shutdown, cannot_connect_now, connection exceptions
        "57P01" | "57P02" | "57P03" => Error::ConnectionLost {
            message,
            code: code_s,
        },
        c if c.starts_with("08") => Error::ConnectionLost {
            message,
            code: code_s,
        },
        // too_many_connections, insufficient resources
        "53300" | "53000" | "53100" | "53200" => Error::Database {
            message,
            code: code_s,
            transient: true,
        },
        _ => Error::Database {
            message,
            code: code_s,
            transient: false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_codes() {
        assert!(classify("23505", "dup".into(), Some("u".into())).is_unique_violation());
        assert!(classify("40001", "x".into(), None).is_transient());
        assert!(classify("40P01", "x".into(), None).is_transient());
        assert!(!classify("42601", "syntax".into(), None).is_transient());
        assert!(classify("57P01", "bye".into(), None).is_infrastructure());
        assert!(!classify("23503", "fk".into(), None).is_infrastructure());
        assert!(matches!(
            classify("55P03", "could not obtain lock".into(), None),
            Error::Busy { .. }
        ));
        let proto = classify("08P01", "invalid message format".into(), None);
        assert!(!proto.is_infrastructure() && !proto.is_transient());
    }
}
