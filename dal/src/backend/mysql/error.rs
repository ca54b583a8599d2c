//! MySQL/MariaDB's error classification: error number -> [`Error`] kind (with
//! the constraint name read from the message), and which errors invalidate a
//! prepared statement or the connection.

use mysql_async::{DriverError, IoError};

use crate::error::{ConstraintKind, Error};

/// A mysql_async error -> dal's error.
pub(crate) fn map_err(e: mysql_async::Error) -> Error {
    match e {
        mysql_async::Error::Server(s) => classify(s.code, s.message),
        mysql_async::Error::Io(IoError::Io(e)) => {
            match e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
                Some(tls) => crate::backend::server::tls_error(tls),
                None => Error::ConnectionLost {
                    message: e.to_string(),
                    code: e.raw_os_error().map(|c| c.to_string()),
                },
            }
        }
        mysql_async::Error::Io(IoError::Tls(t)) => match t {
            mysql_async::TlsError::Tls(tls) => crate::backend::server::tls_error(&tls),
            other => Error::config(
                "tls_mode",
                format!(
                    "TLS could not be set up: {other} (check tls_mode / ssl-mode and \
                     tls_root_cert / ssl-ca)"
                ),
            ),
        },
        mysql_async::Error::Driver(d) => match d {
            DriverError::ConnectionClosed => Error::ConnectionLost {
                message: "the server closed the connection".into(),
                code: None,
            },
            // TLS demanded and not possible: configuration
            DriverError::NoClientSslFlagFromServer => Error::config(
                "tls_mode",
                "TLS could not be set up: the server does not offer it (lower tls_mode / \
                 ssl-mode to `prefer` or `disable`, or turn TLS on in the server)",
            ),
            // the statement did not run; the connection is fine
            DriverError::StmtParamsMismatch { required, supplied } => Error::invalid_input(
                "parameters",
                format!("the statement takes {required} parameters, {supplied} were given"),
            ),
            DriverError::StmtParamsNumberExceedsLimit { supplied } => Error::invalid_input(
                "parameters",
                format!(
                    "MySQL takes at most 65535 parameters per statement, {supplied} were given"
                ),
            ),
            DriverError::PacketTooLarge => Error::invalid_input(
                "parameters",
                "the statement is larger than the server's max_allowed_packet",
            ),
            // never shows values: the variants that carry them are not used
            other => Error::Driver(format!("mysql: {other}")),
        },
        mysql_async::Error::Url(u) => Error::config("url", u.to_string()),
        mysql_async::Error::Other(o) => Error::Driver(format!("mysql: {o}")),
    }
}

/// Whether a prepared statement was invalidated by a schema change: "prepared
/// statement needs to be re-prepared" (1615). The statement did not run;
/// re-preparing it fixes it.
pub(crate) fn stale_statement(e: &Error) -> bool {
    matches!(e, Error::Database { code: Some(code), .. } if code == "1615")
}

/// Whether an error leaves the connection unusable (it is then discarded):
/// a lost connection, a driver or protocol problem.
pub(crate) fn breaks_connection(e: &Error) -> bool {
    matches!(e, Error::ConnectionLost { .. } | Error::Driver(_))
}

/// MySQL / MariaDB error number -> Error.
pub(crate) fn classify(number: u16, message: String) -> Error {
    let code = Some(number.to_string());
    let constraint = mysql_constraint_name(&message);
    let cv = |kind| Error::ConstraintViolation {
        kind,
        constraint: constraint.clone(),
        message: message.clone(),
        code: code.clone(),
    };
    match number {
        1062 | 1586 => cv(ConstraintKind::Unique),
        1451 | 1452 | 1216 | 1217 => cv(ConstraintKind::ForeignKey),
        1048 | 1364 => cv(ConstraintKind::NotNull),
        // MySQL 8: 3819 ER_CHECK_CONSTRAINT_VIOLATED; MariaDB: 4025 ER_CONSTRAINT_FAILED;
        // 1265 "data truncated" is what an invalid ENUM value gives in strict mode.
        3819 | 4025 | 1265 => cv(ConstraintKind::Check),
        1213 => Error::Serialization {
            deadlock: true,
            message,
            code,
        },
        // lock wait timeout
        1205 => Error::Busy { message, code },
        // too many connections, out of resources
        1040 | 1203 | 1041 => Error::Database {
            message,
            code,
            transient: true,
        },
        // server gone away, lost connection, connection killed, shutdown in progress
        2006 | 2013 | 1927 | 1053 | 2002 | 2003 => Error::ConnectionLost { message, code },
        // a Galera node out of the primary component ("WSREP has not yet
        // prepared node for application use"): the session is useless until
        // the node rejoins; another node takes the work
        1047 if message.contains("WSREP") => Error::ConnectionLost { message, code },
        1290 | 1792 | 1836 => Error::ReadOnly { message, code },
        _ => Error::Database {
            message,
            code,
            transient: false,
        },
    }
}

fn mysql_constraint_name(message: &str) -> Option<String> {
    // "Duplicate entry 'x' for key 'users_email_unique'" (MariaDB may prefix the table)
    // "CONSTRAINT `posts_user_id_foreign` FOREIGN KEY ..."
    // "CONSTRAINT `t_check` failed for `db`.`t`"
    if let Some(i) = message.rfind("for key '") {
        let rest = &message[i + 9..];
        let name = rest.split('\'').next()?;
        return Some(name.rsplit('.').next().unwrap_or(name).to_string());
    }
    if let Some(i) = message.find("CONSTRAINT `") {
        let rest = &message[i + 12..];
        return rest.split('`').next().map(str::to_string);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mysql_codes_and_constraint_names() {
        match classify(
            1062,
            "Duplicate entry 'a' for key 'users_email_unique'".into(),
        ) {
            Error::ConstraintViolation {
                kind: ConstraintKind::Unique,
                constraint,
                ..
            } => assert_eq!(constraint.as_deref(), Some("users_email_unique")),
            other => panic!("{other:?}"),
        }
        match classify(4025, "CONSTRAINT `t_x_check` failed for `db`.`t`".into()) {
            Error::ConstraintViolation {
                kind: ConstraintKind::Check,
                constraint,
                ..
            } => assert_eq!(constraint.as_deref(), Some("t_x_check")),
            other => panic!("{other:?}"),
        }
        assert!(classify(1213, "deadlock".into()).is_transient());
        let left = classify(
            1047,
            "WSREP has not yet prepared node for application use".into(),
        );
        assert!(matches!(left, Error::ConnectionLost { .. }), "{left:?}");
        assert!(!matches!(
            classify(1047, "Unknown command".into()),
            Error::ConnectionLost { .. }
        ));
        assert!(classify(2013, "lost".into()).is_infrastructure());
        assert!(!classify(1064, "syntax".into()).is_transient());
        assert!(matches!(
            classify(1205, "Lock wait timeout exceeded".into()),
            Error::Busy { .. }
        ));
    }
}
