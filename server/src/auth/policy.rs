//! Who may call which `/api` route: one table, checked by one middleware ([`super::guard`]).
//!
//! Every route must have a line here. A route without one is refused at run time (fail closed),
//! and `every_api_route_has_exactly_one_policy` below fails the test suite first. To add a route,
//! add one line: `(Method::POST, "/things/{id}/frob", MARKETER),` with the path exactly as in its
//! `#[utoipa::path]` (relative to `/api`).
//!
//! Outside `/api`, Segment's tracking API (`/v1/identify`, … `/v1/batch`, `routes::segment_api`)
//! takes an API key too, as a write key in HTTP Basic auth: its handlers take the `WriteKey`
//! extractor (`guard::write_key`), so none of them can be reached without one.

use axum::http::Method;
use shared::account::Role;

/// What a request needs to reach a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not (health, the OpenAPI document, login, first-run setup, public
    /// share pages).
    Public,
    /// A session of a user with at least this role.
    Signed(Role),
    /// An upload API key in `X-Api-Key` (a server, not a browser: no session, no CSRF check).
    ApiKey,
}

pub const PUBLIC: Access = Access::Public;
/// Any signed-in user: reading.
pub const VIEWER: Access = Access::Signed(Role::Viewer);
/// Campaigns, segments, labels, share links.
pub const MARKETER: Access = Access::Signed(Role::Marketer);
/// Users, API keys, the Facebook connection, the audit log.
pub const ADMIN: Access = Access::Signed(Role::Admin);
pub const API_KEY: Access = Access::ApiKey;

/// `(method, path as in the OpenAPI document, access)`.
pub static POLICY: &[(Method, &str, Access)] = &[
    // System
    (Method::GET, "/health", PUBLIC),
    (Method::GET, "/health/ready", PUBLIC),
    (Method::GET, "/openapi.json", PUBLIC),
    // Accounts
    (Method::POST, "/login", PUBLIC),
    (Method::POST, "/logout", PUBLIC),
    (Method::GET, "/setup", PUBLIC),
    (Method::POST, "/setup", PUBLIC),
    (Method::GET, "/me", VIEWER),
    (Method::GET, "/users", ADMIN),
    (Method::POST, "/users", ADMIN),
    (Method::PATCH, "/users/{id}", ADMIN),
    (Method::GET, "/api-keys", ADMIN),
    (Method::POST, "/api-keys", ADMIN),
    (Method::DELETE, "/api-keys/{id}", ADMIN),
    (Method::GET, "/audit", ADMIN),
    // Settings → Facebook: everyone sees the connection's status (never its secrets); only
    // admins change or test it.
    (Method::GET, "/settings/facebook", VIEWER),
    (Method::PUT, "/settings/facebook", ADMIN),
    (Method::POST, "/settings/facebook/test", ADMIN),
    // Ads consent: everyone sees whether syncs filter on it; admins change it.
    (Method::GET, "/settings/consent", VIEWER),
    (Method::PUT, "/settings/consent", ADMIN),
    // "Connect with Facebook". The callback is a top-level GET from Facebook's dialog (no
    // `Origin`): its CSRF check is the `state`, bound to the admin's session and single use.
    (Method::POST, "/settings/facebook/connect", ADMIN),
    (Method::GET, "/settings/facebook/callback", ADMIN),
    // Campaigns
    (Method::GET, "/campaigns", VIEWER),
    (Method::POST, "/campaigns", MARKETER),
    // Validation changes nothing, but only editors have drafts to validate.
    (Method::POST, "/campaigns/validate", MARKETER),
    (Method::GET, "/campaigns/{id}", VIEWER),
    (Method::PUT, "/campaigns/{id}", MARKETER),
    (Method::DELETE, "/campaigns/{id}", MARKETER),
    (Method::POST, "/campaigns/{id}/publish", MARKETER),
    (Method::POST, "/campaigns/{id}/pause", MARKETER),
    (Method::POST, "/campaigns/{id}/resume", MARKETER),
    (Method::POST, "/campaigns/{id}/stop", MARKETER),
    (Method::POST, "/campaigns/{id}/duplicate", MARKETER),
    // Audience sync runs: a dry run sends nothing, but it is still an editor's tool.
    (Method::GET, "/campaigns/{id}/runs", VIEWER),
    (Method::POST, "/campaigns/{id}/runs", MARKETER),
    (Method::GET, "/jobs", VIEWER),
    // Stats and share links. Listing links shows no tokens (a token is shown once, at creation).
    (Method::GET, "/campaigns/{id}/stats", VIEWER),
    (Method::GET, "/campaigns/{id}/stats.csv", VIEWER),
    (Method::GET, "/campaigns/{id}/stats/holdout", VIEWER),
    (Method::POST, "/campaigns/{id}/stats/refresh", MARKETER),
    (Method::GET, "/campaigns/{id}/share-links", VIEWER),
    (Method::POST, "/campaigns/{id}/share-links", MARKETER),
    (
        Method::DELETE,
        "/campaigns/{id}/share-links/{link_id}",
        MARKETER,
    ),
    // A share link's token is its own credential: one campaign's stats, nothing else.
    (Method::GET, "/share/{token}/stats", PUBLIC),
    (Method::GET, "/share/{token}/stats.csv", PUBLIC),
    // Labels
    (Method::GET, "/labels", VIEWER),
    (Method::POST, "/labels", MARKETER),
    // Facebook pickers: reading Facebook through the server's token.
    (Method::GET, "/facebook/ad-accounts", VIEWER),
    (Method::GET, "/facebook/ad-accounts/{id}/campaigns", VIEWER),
    (Method::GET, "/facebook/campaigns/{id}/adsets", VIEWER),
    // Schedules and segments: computations that change nothing.
    (Method::POST, "/schedules/preview", VIEWER),
    (Method::GET, "/timezones", VIEWER),
    (Method::GET, "/timezones/{name}", VIEWER),
    (Method::POST, "/segments/estimate", VIEWER),
    (Method::GET, "/catalog", VIEWER),
    (Method::GET, "/data", VIEWER),
    (Method::GET, "/profiles", VIEWER),
    (Method::GET, "/profiles/{identity}/explain", VIEWER),
    (Method::GET, "/profiles/{identity}", VIEWER),
    (Method::GET, "/profiles/{identity}/events", VIEWER),
    // Forgetting a person (privacy): admins, or a server with an upload API key.
    (Method::DELETE, "/profiles/{identity}", ADMIN),
    (Method::POST, "/v1/delete/profiles", API_KEY),
    // Saved segments
    (Method::GET, "/segments", VIEWER),
    (Method::POST, "/segments", MARKETER),
    (Method::GET, "/segments/{id}", VIEWER),
    (Method::PUT, "/segments/{id}", MARKETER),
    (Method::DELETE, "/segments/{id}", MARKETER),
    // Customer data
    (Method::POST, "/v1/upload", API_KEY),
    // The browser's CSV import: a person's session, not an API key (and CSRF-checked).
    (Method::POST, "/profiles/import", MARKETER),
];

