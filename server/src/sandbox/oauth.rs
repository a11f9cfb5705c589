//! Facebook Login, emulated: the OAuth dialog Facebook shows on www.facebook.com (served here
//! under [`DIALOG_PATH`]: a plain consent page with a checkbox per permission and per ad account,
//! Allow and Cancel) and the token endpoint on graph.facebook.com (`/oauth/access_token`: the
//! code exchange and `grant_type=fb_exchange_token`), with Facebook's parameters, answers and
//! errors. A token issued here carries what the person granted: `/me/permissions`,
//! `/me/adaccounts`, `debug_token` and the `ads_management` check of writes answer from it.
//!
//! The sandbox's app is [`super::SANDBOX_APP_ID`] with the secret
//! [`crate::settings::SANDBOX_APP_SECRET`], unless the server is configured with its own app id
//! or secret: then those are the ones it accepts.

use std::collections::HashMap;

use axum::{
    Router,
    body::Bytes,
    extract::{RawQuery, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use serde_json::json;

use super::{GraphError, SANDBOX_APP_ID, Sandbox, SandboxState, next_trace};

/// The dialog, as `https://www.facebook.com/v25.0/dialog/oauth` is on Facebook.
pub const DIALOG_PATH: &str = "/sandbox/www/v25.0/dialog/oauth";
/// A code is exchanged within this long, or never (Facebook: about ten minutes).
const CODE_LIFETIME: jiff::SignedDuration = jiff::SignedDuration::from_mins(10);
/// A short-lived user token (the code exchange's answer): about two hours.
const SHORT_LIVED_SECS: i64 = 7_199;
/// A long-lived user token (`fb_exchange_token`'s answer): about sixty days, as Facebook says.
const LONG_LIVED_SECS: i64 = 5_183_944;
/// The permissions the emulated app may ask for; others are ignored, as Facebook does.
const KNOWN_SCOPES: [&str; 5] = [
    "ads_management",
    "ads_read",
    "business_management",
    "public_profile",
    "email",
];

/// What a person granted to one token (or code).
#[derive(Debug, Clone)]
pub(crate) struct Grant {
    pub granted: Vec<String>,
    pub declined: Vec<String>,
    /// The ad accounts the person let the app use (`act_…`).
    pub accounts: Vec<String>,
    pub expires_at: jiff::Timestamp,
}

struct Code {
    app_id: String,
    redirect_uri: String,
    grant: Grant,
    issued_at: jiff::Timestamp,
    used: bool,
}

/// Codes and tokens issued by the dialog and the token endpoint.
#[derive(Default)]
pub(crate) struct LoginState {
    codes: HashMap<String, Code>,
    tokens: HashMap<String, Grant>,
}

impl LoginState {
    /// What `token` was granted, when this sandbox issued it.
    pub fn grant(&self, token: &str) -> Option<&Grant> {
        self.tokens.get(token)
    }
}

/// `GET /me/permissions` for a token: what was granted and declined (all of the sandbox's
/// default scopes, granted, for a token this sandbox did not issue).
pub(crate) fn permissions(grant: Option<&Grant>, default: &[String]) -> serde_json::Value {
    let mut data: Vec<serde_json::Value> = Vec::new();
    match grant {
        Some(g) => {
            for s in &g.granted {
                data.push(json!({ "permission": s, "status": "granted" }));
            }
            for s in &g.declined {
                data.push(json!({ "permission": s, "status": "declined" }));
            }
        }
        None => {
            for s in default {
                data.push(json!({ "permission": s, "status": "granted" }));
            }
        }
    }
    json!({ "data": data })
}

pub(super) fn routes() -> Router<Sandbox> {
    Router::new()
        .route(DIALOG_PATH, get(dialog).post(decide))
        // Static, so it wins over the Graph catch-all (no access token is needed here).
        .route(
            "/sandbox/graph/v25.0/oauth/access_token",
            get(access_token).post(access_token),
        )
}

/// The app id and secret the sandbox accepts.
fn app(sb: &Sandbox) -> (String, String) {
    let access = sb.config.access();
    (
        access.app_id.unwrap_or_else(|| SANDBOX_APP_ID.to_owned()),
        access
            .app_secret
            .unwrap_or_else(|| crate::settings::SANDBOX_APP_SECRET.to_owned()),
    )
}

fn pairs(raw: &[u8]) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes(raw).unwrap_or_default()
}

fn first<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// Facebook's own error page (it does not redirect for these: the app is misconfigured).
fn error_page(title: &str, text: &str) -> Response {
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t} | Facebook (sandbox)</title></head>\
         <body><main><h1>{t}</h1><p>{x}</p></main></body></html>",
        t = escape(title),
        x = escape(text)
    );
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// Checks what Facebook checks before showing the dialog; `Err` is the title and text of the
/// page it shows instead.
fn check_request(
    sb: &Sandbox,
    headers: &HeaderMap,
    p: &[(String, String)],
) -> Result<(String, String), (&'static str, &'static str)> {
    let (app_id, _) = app(sb);
    match first(p, "client_id") {
        Some(id) if id == app_id => {}
        _ => {
            return Err((
                "Invalid App ID",
                "The provided app ID does not look like a valid app ID.",
            ));
        }
    }
    let Some(redirect) = first(p, "redirect_uri").filter(|r| redirect_allowed(r, headers)) else {
        return Err((
            "URL Blocked",
            "This redirect failed because the redirect URI is not whitelisted in the app's Client OAuth Settings. Make sure Client and Web OAuth Login are on and add all your app domains as Valid OAuth Redirect URIs.",
        ));
    };
    if let Some(kind) = first(p, "response_type")
        && kind != "code"
    {
        return Err((
            "Sorry, something went wrong",
            "The sandbox's dialog answers response_type=code only (the server-side login flow).",
        ));
    }
    Ok((app_id, redirect.to_owned()))
}

