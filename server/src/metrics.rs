//! Prometheus metrics: `GET /metrics` (OpenMetrics text), served only when `METRICS_TOKEN` is
//! set and sent as a Bearer token.
//!
//! Counters and histograms live in one process-wide registry that the few central places update
//! with one call each: the HTTP middleware ([`track`]), the job worker ([`job_ran`]), a sync
//! run's end ([`sync_run_ended`], [`sync_rows_sent`]), the Graph API client ([`facebook_call`],
//! [`facebook_usage`]) and ingestion ([`ingested`]). What the database knows (the job queue's
//! depth and age) and the pool's use are read when scraped, so they are true of the database
//! even with several server processes on it.
//!
//! Labels are bounded: an HTTP request is labelled by its route's template
//! (`/api/campaigns/{id}`), never its path.

use std::{
    sync::{LazyLock, atomic::AtomicU64},
    time::Duration,
};

use shared::data_overview::IngestSource;

use axum::{
    body::Body,
    extract::{MatchedPath, Request, State},
    http::{HeaderMap, HeaderValue, Method, Response, header},
    middleware::Next,
    response::IntoResponse,
};
use prometheus_client::{
    encoding::{EncodeLabelSet, text},
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};

use crate::{db::Db, error::ApiError, facebook::FacebookError, jobs, state::AppState};

/// The `Content-Type` of the exposition `prometheus-client` writes.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    method: &'static str,
    /// The matched route's template, or `(fallback)` (the web app's files and pages, and
    /// unknown paths).
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabels {
    kind: String,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FacebookCallLabels {
    method: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct UsageLabels {
    /// `app`, `ad_account` or `business_use_case`.
    header: &'static str,
    /// The business use case's `type` (`custom_audience`, `ads_management`, …); empty for the
    /// other headers.
    use_case: String,
    /// `call_count`, `total_cputime`, `total_time` or `acc_id_util_pct`.
    metric: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct IngestLabels {
    source: &'static str,
    result: &'static str,
}

struct Metrics {
    registry: Registry,
    http: HistogramFamily<HttpLabels>,
    jobs: HistogramFamily<JobLabels>,
    sync_runs: Family<OutcomeLabel, Counter>,
    sync_rows: Counter,
    facebook_calls: Family<FacebookCallLabels, Counter>,
    facebook_usage: Family<UsageLabels, Gauge<f64, AtomicU64>>,
    ingested: Family<IngestLabels, Counter>,
}

/// 5 ms to about 80 s: an API call, up to a long sync job.
fn seconds_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.005, 2.5, 11))
}

static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let mut registry = Registry::default();
    let http = HistogramFamily::new_with_constructor(seconds_histogram as fn() -> Histogram);
    registry.register(
        "http_request_duration_seconds",
        "HTTP requests by method, route template and status, and how long they took",
        http.clone(),
    );
    let jobs = HistogramFamily::new_with_constructor(seconds_histogram as fn() -> Histogram);
    registry.register(
        "job_run_duration_seconds",
        "Background jobs run by this process, by kind and outcome (done, retry, failed: its \
         last attempt, abandoned: the lease was lost or the process stopped)",
        jobs.clone(),
    );
    let sync_runs = Family::<OutcomeLabel, Counter>::default();
    registry.register(
        "sync_runs",
        "Audience sync runs ended by this process, by outcome (succeeded, failed, skipped)",
        sync_runs.clone(),
    );
    let sync_rows = Counter::default();
    registry.register(
        "sync_rows_sent",
        "Audience rows (additions and removals) Facebook accepted from this process",
        sync_rows.clone(),
    );
    let facebook_calls = Family::<FacebookCallLabels, Counter>::default();
    registry.register(
        "facebook_calls",
        "Graph API calls (each attempt) by HTTP method and outcome (ok, retryable, needs_reauth, \
         permission, invalid, unexpected)",
        facebook_calls.clone(),
    );
    let facebook_usage = Family::<UsageLabels, Gauge<f64, AtomicU64>>::default();
    registry.register(
        "facebook_usage_percent",
        "Rate-limit usage (percent) in the latest X-App-Usage, X-Ad-Account-Usage and \
         X-Business-Use-Case-Usage headers; the client slows down above 75",
        facebook_usage.clone(),
    );
    let ingested = Family::<IngestLabels, Counter>::default();
    registry.register(
        "ingested_records",
        "Customer records received by source (api: POST /api/v1/upload, import: the app's CSV \
         import) and result (stored, rejected: listed as unprocessed, error: the database failed)",
        ingested.clone(),
    );
    Metrics {
        registry,
        http,
        jobs,
        sync_runs,
        sync_rows,
        facebook_calls,
        facebook_usage,
        ingested,
    }
});

