//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]` annotations and the
//! `shared` types' schemas. Served at `GET /api/openapi.json`.
//!
//! What every route has in common is added here, from the one place that decides it, so the
//! document cannot disagree with the server: each operation's security requirement comes from
//! its line in [`crate::auth::policy::POLICY`], and the answers the guard, the JSON extractor and
//! the error type give on any route (401, 403, 400, 413, 500, 503) are added to every operation
//! they can come from.

use axum::http::Method;
use serde_json::{Value, json};
use utoipa::OpenApi;

use crate::auth::{
    policy::{self, Access},
    session,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Facebook Audiences API",
        description = "Self-hosted Facebook Audiences campaigns: schedules, segments, audience sync and ad stats. Every error answers with the `ErrorBody` schema.\n\nA browser signs in with `POST /login`, which sets the `fba_session` cookie (the `session` scheme). Every request that changes something (POST, PUT, PATCH, DELETE) must also come from this site: its `Origin` header (or, without one, its `Referer`) must be the host it was sent to, or `PUBLIC_URL` (the `sameOrigin` scheme). Servers upload customer data with an API key in `X-Api-Key` (the `apiKey` scheme). The scopes of `session` name the least role a route needs: viewer < marketer < admin."
    ),
    components(schemas(shared::error::ErrorBody))
)]
pub struct ApiDoc;

impl ApiDoc {
    pub fn base() -> utoipa::openapi::OpenApi {
        let mut doc = Self::openapi();
        doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
        doc.servers = Some(vec![utoipa::openapi::Server::new("/api")]);
        doc
    }
}

/// Names of the security schemes.
pub const SESSION: &str = "session";
pub const SAME_ORIGIN: &str = "sameOrigin";
pub const API_KEY: &str = "apiKey";

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// The document as served: the routes' descriptions plus the security schemes, each operation's
/// security requirement and the common error answers.
pub fn finish(doc: utoipa::openapi::OpenApi) -> Value {
    let mut doc = serde_json::to_value(doc).unwrap_or_else(|err| {
        // Serialising plain data cannot fail; a document without paths would be noticed at once.
        tracing::error!(%err, "the OpenAPI document does not serialise");
        json!({})
    });
    add_components(&mut doc);
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            for method in METHODS {
                let Some(op) = item.get_mut(method).and_then(Value::as_object_mut) else {
                    continue;
                };
                let Ok(http) = Method::from_bytes(method.to_ascii_uppercase().as_bytes()) else {
                    continue;
                };
                // A route without a policy line is refused by the guard and fails the policy
                // test; here it simply gets no requirement.
                let Some(access) = policy::lookup(&http, path) else {
                    continue;
                };
                op.insert("security".into(), security(access, &http));
                add_responses(op, access, &http);
            }
        }
    }
    doc
}

/// The requirement of a route with `access`, reached with `method`: one alternative, whose
/// schemes must all be satisfied.
pub fn security(access: Access, method: &Method) -> Value {
    let csrf = policy::is_state_changing(method);
    let mut all = serde_json::Map::new();
    match access {
        Access::Public => {}
        Access::Signed(role) => {
            all.insert(SESSION.into(), json!([role.as_str()]));
        }
        // A server with a key: no cookie, so no CSRF check either.
        Access::ApiKey => {
            all.insert(API_KEY.into(), json!([]));
            return json!([all]);
        }
    }
    if csrf {
        all.insert(SAME_ORIGIN.into(), json!([]));
    }
    if all.is_empty() {
        json!([])
    } else {
        json!([all])
    }
}

fn add_responses(op: &mut serde_json::Map<String, Value>, access: Access, method: &Method) {
    let has_body = op.contains_key("requestBody");
    let has_query = op
        .get("parameters")
        .and_then(Value::as_array)
        .is_some_and(|ps| ps.iter().any(|p| p["in"] == "query"));
    let csrf = policy::is_state_changing(method);
    let mut common = Vec::new();
    if has_body || has_query {
        common.push(("400", "BadRequest"));
    }
    match access {
        Access::Public if csrf => common.push(("403", "Forbidden")),
        Access::Public => {}
        Access::Signed(_) => common.extend([("401", "Unauthorized"), ("403", "Forbidden")]),
        Access::ApiKey => common.push(("401", "Unauthorized")),
    }
    if has_body {
        common.push(("413", "PayloadTooLarge"));
    }
    common.extend([("500", "Internal"), ("503", "Unavailable")]);
    let responses = op
        .entry("responses")
        .or_insert_with(|| json!({}))
        .as_object_mut();
    let Some(responses) = responses else { return };
    for (status, name) in common {
        // A handler's own description of the status says more; keep it.
        responses
            .entry(status)
            .or_insert_with(|| json!({"$ref": format!("#/components/responses/{name}")}));
    }
}

fn add_components(doc: &mut Value) {
    let error = |description: &str| {
        json!({
            "description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
        })
    };
    let components = doc
        .as_object_mut()
        .map(|d| d.entry("components").or_insert_with(|| json!({})));
    let Some(Value::Object(components)) = components else {
        return;
    };
    components.insert(
        "securitySchemes".into(),
        json!({
            SESSION: {
                "type": "apiKey",
                "in": "cookie",
                "name": session::COOKIE,
                "description": "The session cookie `POST /login` sets (HttpOnly, SameSite=Lax). Scopes: the least role the route needs (viewer, marketer, admin)."
            },
            SAME_ORIGIN: {
                "type": "apiKey",
                "in": "header",
                "name": "Origin",
                "description": "CSRF rule, not a secret: a request that changes something must send this site's origin (`scheme://host[:port]` of the host it was sent to, or of `PUBLIC_URL`) in `Origin`, or, without one, a `Referer` on this site. Anything else is refused with 403."
            },
            API_KEY: {
                "type": "apiKey",
                "in": "header",
                "name": "X-Api-Key",
                "description": "An upload API key (created by an admin on the API keys page, or `UPLOAD_API_KEY`)."
            }
        }),
    );
    let responses = components
        .entry("responses")
        .or_insert_with(|| json!({}))
        .as_object_mut();
    let Some(responses) = responses else { return };
    for (name, description) in [
        (
            "BadRequest",
            "The body is not JSON of the expected shape, or a query parameter is malformed",
        ),
        (
            "Unauthorized",
            "Not signed in (or the session expired), or no valid API key",
        ),
        (
            "Forbidden",
            "The signed-in user's role does not allow this, or a change did not come from this site (Origin/Referer)",
        ),
        (
            "PayloadTooLarge",
            "The body is larger than the server accepts (BODY_LIMIT_BYTES)",
        ),
        (
            "Internal",
            "A fault on the server's side; the details are in its log",
        ),
        (
            "Unavailable",
            "The database is busy or does not answer; retry shortly",
        ),
    ] {
        responses.insert(name.into(), error(description));
    }
}
