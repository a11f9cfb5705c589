//! The one JSON error body every API error uses.
//!
//! ```json
//! {"error":{"code":"validation_failed","message":"…","fields":[{"path":"name","message":"…"}]}}
//! ```

use serde::{Deserialize, Serialize};

/// The body of every non-2xx API response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong, for a program (`code`) and for a person (`message`, `fields`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    pub code: ErrorCode,
    /// A sentence a marketer can act on.
    pub message: String,
    /// One entry per invalid field; empty when the error is not about a field.
    #[serde(default)]
    pub fields: Vec<FieldError>,
}

/// A problem with one field of the input, located by a path such as `schedule.times[2]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    /// Dotted path with indices, relative to the request body: `audience.rules[0].window.days`.
    pub path: String,
    pub message: String,
}

impl FieldError {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// Machine-readable error kinds. Unknown codes from a newer server decode as [`ErrorCode::Other`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request body is not valid JSON or does not have the expected shape (HTTP 400).
    BadRequest,
    /// Not signed in (HTTP 401).
    Unauthorized,
    /// Signed in, but the role does not allow it (HTTP 403).
    Forbidden,
    /// No such resource or route (HTTP 404).
    NotFound,
    /// The route exists, but not with this method; `Allow` lists those it has (HTTP 405).
    MethodNotAllowed,
    /// Someone else changed the resource first (HTTP 409).
    Conflict,
    /// The body is larger than the server accepts (HTTP 413).
    PayloadTooLarge,
    /// The input parsed but breaks a rule; see `fields` (HTTP 422).
    ValidationFailed,
    /// Too many requests; try again later (HTTP 429).
    RateLimited,
    /// Facebook refused or failed the call; the message says what to do (HTTP 502).
    Facebook,
    /// A fault on our side; details are in the server log (HTTP 500).
    Internal,
    /// The server is starting, stopping or its database is unreachable (HTTP 503).
    Unavailable,
    #[serde(other)]
    Other,
}

impl ErrorBody {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            error: ErrorDetail {
                code,
                message: message.into(),
                fields: Vec::new(),
            },
        }
    }

    pub fn with_fields(mut self, fields: Vec<FieldError>) -> Self {
        self.error.fields = fields;
        self
    }
}

impl std::fmt::Display for ErrorBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.error.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_has_the_documented_json_shape() {
        let body = ErrorBody::new(ErrorCode::ValidationFailed, "Fix the highlighted fields.")
            .with_fields(vec![FieldError::new("name", "Give the campaign a name.")]);
        let json = serde_json::to_value(&body).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"error": {
                "code": "validation_failed",
                "message": "Fix the highlighted fields.",
                "fields": [{"path": "name", "message": "Give the campaign a name."}]
            }})
        );
        assert_eq!(serde_json::from_value::<ErrorBody>(json).unwrap(), body);
    }

    #[test]
    fn unknown_codes_and_missing_fields_still_decode() {
        let body: ErrorBody =
            serde_json::from_str(r#"{"error":{"code":"brand_new","message":"m"}}"#).unwrap();
        assert_eq!(body.error.code, ErrorCode::Other);
        assert!(body.error.fields.is_empty());
    }
}