/// The sandbox app's "Valid OAuth Redirect URIs": this host, or any loopback address (a second
/// local server using this sandbox).
fn redirect_allowed(uri: &str, headers: &HeaderMap) -> bool {
    let Some(rest) = uri
        .strip_prefix("http://")
        .or_else(|| uri.strip_prefix("https://"))
    else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_only = authority
        .rsplit_once(':')
        .filter(|(h, port)| !h.is_empty() && port.bytes().all(|b| b.is_ascii_digit()))
        .map_or(authority, |(h, _)| h);
    let this_host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    !authority.is_empty()
        && (authority.eq_ignore_ascii_case(this_host)
            || ["localhost", "127.0.0.1", "[::1]"].contains(&host_only))
}

fn requested_scopes(p: &[(String, String)]) -> (Vec<String>, Vec<String>) {
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for s in first(p, "scope")
        .unwrap_or("public_profile")
        .split([',', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let list = if KNOWN_SCOPES.contains(&s) {
            &mut known
        } else {
            &mut unknown
        };
        if !list.iter().any(|x| x == s) {
            list.push(s.to_owned());
        }
    }
    (known, unknown)
}

/// `GET …/dialog/oauth`: the consent page.
async fn dialog(
    State(sb): State<Sandbox>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let p = pairs(query.unwrap_or_default().as_bytes());
    let (app_id, redirect) = match check_request(&sb, &headers, &p) {
        Ok(ok) => ok,
        Err((title, text)) => return error_page(title, text),
    };
    let (scopes, unknown) = requested_scopes(&p);
    let accounts: Vec<(String, String)> = {
        let state = sb.lock();
        state
            .children(super::Kind::Account, "me")
            .into_iter()
            .map(|(id, n)| {
                let name = n.fields.get("name").and_then(|v| v.as_str()).unwrap_or(id);
                (id.to_owned(), name.to_owned())
            })
            .collect()
    };
    let hidden = |name: &str, value: &str| {
        format!(
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            escape(name),
            escape(value)
        )
    };
    let mut html = String::from(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>Log in with Facebook (sandbox)</title></head><body><main>\
         <h1>Facebook Audiences (sandbox) is requesting access</h1>\
         <p>You are signed in to the Graph API sandbox as <strong>Sandbox User</strong>. \
         Untick what you do not want to share.</p>",
    );
    if !unknown.is_empty() {
        html.push_str(&format!(
            "<p role=\"note\">Invalid Scopes: {}. This message is only shown to developers. Users of your app will ignore these permissions if present.</p>",
            escape(&unknown.join(", "))
        ));
    }
    html.push_str(&format!("<form method=\"post\" action=\"{DIALOG_PATH}\">"));
    html.push_str(&hidden("client_id", &app_id));
    html.push_str(&hidden("redirect_uri", &redirect));
    if let Some(state) = first(&p, "state") {
        html.push_str(&hidden("state", state));
    }
    html.push_str(&hidden("scope", &scopes.join(",")));
    html.push_str("<fieldset><legend>Permissions</legend>");
    for (i, s) in scopes.iter().enumerate() {
        html.push_str(&format!(
            "<div><input type=\"checkbox\" id=\"scope-{i}\" name=\"grant\" value=\"{v}\" checked>\
             <label for=\"scope-{i}\">{v}</label></div>",
            v = escape(s)
        ));
    }
    html.push_str("</fieldset><fieldset><legend>Ad accounts</legend>");
    for (i, (id, name)) in accounts.iter().enumerate() {
        html.push_str(&format!(
            "<div><input type=\"checkbox\" id=\"account-{i}\" name=\"account\" value=\"{id}\" checked>\
             <label for=\"account-{i}\">{name} ({id})</label></div>",
            id = escape(id),
            name = escape(name)
        ));
    }
    html.push_str(
        "</fieldset><button type=\"submit\" name=\"choice\" value=\"allow\">Allow</button> \
         <button type=\"submit\" name=\"choice\" value=\"cancel\">Cancel</button></form></main></body></html>",
    );
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        html,
    )
        .into_response()
}

