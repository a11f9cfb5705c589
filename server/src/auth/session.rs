//! Server-side sessions. The browser holds a random token in an HttpOnly cookie; the database
//! holds only its SHA-256, the user, and two clocks: idle (last seen) and absolute (expires).

use axum::http::{HeaderMap, HeaderValue, header};
use jiff::{SignedDuration, Timestamp};
use shared::account::Role;

use super::{CurrentUser, random_hex, sha256_hex};
use crate::{
    campaigns::repo::{ts_from_db, ts_to_db},
    db::{Db, with_pool},
    error::ApiResult,
};

pub const COOKIE: &str = "fba_session";
/// A session nobody used for this long has ended.
pub const IDLE: SignedDuration = SignedDuration::from_hours(8);
/// A session ends this long after sign-in, however active.
pub const ABSOLUTE: SignedDuration = SignedDuration::from_hours(7 * 24);
/// `last_seen_at` is written at most this often, so reads do not each cost a write.
const TOUCH_EVERY: SignedDuration = SignedDuration::from_secs(60);

/// Starts a session for `user_id`; returns the token for the cookie (never stored or logged).
pub async fn start(db: &Db, user_id: i64, now: Timestamp) -> ApiResult<String> {
    let token = random_hex(32)?;
    let hash = sha256_hex(&token);
    let created = ts_to_db(now);
    let expires = ts_to_db(now + ABSOLUTE);
    with_pool!(db, pool => {
        sqlx::query(
            "insert into sessions (token_hash, user_id, created_at, last_seen_at, expires_at) \
             values ($1, $2, $3, $3, $4)",
        )
        .bind(&hash)
        .bind(user_id)
        .bind(&created)
        .bind(&expires)
        .execute(pool)
        .await?;
        sqlx::query("update users set last_login_at = $1 where id = $2")
            .bind(&created)
            .bind(user_id)
            .execute(pool)
            .await?;
    });
    Ok(token)
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    id: i64,
    user_id: i64,
    last_seen_at: String,
    expires_at: String,
    email: String,
    role: String,
    disabled_at: Option<String>,
}

/// The user `token` signs in, if its session is live; a dead session is deleted.
pub async fn resolve(db: &Db, token: &str, now: Timestamp) -> ApiResult<Option<CurrentUser>> {
    let hash = sha256_hex(token);
    let row: Option<SessionRow> = with_pool!(db, pool => {
        sqlx::query_as(
            "select s.id, s.user_id, s.last_seen_at, s.expires_at, u.email, u.role, u.disabled_at \
             from sessions s join users u on u.id = s.user_id where s.token_hash = $1",
        )
        .bind(&hash)
        .fetch_optional(pool)
        .await?
    });
    let Some(row) = row else { return Ok(None) };
    let last_seen = ts_from_db(&row.last_seen_at)?;
    let live =
        now < ts_from_db(&row.expires_at)? && now < last_seen + IDLE && row.disabled_at.is_none();
    let role = Role::parse(&row.role);
    if !live || role.is_none() {
        delete(db, row.id).await?;
        return Ok(None);
    }
    if now >= last_seen + TOUCH_EVERY {
        let now = ts_to_db(now);
        with_pool!(db, pool => {
            sqlx::query("update sessions set last_seen_at = $1 where id = $2")
                .bind(&now)
                .bind(row.id)
                .execute(pool)
                .await?;
        });
    }
    Ok(role.map(|role| CurrentUser {
        id: row.user_id,
        email: row.email,
        role,
        session_id: row.id,
    }))
}

pub async fn delete(db: &Db, session_id: i64) -> ApiResult<()> {
    with_pool!(db, pool => {
        sqlx::query("delete from sessions where id = $1")
            .bind(session_id)
            .execute(pool)
            .await?;
    });
    Ok(())
}

/// Ends the session `token` belongs to, if any.
pub async fn end(db: &Db, token: &str) -> ApiResult<()> {
    let hash = sha256_hex(token);
    with_pool!(db, pool => {
        sqlx::query("delete from sessions where token_hash = $1")
            .bind(&hash)
            .execute(pool)
            .await?;
    });
    Ok(())
}

/// Ends every session of a user (disabled, demoted or given a new password).
pub async fn end_all_for(db: &Db, user_id: i64) -> ApiResult<()> {
    with_pool!(db, pool => {
        sqlx::query("delete from sessions where user_id = $1")
            .bind(user_id)
            .execute(pool)
            .await?;
    });
    Ok(())
}

/// The session token the request's `Cookie` header carries.
pub fn token_from(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_owned())
        // Tokens are hex; anything else is not ours and is not looked up.
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// `Set-Cookie` for a new session. HttpOnly: scripts cannot read it; SameSite=Lax: other sites'
/// forms and scripts do not send it; Secure when the site is served over HTTPS.
pub fn cookie(token: &str, secure: bool) -> HeaderValue {
    let max_age = ABSOLUTE.as_secs();
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("fba_session=; Path=/; Max-Age=0"))
}

/// `Set-Cookie` that removes the session cookie.
pub fn clear_cookie(secure: bool) -> HeaderValue {
    HeaderValue::from_static(if secure {
        "fba_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0; Secure"
    } else {
        "fba_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_read_from_among_other_cookies() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("theme=dark; fba_session=ab12; x=y"),
        );
        assert_eq!(token_from(&headers).as_deref(), Some("ab12"));
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("fba_session=<script>"),
        );
        assert_eq!(token_from(&headers), None);
    }

    #[test]
    fn the_cookie_is_http_only_and_same_site() {
        let c = cookie("ab", false);
        let c = c.to_str().unwrap();
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Lax") && !c.contains("Secure"));
        assert!(cookie("ab", true).to_str().unwrap().ends_with("; Secure"));
    }
}