/// The access `method` on `path` (a route pattern relative to `/api`) needs; `None` when the
/// table has no line for it.
pub fn lookup(method: &Method, path: &str) -> Option<Access> {
    // HEAD is answered by the GET handler, so it needs what GET needs.
    let method = if method == Method::HEAD {
        &Method::GET
    } else {
        method
    };
    POLICY
        .iter()
        .find(|(m, p, _)| m == method && *p == path)
        .map(|(_, _, access)| *access)
}

/// The methods `path` (a route pattern relative to `/api`) answers, for `Allow`: its lines, and
/// HEAD wherever GET is (the GET handler answers it). Empty when the path has no line at all.
pub fn methods_of(path: &str) -> Vec<Method> {
    let mut methods: Vec<Method> = POLICY
        .iter()
        .filter(|(_, p, _)| *p == path)
        .map(|(m, _, _)| m.clone())
        .collect();
    if methods.contains(&Method::GET) {
        methods.push(Method::HEAD);
    }
    methods
}

/// Whether a request with `method` may change something, so needs the CSRF check.
pub fn is_state_changing(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// Every (method, path) the API router serves, from the OpenAPI document it generates, plus
    /// the document itself.
    fn routes() -> BTreeSet<(String, String)> {
        let (_, doc) = crate::routes::api_router().split_for_parts();
        let mut out = BTreeSet::from([("GET".to_owned(), "/openapi.json".to_owned())]);
        for (path, item) in &doc.paths.paths {
            let methods = [
                ("GET", item.get.is_some()),
                ("POST", item.post.is_some()),
                ("PUT", item.put.is_some()),
                ("PATCH", item.patch.is_some()),
                ("DELETE", item.delete.is_some()),
            ];
            for (method, present) in methods {
                if present {
                    out.insert((method.to_owned(), path.clone()));
                }
            }
        }
        out
    }

    #[test]
    fn every_api_route_has_exactly_one_policy() {
        let routes = routes();
        let missing: Vec<_> = routes
            .iter()
            .filter(|(m, p)| lookup(&m.parse().unwrap(), p).is_none())
            .collect();
        assert!(
            missing.is_empty(),
            "routes without a line in auth::policy::POLICY: {missing:?}"
        );
        let stale: Vec<_> = POLICY
            .iter()
            .filter(|(m, p, _)| !routes.contains(&(m.to_string(), (*p).to_owned())))
            .map(|(m, p, _)| format!("{m} {p}"))
            .collect();
        assert!(
            stale.is_empty(),
            "POLICY lines for routes that do not exist: {stale:?}"
        );
        let unique: BTreeSet<_> = POLICY.iter().map(|(m, p, _)| (m.as_str(), *p)).collect();
        assert_eq!(unique.len(), POLICY.len(), "a route is listed twice");
    }

    #[test]
    fn allowed_methods_are_the_route_lines_and_head_with_get() {
        assert_eq!(
            methods_of("/segments/{id}"),
            [Method::GET, Method::PUT, Method::DELETE, Method::HEAD]
        );
        assert_eq!(methods_of("/users/{id}"), [Method::PATCH]);
        assert!(methods_of("/nowhere").is_empty());
    }

    #[test]
    fn nothing_but_reads_and_the_sign_in_steps_is_public() {
        for (method, path, access) in POLICY {
            if *access == PUBLIC && is_state_changing(method) {
                assert!(
                    ["/login", "/logout", "/setup"].contains(path),
                    "{method} {path} changes state without a session"
                );
            }
            if *access == VIEWER && is_state_changing(method) {
                assert!(
                    ["/schedules/preview", "/segments/estimate"].contains(path),
                    "{method} {path} lets viewers change something"
                );
            }
        }
    }
}
