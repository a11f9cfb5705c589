//! Cross-cutting HTTP layers: request tracing, security headers, panics as JSON 500s.

use axum::{
    body::Body,
    extract::Request,
    http::{HeaderValue, Response, StatusCode, header},
    middleware::Next,
    response::IntoResponse,
};
use shared::error::{ErrorBody, ErrorCode};
use tower_http::{
    catch_panic::CatchPanicLayer,
    classify::{ServerErrorsAsFailures, SharedClassifier},
    trace::TraceLayer,
};

/// The SPA is one WASM module plus same-origin scripts and styles: nothing inline, nothing
/// third-party. `'wasm-unsafe-eval'` is what lets the browser compile the module.
const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
                   img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; \
                   base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// How [`trace`] names a request's span.
pub type MakeRequestSpan = fn(&Request) -> tracing::Span;

/// Logs every request (at debug) with its query's secrets masked: the Graph API sandbox is called
/// with `access_token=…` in the URL, and a token must never reach the log.
pub fn trace() -> TraceLayer<SharedClassifier<ServerErrorsAsFailures>, MakeRequestSpan> {
    TraceLayer::new_for_http().make_span_with(request_span as MakeRequestSpan)
}

fn request_span(req: &Request) -> tracing::Span {
    tracing::debug_span!(
        "request",
        method = %req.method(),
        uri = %redact_query(req.uri()),
        version = ?req.version(),
    )
}

/// Query parameters whose values are credentials.
const SECRET_PARAMS: [&str; 5] = [
    "access_token",
    "appsecret_proof",
    "client_secret",
    "input_token",
    "fb_exchange_token",
];

/// The path and query of `uri` with the values of [`SECRET_PARAMS`] replaced by `***`.
pub fn redact_query(uri: &axum::http::Uri) -> String {
    let Some(query) = uri.query() else {
        return uri.path().to_owned();
    };
    let masked: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if SECRET_PARAMS.contains(&key) => format!("{key}=***"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{}?{}", uri.path(), masked.join("&"))
}

/// Adds the security headers to every response, API and SPA alike.
pub async fn security_headers(req: Request, next: Next) -> Response<Body> {
    // Share links (the public stats page and its API) must never be indexed.
    let path = req.uri().path();
    let shared = path.starts_with("/share/") || path.starts_with("/api/share/");
    let mut res = next.run(req).await;
    let headers = res.headers_mut();
    if shared {
        headers.insert(
            "x-robots-tag",
            HeaderValue::from_static("noindex, nofollow"),
        );
    }
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    res
}

/// With `PUBLIC_URL` set, answers only requests for its host name, an IP address or `localhost`
/// (400 otherwise). Against DNS rebinding: a page on another site whose name an attacker points at
/// this server sends that name as `Host`, and the CSRF check (which trusts `Origin` equal to the
/// `Host`) would otherwise let its writes through. A browser cannot send an IP address or
/// `localhost` as `Host` from another site's page, so load balancers' health checks and proxies
/// that forward to `127.0.0.1:port` keep working. The sandbox's Graph routes are exempt: they
/// take no cookie (anyone may call them anyway), and other server processes reach them by
/// whatever name `FACEBOOK_GRAPH_URL` gives (README, "Scaling out").
pub async fn allowed_host(
    axum::extract::State(state): axum::extract::State<crate::state::AppState>,
    req: Request,
    next: Next,
) -> Response<Body> {
    let Some(public) = state.config.public_url.as_deref() else {
        return next.run(req).await;
    };
    // Segment's tracking API (`/v1/…`) is called by servers with a write key, no cookie, by
    // whatever name they were configured with, like the sandbox's Graph routes.
    let path = req.uri().path();
    if path.starts_with("/sandbox/graph/") || path.starts_with("/v1/") {
        return next.run(req).await;
    }
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()));
    if host.is_some_and(|h| host_is_allowed(h, public)) {
        return next.run(req).await;
    }
    tracing::debug!(host = ?host, "refused: a request for another host than PUBLIC_URL's");
    let public_host = host_name(public.split_once("://").map_or(public, |(_, rest)| rest));
    crate::error::ApiError::BadRequest(format!(
        "This server answers for {public_host} (PUBLIC_URL), not for the host this request \
         names."
    ))
    .into_response()
}

/// Whether `host` (a `Host` header: name or address, maybe with a port) is `public`'s host name,
/// an IP address or `localhost`.
fn host_is_allowed(host: &str, public: &str) -> bool {
    let name = host_name(host);
    let authority = public.split_once("://").map_or(public, |(_, rest)| rest);
    let authority = authority.split(['/', '?', '#']).next().unwrap_or_default();
    name.eq_ignore_ascii_case(host_name(authority))
        || name.eq_ignore_ascii_case("localhost")
        || name.parse::<std::net::IpAddr>().is_ok()
}

/// The name or address of `host[:port]` (`[v6]` without its brackets).
fn host_name(host: &str) -> &str {
    let host = host.trim();
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or_default();
    }
    let host = host.split(['/', '?', '#']).next().unwrap_or_default();
    host.rsplit_once(':').map_or(host, |(name, _)| name)
}

/// What [`catch_panic`] calls with the panic's payload.
pub type PanicHandler = fn(Box<dyn std::any::Any + Send>) -> Response<Body>;

/// A panicking handler answers 500 with the shared error body; the process keeps serving.
pub fn catch_panic() -> CatchPanicLayer<PanicHandler> {
    CatchPanicLayer::custom(panic_response as fn(_) -> _)
}

fn panic_response(_: Box<dyn std::any::Any + Send>) -> Response<Body> {
    let body = ErrorBody::new(
        ErrorCode::Internal,
        "Something went wrong on the server; the details are in its log.",
    );
    Response::builder()
        .status(StatusCode::INTERNAL_SERVER_ERROR)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(serde_json::to_vec(&body).unwrap_or_default()))
        .expect("static response parts are valid")
}

#[cfg(test)]
mod tests {
    #[test]
    fn hosts_other_than_public_urls_are_refused_but_addresses_pass() {
        let public = "https://audiences.example.com";
        for ok in [
            "audiences.example.com",
            "AUDIENCES.example.com:443",
            "127.0.0.1:3000",
            "10.0.0.7",
            "[::1]:3000",
            "localhost:3000",
        ] {
            assert!(super::host_is_allowed(ok, public), "{ok}");
        }
        for bad in [
            "evil.example",
            "audiences.example.com.evil.example",
            "evil.example:443",
            "",
        ] {
            assert!(!super::host_is_allowed(bad, public), "{bad}");
        }
        assert!(super::host_is_allowed(
            "audiences.test:8080",
            "http://audiences.test:8080/app"
        ));
    }

    #[test]
    fn tokens_in_query_strings_are_masked() {
        let uri = "/graph/v25.0/me?access_token=EAAB123&fields=id&appsecret_proof=abc"
            .parse()
            .unwrap();
        assert_eq!(
            super::redact_query(&uri),
            "/graph/v25.0/me?access_token=***&fields=id&appsecret_proof=***"
        );
    }
}
