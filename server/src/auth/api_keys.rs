//! Upload API keys: random secrets shown once at creation; the database keeps their SHA-256.

use jiff::Timestamp;
use shared::account::{ApiKey, CreatedApiKey, NewApiKey, validate_new_api_key};

use super::{random_hex, sha256_hex};
use crate::{
    campaigns::repo::ts_to_db,
    db::{Db, with_pool},
    error::{ApiError, ApiResult},
};

/// Every key starts with this, so a leaked one is recognisable in code and logs scanners.
pub const PREFIX: &str = "fba_";
/// How many characters of a key are kept in clear to tell keys apart.
const SHOWN: usize = 12;

const COLUMNS: &str = "id, name, prefix, created_at, created_by, last_used_at, revoked_at";

#[derive(sqlx::FromRow)]
struct KeyRow {
    id: i64,
    name: String,
    prefix: String,
    created_at: String,
    created_by: String,
    last_used_at: Option<String>,
    revoked_at: Option<String>,
}

impl From<KeyRow> for ApiKey {
    fn from(r: KeyRow) -> Self {
        ApiKey {
            id: r.id,
            name: r.name,
            prefix: r.prefix,
            created_at: r.created_at,
            created_by: r.created_by,
            last_used_at: r.last_used_at,
            revoked_at: r.revoked_at,
        }
    }
}

pub async fn list(db: &Db) -> ApiResult<Vec<ApiKey>> {
    let sql = format!("select {COLUMNS} from api_keys order by id desc");
    let rows: Vec<KeyRow> = with_pool!(db, pool => sqlx::query_as(&sql).fetch_all(pool).await?);
    Ok(rows.into_iter().map(ApiKey::from).collect())
}

pub async fn get(db: &Db, id: i64) -> ApiResult<ApiKey> {
    let sql = format!("select {COLUMNS} from api_keys where id = $1");
    let row: Option<KeyRow> =
        with_pool!(db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?);
    row.map(ApiKey::from)
        .ok_or_else(|| ApiError::not_found(format!("There is no API key {id}.")))
}

pub async fn create(
    db: &Db,
    new: &NewApiKey,
    created_by: &str,
    now: Timestamp,
) -> ApiResult<CreatedApiKey> {
    let errors = validate_new_api_key(new);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let secret = format!("{PREFIX}{}", random_hex(32)?);
    let prefix: String = secret.chars().take(SHOWN).collect();
    let now = ts_to_db(now);
    let id: i64 = with_pool!(db, pool => {
        sqlx::query_scalar(
            "insert into api_keys (name, prefix, key_hash, created_at, created_by) \
             values ($1, $2, $3, $4, $5) returning id",
        )
        .bind(new.name.trim())
        .bind(&prefix)
        .bind(sha256_hex(&secret))
        .bind(&now)
        .bind(created_by)
        .fetch_one(pool)
        .await?
    });
    Ok(CreatedApiKey {
        key: get(db, id).await?,
        secret,
    })
}

/// Revokes key `id`; it stops working at once. Revoking twice keeps the first time.
pub async fn revoke(db: &Db, id: i64, now: Timestamp) -> ApiResult<ApiKey> {
    let now = ts_to_db(now);
    with_pool!(db, pool => {
        sqlx::query("update api_keys set revoked_at = $1 where id = $2 and revoked_at is null")
            .bind(&now)
            .bind(id)
            .execute(pool)
            .await?;
    });
    get(db, id).await
}

/// The name of the live key `sent` is, if it is one; records its use.
pub async fn check(db: &Db, sent: &str, now: Timestamp) -> ApiResult<Option<String>> {
    if !sent.starts_with(PREFIX) || sent.len() > 200 {
        return Ok(None);
    }
    let hash = sha256_hex(sent);
    let now = ts_to_db(now);
    let name: Option<String> = with_pool!(db, pool => {
        sqlx::query_scalar(
            "update api_keys set last_used_at = $1 where key_hash = $2 and revoked_at is null \
             returning name",
        )
        .bind(&now)
        .bind(&hash)
        .fetch_optional(pool)
        .await?
    });
    Ok(name)
}

/// Whether any key was ever created (to say how to enable uploads when none was).
pub async fn any(db: &Db) -> ApiResult<bool> {
    let n: i64 = with_pool!(db, pool => {
        sqlx::query_scalar("select count(*) from api_keys").fetch_one(pool).await?
    });
    Ok(n > 0)
}