/// Middleware: times every request and counts it by route template and status.
pub async fn track(req: Request, next: Next) -> Response<Body> {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "(fallback)".to_owned(), |p| p.as_str().to_owned());
    let method = method_label(req.method());
    let started = std::time::Instant::now();
    let res = next.run(req).await;
    let labels = HttpLabels {
        method,
        route,
        status: res.status().as_u16(),
    };
    METRICS
        .http
        .get_or_create(&labels)
        .observe(started.elapsed().as_secs_f64());
    res
}

/// Methods outside the standard set would make a label per invented method.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// A job the worker ran, and how long it took.
pub fn job_ran(job: &jobs::queue::Job, outcome: &jobs::Outcome, took: Duration) {
    let outcome = match outcome {
        jobs::Outcome::Done => "done",
        // As `queue::retry_or_fail` decides.
        jobs::Outcome::Retry { .. } if job.attempts >= job.max_attempts => "failed",
        jobs::Outcome::Retry { .. } => "retry",
        jobs::Outcome::Abandoned => "abandoned",
    };
    let labels = JobLabels {
        kind: job.kind.clone(),
        outcome,
    };
    METRICS
        .jobs
        .get_or_create(&labels)
        .observe(took.as_secs_f64());
}

/// A sync run reached its end state (`succeeded`, `failed`, `skipped`).
pub fn sync_run_ended(outcome: &str) {
    let labels = OutcomeLabel {
        outcome: outcome.to_owned(),
    };
    METRICS.sync_runs.get_or_create(&labels).inc();
}

/// A batch of `rows` was accepted by Facebook.
pub fn sync_rows_sent(rows: i64) {
    METRICS.sync_rows.inc_by(u64::try_from(rows).unwrap_or(0));
}

/// One Graph API call's outcome.
pub fn facebook_call<T>(method: &Method, result: &Result<T, FacebookError>) {
    use crate::facebook::ErrorKind;
    let outcome = match result {
        Ok(_) => "ok",
        Err(e) => match e.kind {
            ErrorKind::Retryable => "retryable",
            ErrorKind::NeedsReauth => "needs_reauth",
            ErrorKind::Permission => "permission",
            ErrorKind::Invalid => "invalid",
            ErrorKind::Unexpected => "unexpected",
        },
    };
    let labels = FacebookCallLabels {
        method: method_label(method),
        outcome,
    };
    METRICS.facebook_calls.get_or_create(&labels).inc();
}

/// The rate-limit usage headers of a Graph API answer, as gauges (the latest value wins).
/// Their meaning is described in `facebook::ratelimit`.
pub fn facebook_usage(headers: &HeaderMap) {
    use serde_json::Value;
    let json = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|s| serde_json::from_str::<Value>(s).ok())
    };
    let set = |header: &'static str, use_case: &str, obj: &Value, keys: &[&'static str]| {
        for key in keys {
            let pct = match obj.get(*key) {
                Some(Value::Number(n)) => n.as_f64(),
                Some(Value::String(s)) => s.parse().ok(),
                _ => None,
            };
            if let Some(pct) = pct {
                let labels = UsageLabels {
                    header,
                    use_case: use_case.to_owned(),
                    metric: key,
                };
                METRICS.facebook_usage.get_or_create(&labels).set(pct);
            }
        }
    };
    const TIMES: [&str; 3] = ["call_count", "total_cputime", "total_time"];
    if let Some(app) = json("x-app-usage") {
        set("app", "", &app, &TIMES);
    }
    if let Some(account) = json("x-ad-account-usage") {
        set("ad_account", "", &account, &["acc_id_util_pct"]);
    }
    if let Some(Value::Object(businesses)) = json("x-business-use-case-usage") {
        for entry in businesses.values().filter_map(Value::as_array).flatten() {
            // Labelled by use case, not business id: a business is a token's, and several
            // of them would only multiply the series.
            let use_case = entry.get("type").and_then(Value::as_str).unwrap_or("");
            set("business_use_case", use_case, entry, &TIMES);
        }
    }
}

