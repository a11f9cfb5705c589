//! `GET /api/health` and `GET /api/health/ready`.

use serde::{Deserialize, Serialize};

/// The server's liveness and identity, shown in the app's footer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    /// Always `"ok"` when the server answers and its database responds.
    pub status: String,
    /// The server's version (its crate version).
    pub version: String,
    pub database: DatabaseKind,
}

/// Which database engine the server stores its data in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum DatabaseKind {
    Sqlite,
    Postgres,
}

impl DatabaseKind {
    pub fn label(self) -> &'static str {
        match self {
            Self::Sqlite => "SQLite",
            Self::Postgres => "PostgreSQL",
        }
    }
}

/// `GET /api/health/ready`: the server may take traffic. Answered 503 (with the reason)
/// instead when its database does not answer or lacks one of its migrations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Readiness {
    /// Always `"ready"`.
    pub status: String,
    pub database: DatabaseKind,
    /// The newest database migration this server carries, applied.
    pub migration: i64,
}
