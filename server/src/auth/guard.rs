//! The one middleware every `/api` route passes through: it finds the route's line in
//! [`policy::POLICY`], refuses cross-site state changes (CSRF), and checks the session or the
//! API key against it. Handlers never check access themselves.

use std::net::SocketAddr;

use axum::{
    extract::{ConnectInfo, MatchedPath, Request, State},
    http::{HeaderMap, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

use super::{
    ApiKeyCaller, SIGN_IN, api_keys, constant_time_eq,
    policy::{self, Access},
    session,
};
use crate::{campaigns::now, error::ApiError, state::AppState};

pub async fn guard(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    match check(&state, &mut req).await {
        Ok(()) => next.run(req).await,
        Err(err) => err.into_response(),
    }
}

async fn check(state: &AppState, req: &mut Request) -> Result<(), ApiError> {
    let matched = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let path = matched.strip_prefix("/api").unwrap_or(matched.as_str());
    let method = req.method().clone();
    let Some(access) = policy::lookup(&method, path) else {
        let allow = policy::methods_of(path);
        if !allow.is_empty() {
            // A client's mistake (or a scanner's probe), not the server's: 405 with `Allow`.
            tracing::debug!(%method, path, "refused: the route does not answer this method");
            return Err(ApiError::MethodNotAllowed { allow });
        }
        // Fail closed: a route nobody wrote a policy for is not reachable.
        tracing::error!(%method, path, "refused: the route has no line in auth::policy::POLICY");
        return Err(ApiError::Forbidden(
            "This endpoint has no access policy yet, so nobody may call it.".into(),
        ));
    };
    authorize(state, req, access).await
}

/// Lets `req` through when it has `access`: an upload API key, or a session with the role
/// (and, for writes, this site's `Origin`); records the caller in the request's extensions.
/// The `/api` guard and the Graph API sandbox's debug endpoints both decide with it.
pub async fn authorize(
    state: &AppState,
    req: &mut Request,
    access: Access,
) -> Result<(), ApiError> {
    let method = req.method().clone();
    if access == Access::ApiKey {
        let caller = api_key(state, req.headers()).await?;
        req.extensions_mut().insert(caller);
        return Ok(());
    }
    if policy::is_state_changing(&method) && !same_origin(state, req.headers()) {
        return Err(ApiError::Forbidden(
            "This request did not come from this site's pages (its Origin or Referer header \
             is missing or another site's), so it was refused."
                .into(),
        ));
    }
    let user = match session::token_from(req.headers()) {
        Some(token) => session::resolve(&state.db, &token, now()).await?,
        None => None,
    };
    if let Access::Signed(required) = access {
        match &user {
            None => return Err(ApiError::Unauthorized(SIGN_IN.into())),
            Some(user) if !user.role.allows(required) => {
                return Err(ApiError::Forbidden(format!(
                    "Your role ({}) does not allow this; it needs {}.",
                    user.role.label(),
                    required.label()
                )));
            }
            Some(_) => {}
        }
    }
    if let Some(user) = user {
        req.extensions_mut().insert(user);
    }
    Ok(())
}

/// The key in `X-Api-Key`: the bootstrap `UPLOAD_API_KEY`, or a live key created by an admin.
async fn api_key(state: &AppState, headers: &HeaderMap) -> Result<ApiKeyCaller, ApiError> {
    let sent = headers.get("x-api-key").map(|v| v.as_bytes());
    check_key(state, sent, "in the X-Api-Key header").await
}

/// Segment's write key: the user name of HTTP Basic auth (`Authorization: Basic
/// base64("<key>:")`), checked against the same keys as the upload API's `X-Api-Key` (one key
/// may serve both APIs). Server-to-server, like the upload API: no session, no `Origin` check.
pub async fn write_key(state: &AppState, headers: &HeaderMap) -> Result<ApiKeyCaller, ApiError> {
    use base64::Engine as _;
    let decoded = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("basic").then_some(rest.trim())
        })
        .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok());
    // The user name is everything before the first `:`; the password is ignored (empty).
    let user = decoded
        .as_deref()
        .map(|d| d.split(|b| *b == b':').next().unwrap_or(d));
    check_key(
        state,
        user.filter(|u| !u.is_empty()),
        "as the write key: the user name of HTTP Basic auth, with an empty password",
    )
    .await
}

