//! The server's one error type. Every handler returns `Result<_, ApiError>`, and every error leaves
//! the server as the shared JSON body `{"error":{"code","message","fields"}}`.

use axum::{
    extract::{FromRequest, FromRequestParts, Path, Request, rejection::JsonRejection},
    http::StatusCode,
    http::request::Parts,
    response::{IntoResponse, Response},
};
use serde::de::DeserializeOwned;
use shared::error::{ErrorBody, ErrorCode, FieldError};

pub type ApiResult<T> = Result<T, ApiError>;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    /// Signed in, but the role does not allow it; or a cross-site request.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// The path is a route, but not for this method: `allow` lists the methods it has.
    #[error("method not allowed")]
    MethodNotAllowed { allow: Vec<axum::http::Method> },
    #[error("{0}")]
    Conflict(String),
    #[error("the request body is larger than this server accepts")]
    PayloadTooLarge,
    /// Larger than a limit of the endpoint's own, which the message names.
    #[error("{0}")]
    TooLarge(String),
    /// Too many attempts; the client may retry after this many seconds.
    #[error("{message}")]
    RateLimited {
        message: String,
        retry_after_secs: u64,
    },
    #[error("{} field(s) are invalid", .0.len())]
    Validation(Vec<FieldError>),
    /// A dependency (the database) does not answer; the client may retry.
    #[error("{0}")]
    Unavailable(String),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    pub fn not_found(what: impl Into<String>) -> Self {
        Self::NotFound(what.into())
    }

    fn status_and_body(&self) -> (StatusCode, ErrorBody) {
        use ApiError as E;
        match self {
            E::BadRequest(msg) => (
                StatusCode::BAD_REQUEST,
                ErrorBody::new(ErrorCode::BadRequest, msg),
            ),
            E::Unauthorized(msg) => (
                StatusCode::UNAUTHORIZED,
                ErrorBody::new(ErrorCode::Unauthorized, msg),
            ),
            E::Forbidden(msg) => (
                StatusCode::FORBIDDEN,
                ErrorBody::new(ErrorCode::Forbidden, msg),
            ),
            E::RateLimited { message, .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                ErrorBody::new(ErrorCode::RateLimited, message),
            ),
            E::NotFound(msg) => (
                StatusCode::NOT_FOUND,
                ErrorBody::new(ErrorCode::NotFound, msg),
            ),
            E::MethodNotAllowed { allow } => (
                StatusCode::METHOD_NOT_ALLOWED,
                ErrorBody::new(
                    ErrorCode::MethodNotAllowed,
                    format!(
                        "This endpoint does not answer this method; it answers {}.",
                        allow_header(allow)
                    ),
                ),
            ),
            E::Conflict(msg) => (
                StatusCode::CONFLICT,
                ErrorBody::new(ErrorCode::Conflict, msg),
            ),
            E::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorBody::new(
                    ErrorCode::PayloadTooLarge,
                    "The request body is larger than this server accepts (BODY_LIMIT_BYTES).",
                ),
            ),
            E::TooLarge(msg) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorBody::new(ErrorCode::PayloadTooLarge, msg),
            ),
            E::Validation(fields) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorBody::new(
                    ErrorCode::ValidationFailed,
                    "Some fields need attention before this can be saved.",
                )
                .with_fields(fields.clone()),
            ),
            E::Database(sqlx::Error::RowNotFound) => (
                StatusCode::NOT_FOUND,
                ErrorBody::new(ErrorCode::NotFound, "It does not exist, or it was deleted."),
            ),
            E::Unavailable(msg) => (
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorBody::new(ErrorCode::Unavailable, msg),
            ),
            E::Database(sqlx::Error::PoolTimedOut) => (
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorBody::new(
                    ErrorCode::Unavailable,
                    "The database is busy; try again shortly.",
                ),
            ),
            // Internal details go to the log, never to the client.
            E::Database(_) | E::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorBody::new(
                    ErrorCode::Internal,
                    "Something went wrong on the server; the details are in its log.",
                ),
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = self.status_and_body();
        if status.is_server_error() {
            tracing::error!(error = ?self, "request failed");
        }
        let mut res = (status, axum::Json(body)).into_response();
        match self {
            Self::RateLimited {
                retry_after_secs, ..
            } => {
                res.headers_mut()
                    .insert(axum::http::header::RETRY_AFTER, retry_after_secs.into());
            }
            Self::MethodNotAllowed { allow } => {
                if let Ok(value) = axum::http::HeaderValue::from_str(&allow_header(&allow)) {
                    res.headers_mut().insert(axum::http::header::ALLOW, value);
                }
            }
            _ => {}
        }
        res
    }
}

