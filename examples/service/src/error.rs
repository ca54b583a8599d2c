//! How a failure becomes an HTTP response: a status chosen from what
//! `dal::Error` says the caller should do, and a JSON body.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error answered as `{"error": "<code>", "message": "..."}`.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", what)
    }

    /// The schema is not there yet: the database has not answered since start.
    pub fn starting() -> Self {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "starting: the database has not been reached yet",
        )
    }
}

impl From<dal::Error> for ApiError {
    fn from(e: dal::Error) -> Self {
        use dal::Error as E;
        let (status, code) = match &e {
            E::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            E::InvalidInput { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_input"),
            E::ConstraintViolation { .. } | E::StaleVersion { .. } => {
                (StatusCode::CONFLICT, "conflict")
            }
            // The database is down, overloaded or shedding load: try again later.
            E::Timeout { .. }
            | E::CircuitOpen { .. }
            | E::ConnectionLost { .. }
            | E::Busy { .. }
            | E::Serialization { .. }
            | E::PoolClosed => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            _ if e.is_transient() || e.is_infrastructure() => {
                (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
            }
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        };
        if status.is_server_error() {
            tracing::warn!(error = %e.redacted(), status = status.as_u16(), "database call failed");
        }
        // dal's messages never carry secrets; for a 500 the server's text stays
        // in the log, since a client cannot act on it.
        let message = if status == StatusCode::INTERNAL_SERVER_ERROR {
            "internal error".to_string()
        } else {
            e.to_string()
        };
        ApiError {
            status,
            code,
            message,
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        ApiError::new(r.status(), "bad_request", r.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", r.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", r.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "error": self.code, "message": self.message });
        (self.status, Json(body)).into_response()
    }
}