/// `redirect_uri` with `pairs` added to its query.
fn back_to(redirect: &str, pairs: &[(&str, &str)]) -> Response {
    let sep = if redirect.contains('?') { '&' } else { '?' };
    let query = serde_urlencoded::to_string(pairs).unwrap_or_default();
    (
        StatusCode::FOUND,
        [(header::LOCATION, format!("{redirect}{sep}{query}"))],
    )
        .into_response()
}

/// `POST …/dialog/oauth`: Allow or Cancel on the consent page.
async fn decide(State(sb): State<Sandbox>, headers: HeaderMap, body: Bytes) -> Response {
    let p = pairs(&body);
    let (app_id, redirect) = match check_request(&sb, &headers, &p) {
        Ok(ok) => ok,
        Err((title, text)) => return error_page(title, text),
    };
    let state_param = first(&p, "state").unwrap_or_default().to_owned();
    let with_state = |mut v: Vec<(&'static str, String)>| {
        if !state_param.is_empty() {
            v.push(("state", state_param.clone()));
        }
        v
    };
    if first(&p, "choice") != Some("allow") {
        // What Facebook sends when the person cancels.
        let v = with_state(vec![
            ("error_reason", "user_denied".to_owned()),
            ("error", "access_denied".to_owned()),
            ("error_description", "Permissions error".to_owned()),
        ]);
        let refs: Vec<(&str, &str)> = v.iter().map(|(k, v)| (*k, v.as_str())).collect();
        return back_to(&redirect, &refs);
    }
    let (requested, _) = requested_scopes(&p);
    let ticked: Vec<&str> = p
        .iter()
        .filter(|(k, _)| k == "grant")
        .map(|(_, v)| v.as_str())
        .collect();
    let (mut granted, declined): (Vec<String>, Vec<String>) = requested
        .into_iter()
        .partition(|s| ticked.contains(&s.as_str()));
    // Facebook always grants the public profile.
    if !granted.iter().any(|s| s == "public_profile") {
        granted.push("public_profile".to_owned());
    }
    let mut state = sb.lock();
    let known: Vec<String> = state
        .children(super::Kind::Account, "me")
        .into_iter()
        .map(|(id, _)| id.to_owned())
        .collect();
    let accounts: Vec<String> = p
        .iter()
        .filter(|(k, v)| k == "account" && known.contains(v))
        .map(|(_, v)| v.clone())
        .collect();
    let now = state.now();
    let code = format!("AQ{}", random());
    state.login.codes.insert(
        code.clone(),
        Code {
            app_id,
            redirect_uri: redirect.clone(),
            grant: Grant {
                granted,
                declined,
                accounts,
                expires_at: now,
            },
            issued_at: now,
            used: false,
        },
    );
    drop(state);
    let v = with_state(vec![("code", code)]);
    let refs: Vec<(&str, &str)> = v.iter().map(|(k, v)| (*k, v.as_str())).collect();
    back_to(&redirect, &refs)
}