/// `GET, HEAD, PUT`: the value of an `Allow` header.
fn allow_header(methods: &[axum::http::Method]) -> String {
    let names: Vec<&str> = methods.iter().map(axum::http::Method::as_str).collect();
    names.join(", ")
}

/// Like `axum::Json`, but a body that is not valid JSON, or not of the expected shape, is answered
/// with the shared error body (400, or 413 when too large) instead of axum's plain-text rejection.
///
/// Every request body of this API is a JSON object: serde would also read a struct from a
/// positional array (`["admin"]` as `{"role":"admin"}`, `[null,null]` as an empty change), which
/// no client means to send, so anything but an object is refused here, for every endpoint.
#[derive(Debug, Clone, Copy, Default)]
pub struct AppJson<T>(pub T);

impl<T, S> FromRequest<S> for AppJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(ApiError::BadRequest(MISSING_JSON.into()));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::PayloadTooLarge
                } else {
                    ApiError::BadRequest(rejection.body_text())
                }
            })?;
        if !is_object(&bytes) {
            return Err(ApiError::BadRequest(
                "The body must be a JSON object ({\"name\": …}), not an array or a single value."
                    .into(),
            ));
        }
        match axum::Json::<T>::from_bytes(&bytes) {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(rejection.into()),
        }
    }
}

const MISSING_JSON: &str = "Send the body as JSON with `Content-Type: application/json`.";

/// `application/json` or `application/…+json`, as `axum::Json` accepts.
fn is_json(headers: &axum::http::HeaderMap) -> bool {
    let Some(value) = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Whether the body's first non-blank byte opens an object (the parser checks the rest).
fn is_object(body: &[u8]) -> bool {
    body.iter()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        .is_some_and(|b| *b == b'{')
}

impl<T: serde::Serialize> IntoResponse for AppJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::BytesRejection(ref inner)
                if inner.status() == StatusCode::PAYLOAD_TOO_LARGE =>
            {
                Self::PayloadTooLarge
            }
            JsonRejection::MissingJsonContentType(_) => Self::BadRequest(MISSING_JSON.into()),
            JsonRejection::JsonSyntaxError(err) => {
                Self::BadRequest(format!("The body is not valid JSON: {}", source_text(&err)))
            }
            JsonRejection::JsonDataError(err) => Self::BadRequest(format!(
                "The body does not have the expected shape: {}",
                source_text(&err)
            )),
            other => Self::BadRequest(other.body_text()),
        }
    }
}

/// serde's message ("missing field `name` at line 1 column 2") without axum's generic prefix.
fn source_text(err: &dyn std::error::Error) -> String {
    let mut last = err.to_string();
    let mut source = err.source();
    while let Some(inner) = source {
        last = inner.to_string();
        source = inner.source();
    }
    last
}

/// A numeric `{id}` path segment. An id that is not a number cannot name anything, so it gets the
/// JSON 404 every unknown id gets rather than axum's plain-text 400.
pub struct IdPath(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for IdPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let path = parts.uri.path().to_owned();
        let not_found = || ApiError::not_found(format!("There is nothing at {path}."));
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| not_found())?;
        raw.parse().map(Self).map_err(|_| not_found())
    }
}

#[cfg(test)]
mod tests {
    use super::is_object;

    #[test]
    fn only_objects_are_request_bodies() {
        assert!(is_object(b"{}"));
        assert!(is_object(b" \r\n\t{\"role\":\"admin\"}"));
        for body in [
            &b"[\"admin\"]"[..],
            b"[null,null]",
            b"null",
            b"\"x\"",
            b"1",
            b"",
        ] {
            assert!(!is_object(body), "{}", String::from_utf8_lossy(body));
        }
    }
}