/// `sent` against `UPLOAD_API_KEY` and the live keys; `how` says where a client sends it.
async fn check_key(
    state: &AppState,
    sent: Option<&[u8]>,
    how: &str,
) -> Result<ApiKeyCaller, ApiError> {
    if let (Some(sent), Some(expected)) = (sent, state.config.upload_api_key.as_deref())
        && constant_time_eq(sent, expected.as_bytes())
    {
        return Ok(ApiKeyCaller {
            name: "UPLOAD_API_KEY".into(),
        });
    }
    if let Some(sent) = sent.and_then(|s| std::str::from_utf8(s).ok())
        && let Some(name) = api_keys::check(&state.db, sent, now()).await?
    {
        return Ok(ApiKeyCaller { name });
    }
    if state.config.upload_api_key.is_none() && !api_keys::any(&state.db).await? {
        return Err(ApiError::Unauthorized(format!(
            "Uploads are disabled: an admin creates an API key on the API keys page (or sets \
             UPLOAD_API_KEY on the server); send it {how}."
        )));
    }
    Err(ApiError::Unauthorized(format!(
        "Send a valid API key {how}."
    )))
}

/// Whether the request's `Origin` (or, without one, its `Referer`) is this site: the host the
/// request was sent to, or `PUBLIC_URL`. Browsers always send `Origin` on cross-site writes, and
/// scripts on other sites cannot forge it.
fn same_origin(state: &AppState, headers: &HeaderMap) -> bool {
    let source = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .and_then(|v| v.to_str().ok());
    let Some(origin) = source.and_then(origin_of) else {
        return false;
    };
    if let Some(public) = state.config.public_url.as_deref().and_then(origin_of)
        && origin.eq_ignore_ascii_case(public)
    {
        return true;
    }
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    ["http://", "https://"].into_iter().any(|scheme| {
        origin.len() == scheme.len() + host.len()
            && origin[..scheme.len()].eq_ignore_ascii_case(scheme)
            && origin[scheme.len()..].eq_ignore_ascii_case(host)
    })
}

/// `scheme://host[:port]` of a URL, without path, query or trailing slash.
fn origin_of(url: &str) -> Option<&str> {
    let (scheme, rest) = url.split_once("://")?;
    if scheme.is_empty() {
        return None;
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    (end > 0).then(|| &url[..scheme.len() + 3 + end])
}

/// Whether the browser reached this server over HTTPS (directly configured, or through a proxy
/// that says so), so cookies must be `Secure`.
pub fn is_https(state: &AppState, headers: &HeaderMap) -> bool {
    state
        .config
        .public_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"))
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

/// The client's address for login throttling: the peer, or with `TRUST_PROXY` the address the
/// proxy appended last to `X-Forwarded-For`.
pub fn client_address(state: &AppState, headers: &HeaderMap, peer: Option<SocketAddr>) -> String {
    if state.config.trust_proxy {
        let forwarded = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .map(str::trim)
            .filter(|v| !v.is_empty());
        if let Some(addr) = forwarded {
            return addr.chars().take(64).collect();
        }
    }
    peer.map_or_else(|| "unknown".to_owned(), |p| p.ip().to_string())
}

/// The peer address axum recorded, when the server was started with it.
pub fn peer(req_extensions: &axum::http::Extensions) -> Option<SocketAddr> {
    req_extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| *addr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_cut_at_the_path() {
        assert_eq!(
            origin_of("http://127.0.0.1:3000/campaigns?x=1"),
            Some("http://127.0.0.1:3000")
        );
        assert_eq!(origin_of("https://a.example"), Some("https://a.example"));
        assert_eq!(origin_of("null"), None);
        assert_eq!(origin_of("http:///x"), None);
    }
}