fn random() -> String {
    crate::auth::random_hex(24).unwrap_or_else(|_| {
        // No randomness from the OS: a sandbox code need not be secret, only unique.
        format!(
            "{:x}",
            jiff::Timestamp::now().as_nanosecond().unsigned_abs()
        )
    })
}

/// `GET|POST /oauth/access_token`: exchanges a code, or a short-lived token for a long-lived one.
async fn access_token(
    State(sb): State<Sandbox>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let mut p = pairs(query.unwrap_or_default().as_bytes());
    p.extend(pairs(&body));
    let (app_id, app_secret) = app(&sb);
    let mut state = sb.lock();
    let trace = next_trace(&mut state);
    match exchange(&mut state, &p, &app_id, &app_secret) {
        Ok((token, expires_in)) => axum::Json(json!({
            "access_token": token,
            "token_type": "bearer",
            "expires_in": expires_in,
        }))
        .into_response(),
        Err(e) => e.render(&trace),
    }
}

fn exchange(
    state: &mut SandboxState,
    p: &[(String, String)],
    app_id: &str,
    app_secret: &str,
) -> Result<(String, i64), GraphError> {
    let Some(client_id) = first(p, "client_id") else {
        return Err(GraphError::new(101, "Missing client_id parameter."));
    };
    if client_id != app_id {
        return Err(GraphError::new(
            101,
            "Error validating application. Invalid application ID.",
        ));
    }
    let Some(secret) = first(p, "client_secret") else {
        return Err(GraphError::new(1, "Missing client_secret parameter."));
    };
    if !crate::auth::constant_time_eq(secret.as_bytes(), app_secret.as_bytes()) {
        return Err(GraphError::new(1, "Error validating client secret."));
    }
    let now = state.now();
    match first(p, "grant_type") {
        Some("fb_exchange_token") => {
            let Some(short) = first(p, "fb_exchange_token") else {
                return Err(GraphError::param("Missing parameter: fb_exchange_token"));
            };
            let Some(grant) = state.login.tokens.get(short).cloned() else {
                return Err(GraphError::new(190, "Invalid OAuth access token."));
            };
            if grant.expires_at <= now {
                return Err(GraphError::new(
                    190,
                    "Error validating access token: Session has expired. The current time is later.",
                )
                .sub(463));
            }
            Ok(issue(state, grant, now, LONG_LIVED_SECS))
        }
        None | Some("authorization_code") => {
            let Some(redirect) = first(p, "redirect_uri") else {
                return Err(GraphError::new(191, "Missing redirect_uri parameter."));
            };
            let Some(code) = first(p, "code") else {
                return Err(GraphError::new(1, "Missing code parameter."));
            };
            let Some(issued) = state.login.codes.get_mut(code) else {
                return Err(GraphError::new(100, "Invalid verification code format."));
            };
            if issued.used {
                return Err(
                    GraphError::new(100, "This authorization code has been used.").sub(36009),
                );
            }
            if issued.issued_at + CODE_LIFETIME <= now {
                return Err(GraphError::new(100, "This authorization code has expired.").sub(36007));
            }
            if issued.redirect_uri != redirect || issued.app_id != client_id {
                return Err(GraphError::new(
                    100,
                    "Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request",
                )
                .sub(36008));
            }
            issued.used = true;
            let grant = issued.grant.clone();
            Ok(issue(state, grant, now, SHORT_LIVED_SECS))
        }
        Some(other) => Err(GraphError::param(format!(
            "Unsupported grant_type: {other}"
        ))),
    }
}

fn issue(
    state: &mut SandboxState,
    mut grant: Grant,
    now: jiff::Timestamp,
    secs: i64,
) -> (String, i64) {
    let token = format!("EAAS{}", random());
    grant.expires_at = now + jiff::SignedDuration::from_secs(secs);
    state.login.tokens.insert(token.clone(), grant);
    (token, secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_go_to_this_host_or_a_loopback_address_only() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, "audiences.example.com".parse().unwrap());
        assert!(redirect_allowed(
            "https://audiences.example.com/api/settings/facebook/callback",
            &h
        ));
        assert!(redirect_allowed("http://127.0.0.1:3170/cb", &h));
        assert!(!redirect_allowed("https://evil.example/cb", &h));
        assert!(!redirect_allowed("javascript:alert(1)", &h));
        assert!(!redirect_allowed(
            "https://audiences.example.com.evil.example/",
            &h
        ));
    }
}