/// The records of one upload: `stored`, `rejected` (unprocessed), or all of them `failed` when
/// the database failed.
pub fn ingested(source: IngestSource, stored: usize, rejected: usize, failed: usize) {
    let source = source.as_str();
    for (result, n) in [
        ("stored", stored),
        ("rejected", rejected),
        ("error", failed),
    ] {
        if n > 0 {
            let labels = IngestLabels { source, result };
            METRICS.ingested.get_or_create(&labels).inc_by(n as u64);
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct QueueLabels {
    kind: String,
    state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    state: &'static str,
}

/// What is read at scrape time: the job queue (from the database, so every process reports the
/// whole queue) and this process's connection pool.
async fn scrape_time(db: &Db) -> Result<Registry, sqlx::Error> {
    let mut registry = Registry::default();
    let now = jiff::Timestamp::now();
    let depth = Family::<QueueLabels, Gauge>::default();
    let age = Family::<QueueLabels, Gauge<f64, AtomicU64>>::default();
    for row in jobs::queue::backlog(db, now).await? {
        let labels = QueueLabels {
            kind: row.kind,
            state: row.state,
        };
        depth.get_or_create(&labels).set(row.jobs);
        let oldest = row
            .oldest
            .as_deref()
            .and_then(|s| s.parse::<jiff::Timestamp>().ok());
        let secs = oldest.map_or(0.0, |t| now.duration_since(t).as_secs_f64().max(0.0));
        age.get_or_create(&labels).set(secs);
    }
    registry.register(
        "jobs",
        "Jobs in the queue (all processes) by kind and state: queued (due or waiting for a \
         retry) and running",
        depth,
    );
    registry.register(
        "jobs_oldest_age_seconds",
        "By kind and state: how long the oldest due queued job has waited since it became due, \
         and how long the oldest running job has run since it was claimed (0 when none)",
        age,
    );
    let (size, idle, max) = match db {
        Db::Sqlite(pool) => (
            pool.size(),
            pool.num_idle(),
            pool.options().get_max_connections(),
        ),
        Db::Postgres(pool) => (
            pool.size(),
            pool.num_idle(),
            pool.options().get_max_connections(),
        ),
    };
    let idle = u32::try_from(idle).unwrap_or(size).min(size);
    let pool = Family::<PoolLabels, Gauge>::default();
    pool.get_or_create(&PoolLabels { state: "idle" })
        .set(i64::from(idle));
    pool.get_or_create(&PoolLabels { state: "in_use" })
        .set(i64::from(size - idle));
    registry.register(
        "db_pool_connections",
        "This process's open database connections, idle or in use",
        pool,
    );
    let max_gauge = Gauge::<i64>::default();
    max_gauge.set(i64::from(max));
    registry.register(
        "db_pool_max_connections",
        "The most connections this process opens (DATABASE_MAX_CONNECTIONS)",
        max_gauge,
    );
    let info = Family::<Vec<(&'static str, &'static str)>, Gauge>::default();
    info.get_or_create(&vec![
        ("version", env!("CARGO_PKG_VERSION")),
        ("database", db.kind().label()),
    ])
    .set(1);
    registry.register("build_info", "The server's version and database", info);
    Ok(registry)
}

/// `GET /metrics`: 404 while `METRICS_TOKEN` is unset, 401 without the right Bearer token.
pub async fn serve(State(state): State<AppState>, headers: HeaderMap) -> Response<Body> {
    let Some(token) = state.config.metrics_token.as_deref() else {
        return ApiError::not_found(
            "There is nothing at /metrics: set METRICS_TOKEN to turn it on.",
        )
        .into_response();
    };
    let sent = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    if !sent.is_some_and(|s| crate::auth::constant_time_eq(s.as_bytes(), token.as_bytes())) {
        let mut res = ApiError::Unauthorized(
            "Send the metrics token (METRICS_TOKEN) as `Authorization: Bearer <token>`.".into(),
        )
        .into_response();
        res.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"metrics\""),
        );
        return res;
    }
    let scraped = match scrape_time(&state.db).await {
        Ok(registry) => registry,
        Err(err) => {
            tracing::warn!(%err, "metrics: reading the job queue failed");
            return ApiError::Unavailable("The server's database does not answer.".into())
                .into_response();
        }
    };
    let mut out = String::with_capacity(16 * 1024);
    let written = text::encode_registry(&mut out, &METRICS.registry)
        .and_then(|()| text::encode_registry(&mut out, &scraped))
        .and_then(|()| text::encode_eof(&mut out));
    if written.is_err() {
        return ApiError::Internal(anyhow::anyhow!("encoding the metrics failed")).into_response();
    }
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], out).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded() -> String {
        let mut out = String::new();
        text::encode(&mut out, &METRICS.registry).unwrap();
        out
    }

    #[test]
    fn usage_headers_become_gauges_per_header_and_use_case() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-app-usage",
            r#"{"call_count":12,"total_cputime":3,"total_time":"4"}"#
                .parse()
                .unwrap(),
        );
        h.insert(
            "x-ad-account-usage",
            r#"{"acc_id_util_pct":9.5,"reset_time_duration":0}"#
                .parse()
                .unwrap(),
        );
        h.insert(
            "x-business-use-case-usage",
            r#"{"123":[{"type":"custom_audience","call_count":77,"total_cputime":1,"total_time":2}]}"#
                .parse()
                .unwrap(),
        );
        facebook_usage(&h);
        let out = encoded();
        for line in [
            r#"facebook_usage_percent{header="app",use_case="",metric="call_count"} 12.0"#,
            r#"facebook_usage_percent{header="app",use_case="",metric="total_time"} 4.0"#,
            r#"facebook_usage_percent{header="ad_account",use_case="",metric="acc_id_util_pct"} 9.5"#,
            r#"facebook_usage_percent{header="business_use_case",use_case="custom_audience",metric="call_count"} 77.0"#,
        ] {
            assert!(out.contains(line), "{line} missing from\n{out}");
        }
    }
}
