//! Cross-cutting HTTP layers: request tracing, security headers, panics as JSON 500s.

use axum::{
    body::Body,
    extract::Request,
    http::{HeaderValue, Response, StatusCode, header},
    middleware::Next,
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
