//! The Graph API sandbox: an in-process emulation of the Marketing API subset the product uses,
//! served over real HTTP under `/sandbox/graph/v25.0/` so the reqwest client talks to it exactly
//! as it would talk to `graph.facebook.com`. State lives in memory, seeded deterministically.
//!
//! Debug endpoints (sandbox only): `GET /sandbox/debug/audiences/{id}` (stored rows),
//! `GET|POST /sandbox/debug/faults` (fault injection, among them lost replies), `POST /sandbox/debug/clock`,
//! `POST /sandbox/debug/insights/revisions` (revise a day's insights). They show hashed
//! customer data and can break the Facebook connection for everyone, so everything under
//! [`DEBUG_PREFIX`] is off unless `SANDBOX_DEBUG=on`, and then needs an admin's session (and, for
//! writes, this site's `Origin`), exactly as an admin-only `/api` route ([`debug_guard`]).
//!
//! Request bodies are bounded by `BODY_LIMIT_BYTES`, as the API's, except an audience's
//! `users`/`usersreplace` uploads, which Graph takes in batches of 10,000 rows
//! ([`UPLOAD_BODY_LIMIT`]).
//!
//! Facebook Login ([`oauth`]): the OAuth dialog at [`DIALOG_PATH`] (www.facebook.com's, served
//! here) and `/oauth/access_token` under the Graph prefix.

mod audiences;
mod insights;
mod oauth;
mod seed;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard},
};

use axum::{
    Json, Router,
    body::Bytes,
    extract::{DefaultBodyLimit, Path, RawQuery, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{any, get},
};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::Sha256;

pub use audiences::AudienceData;
pub use oauth::DIALOG_PATH;

/// The Graph API version the sandbox serves.
pub const GRAPH_VERSION: &str = "v25.0";
/// Where the sandbox is mounted.
pub const GRAPH_PREFIX: &str = "/sandbox/graph/v25.0";
/// Default `limit` of a list (Meta's default is unconfirmed; 25 is what Graph answers in practice).
pub const DEFAULT_PAGE_SIZE: usize = 25;
/// Calls per rolling hour before the sandbox throttles, unless a fault says otherwise.
pub const DEFAULT_QUOTA: u64 = 5_000;
/// The sandbox's only business (keys of `X-Business-Use-Case-Usage`).
pub const BUSINESS_ID: &str = "810000000000001";

/// Every debug endpoint lives under this prefix (and [`debug_guard`] guards all of it).
pub const DEBUG_PREFIX: &str = "/sandbox/debug/";
/// The largest `users`/`usersreplace` body: the client sends up to
/// [`crate::facebook::client::MAX_ROWS_PER_REQUEST`] (10,000) rows of up to 14 match keys (64-hex
/// hashes, identities of up to 120 characters), under 10 MB of JSON.
pub const UPLOAD_BODY_LIMIT: usize = 16 * 1024 * 1024;

/// Fault injection, set with `POST /sandbox/debug/faults`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Faults {
    /// Graph calls answered normally before throttling starts.
    pub rate_limit_after: Option<u64>,
    /// The throttling code: 80003 (custom audience BUC, default), 80004, 17 or 4.
    pub rate_limit_code: Option<i64>,
    /// `estimated_time_to_regain_access`, in minutes (default 1).
    pub regain_access_minutes: Option<u64>,
    /// Every Nth call fails with code 2 (`is_transient`).
    pub transient_every: Option<u64>,
    /// The next N calls fail with code 2.
    pub transient_next: u64,
    /// The next N calls answer an HTML 500 page.
    pub html_500_next: u64,
    /// Every call fails with 190/463 (session expired).
    pub expired_token: bool,
    /// Every write fails with 294 (missing `ads_management`).
    pub missing_permission: bool,
    /// The access token expires this many days from now (default 60, a long-lived token's
    /// life); 0 or less means it has expired, and every call fails as with `expired_token`.
    pub token_expires_in_days: Option<i64>,
    /// The permissions granted to the token (default `ads_management`, `ads_read`,
    /// `business_management`); without `ads_management` every write fails with 294.
    pub token_scopes: Option<Vec<String>>,
    /// Once: the `nth` request of `kind` is applied, then its reply is lost — the connection is
    /// cut before the answer, as a timeout or reset between Facebook and us would do. The
    /// client sees a failure it cannot tell from a request that never arrived.
    pub drop_reply: Option<NthRequest>,
    /// Once: the reply to the `nth` request of `kind` is lost and a proxy on the way sends the
    /// request again by itself; Facebook applies (or refuses) the repeat, and its answer is the
    /// one the client gets — for a batch already applied, `batch_seq … out of order`.
    pub repeat_request: Option<NthRequest>,
}

/// The `nth` (1-based, counted from when the faults were set) request of one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NthRequest {
    pub kind: RequestKind,
    pub nth: u64,
}

/// The kinds of request a lost reply can be injected into: those Facebook acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    /// A `/users` add or remove, or a `/usersreplace` batch.
    UsersBatch,
    /// `POST /act_<id>/customaudiences`.
    CreateAudience,
}

impl RequestKind {
    /// The kind of a Graph request, if it is one of these.
    fn of(method: &Method, segments: &[&str], params: Option<&Params>) -> Option<Self> {
        let overridden = params.and_then(|p| p.get("method"));
        let method = match (method, overridden) {
            (&Method::POST, Some(m)) if m.eq_ignore_ascii_case("delete") => Method::DELETE,
            (&Method::POST, Some(m)) if m.eq_ignore_ascii_case("get") => Method::GET,
            _ => method.clone(),
        };
        match (segments, method) {
            ([_, "users" | "usersreplace"], m) if m != Method::GET => Some(Self::UsersBatch),
            ([account, "customaudiences"], Method::POST) if account.starts_with("act_") => {
                Some(Self::CreateAudience)
            }
            _ => None,
        }
    }
}

/// What happens to the reply of one request.
enum ReplyFault {
    Drop,
    Repeat,
}

impl Faults {
    fn token_expired(&self) -> bool {
        self.expired_token || self.token_expires_in_days.is_some_and(|d| d <= 0)
    }

    fn scopes(&self) -> Vec<String> {
        self.token_scopes.clone().unwrap_or_else(|| {
            ["ads_management", "ads_read", "business_management"]
                .map(str::to_owned)
                .to_vec()
        })
    }
}

/// Sandbox settings from the server's configuration.
#[derive(Clone)]
pub struct SandboxConfig {
    /// When set, every call must carry a matching `appsecret_proof`.
    pub app_secret: Option<String>,
    /// The server's Facebook connection as it is now, when the server can change it at run
    /// time (Settings → Facebook): it decides whether the sandbox answers at all and which app
    /// secret it demands, instead of `app_secret`.
    pub current: Option<Arc<dyn Fn() -> Access + Send + Sync>>,
    /// The largest request body (`BODY_LIMIT_BYTES`, as the API's); audience uploads may be up
    /// to [`UPLOAD_BODY_LIMIT`].
    pub body_limit: usize,
}

/// Whether the sandbox is in use, and with which app secret (and app id, for Facebook Login).
#[derive(Debug, Clone, Default)]
pub struct Access {
    pub enabled: bool,
    pub app_secret: Option<String>,
    pub app_id: Option<String>,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            app_secret: None,
            current: None,
            body_limit: crate::config::DEFAULT_BODY_LIMIT_BYTES,
        }
    }
}

impl SandboxConfig {
    fn access(&self) -> Access {
        match &self.current {
            Some(current) => current(),
            None => Access {
                enabled: true,
                app_secret: self.app_secret.clone(),
                app_id: None,
            },
        }
    }
}

#[derive(Clone)]
pub struct Sandbox {
    state: Arc<Mutex<SandboxState>>,
    config: Arc<SandboxConfig>,
}

/// A Graph object: its kind, owner and fields (as Graph answers them).
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub kind: Kind,
    pub account: String,
    /// Campaign of an ad set, ad set of an ad.
    pub parent: Option<String>,
    pub fields: Map<String, Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Account,
    Campaign,
    AdSet,
    Ad,
    Audience,
}

impl Kind {
    fn type_name(self) -> &'static str {
        match self {
            Kind::Account => "AdAccount",
            Kind::Campaign => "Campaign",
            Kind::AdSet => "AdSet",
            Kind::Ad => "Ad",
            Kind::Audience => "CustomAudience",
        }
    }
}

pub(crate) struct SandboxState {
    pub nodes: HashMap<String, Node>,
    /// Node ids in creation order (lists answer in this order).
    pub order: Vec<String>,
    pub audiences: HashMap<String, AudienceData>,
    pub next_id: u64,
    pub faults: Faults,
    pub calls: u64,
    pub trace: u64,
    pub clock_offset_secs: i64,
    pub blocked_until: Option<jiff::Timestamp>,
    /// Revised days: (ad id, day) → the day's figures in percent of the original.
    pub revisions: HashMap<(String, jiff::civil::Date), u64>,
    /// Asynchronous insights jobs by report run id.
    pub report_runs: HashMap<String, insights::ReportRun>,
    /// Requests of each kind since the faults were last set (for `drop_reply` and
    /// `repeat_request`).
    pub request_counts: HashMap<RequestKind, u64>,
    /// Facebook Login's codes and the tokens it issued, with what each was granted.
    pub login: oauth::LoginState,
}

impl SandboxState {
    pub fn now(&self) -> jiff::Timestamp {
        jiff::Timestamp::now() + jiff::SignedDuration::from_secs(self.clock_offset_secs)
    }

    pub fn new_id(&mut self) -> String {
        self.next_id += 1;
        self.next_id.to_string()
    }

    pub fn insert(&mut self, id: String, node: Node) {
        self.order.push(id.clone());
        self.nodes.insert(id, node);
    }

    /// Children of `kind` whose account or parent is `owner`, in creation order.
    pub fn children(&self, kind: Kind, owner: &str) -> Vec<(&str, &Node)> {
        self.order
            .iter()
            .filter_map(|id| self.nodes.get(id).map(|n| (id.as_str(), n)))
            .filter(|(_, n)| {
                n.kind == kind && (n.account == owner || n.parent.as_deref() == Some(owner))
            })
            .collect()
    }
}

impl Sandbox {
    pub fn new(config: SandboxConfig) -> Self {
        let mut state = SandboxState {
            nodes: HashMap::new(),
            order: Vec::new(),
            audiences: HashMap::new(),
            next_id: 120_210_000_000_000_000,
            faults: Faults::default(),
            calls: 0,
            trace: 0,
            clock_offset_secs: 0,
            blocked_until: None,
            revisions: HashMap::new(),
            report_runs: HashMap::new(),
            request_counts: HashMap::new(),
            login: oauth::LoginState::default(),
        };
        seed::seed(&mut state);
        Self {
            state: Arc::new(Mutex::new(state)),
            config: Arc::new(config),
        }
    }

    fn lock(&self) -> MutexGuard<'_, SandboxState> {
        // A panic while holding the lock leaves plain data; keep serving it.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The sandbox's routes: the Graph API under [`GRAPH_PREFIX`] and the debug endpoints.
pub fn router<S: Clone + Send + Sync + 'static>(sandbox: Sandbox) -> Router<S> {
    Router::new()
        .route("/sandbox/graph/v25.0/{*path}", any(graph))
        .route("/sandbox/graph/{*rest}", any(wrong_version))
        .merge(oauth::routes())
        .route("/sandbox/debug/audiences/{id}", get(debug_audience))
        .route("/sandbox/debug/faults", get(get_faults).post(set_faults))
        .route("/sandbox/debug/clock", axum::routing::post(advance_clock))
        .route(
            "/sandbox/debug/insights/revisions",
            axum::routing::post(revise_insights),
        )
        // The API's limit for every route (the Graph handler reads uploads itself, up to
        // `UPLOAD_BODY_LIMIT`).
        .layer(DefaultBodyLimit::max(sandbox.config.body_limit))
        .layer(axum::middleware::from_fn_with_state(sandbox.clone(), gate))
        .with_state(sandbox)
}

/// While the server uses the live Graph API the sandbox answers nothing but a 404 saying so:
/// nobody mistakes its made-up accounts for real ones, and its debug switches cannot be used.
async fn gate(
    State(sb): State<Sandbox>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if sb.config.access().enabled {
        return next.run(request).await;
    }
    let mut err = GraphError::new(
        803,
        "The Graph API sandbox is off: this server uses the live Graph API (Settings → Facebook).",
    );
    err.status = StatusCode::NOT_FOUND;
    err.render("ASbxOFF")
}

/// A Graph API error, answered as `{"error":{…}}`.
#[derive(Debug, Clone)]
pub(crate) struct GraphError {
    pub status: StatusCode,
    pub code: i64,
    pub subcode: Option<i64>,
    pub message: String,
    pub transient: bool,
    pub user_msg: Option<String>,
    pub headers: Vec<(&'static str, String)>,
}

impl GraphError {
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code,
            subcode: None,
            message: message.into(),
            transient: false,
            user_msg: None,
            headers: Vec::new(),
        }
    }

    /// `(#100) …`: an invalid or missing parameter.
    pub fn param(message: impl std::fmt::Display) -> Self {
        Self::new(100, format!("(#100) {message}"))
    }

    pub fn sub(mut self, subcode: i64) -> Self {
        self.subcode = Some(subcode);
        self
    }

    pub fn user(mut self, msg: impl Into<String>) -> Self {
        self.user_msg = Some(msg.into());
        self
    }

    fn no_object(id: &str, method: &Method) -> Self {
        Self::param(format!(
            "Unsupported {} request. Object with ID '{id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api",
            method.as_str().to_ascii_lowercase()
        ))
        .sub(33)
    }

    fn render(self, trace: &str) -> Response {
        let mut error = json!({
            "message": self.message,
            "type": "OAuthException",
            "code": self.code,
            "fbtrace_id": trace,
        });
        if let Some(sub) = self.subcode {
            error["error_subcode"] = json!(sub);
        }
        if self.transient {
            error["is_transient"] = json!(true);
        }
        if let Some(msg) = self.user_msg {
            error["error_user_title"] = json!("Audience update failed");
            error["error_user_msg"] = json!(msg);
        }
        let mut res = (self.status, Json(json!({ "error": error }))).into_response();
        for (name, value) in self.headers {
            if let Ok(v) = HeaderValue::from_str(&value) {
                res.headers_mut().insert(name, v);
            }
        }
        res
    }
}

pub(crate) type GraphResult<T = Value> = Result<T, GraphError>;

/// One request's parameters (query string and body merged) and what the pager needs.
pub(crate) struct Params {
    pub map: HashMap<String, String>,
    /// `payload` of an audience upload, parsed and checked before the sandbox's lock is taken
    /// (it is most of an upload's work); taken once by the handler.
    payload: std::cell::RefCell<Option<GraphResult<audiences::Parsed>>>,
    /// The query string's pairs, re-used in `paging.next`.
    query: Vec<(String, String)>,
    /// `http://host/sandbox/graph/v25.0/<path>`.
    pub url: String,
    /// What the person granted the calling token, when Facebook Login here issued it.
    grant: Option<oauth::Grant>,
}

impl Params {
    /// The upload's rows; an error when the request had no `payload`.
    pub fn take_payload(&self) -> GraphResult<audiences::Parsed> {
        self.payload
            .borrow_mut()
            .take()
            .unwrap_or_else(|| Err(GraphError::param("The parameter payload is required")))
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.map
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    pub fn require(&self, key: &str) -> GraphResult<&str> {
        self.get(key)
            .ok_or_else(|| GraphError::param(format!("The parameter {key} is required")))
    }

    /// The parameter parsed as JSON (Graph takes objects as JSON strings).
    pub fn json(&self, key: &str) -> GraphResult<Option<Value>> {
        match self.get(key) {
            None => Ok(None),
            Some(raw) => serde_json::from_str(raw).map(Some).map_err(|_| {
                GraphError::param(format!("Param {key} must be a JSON object or array"))
            }),
        }
    }

    /// `fields=a,b{c},d` → `["a","b","d"]`.
    pub fn fields(&self) -> Option<Vec<String>> {
        let raw = self.get("fields")?;
        let mut out = Vec::new();
        let mut depth = 0usize;
        let mut cur = String::new();
        for c in raw.chars() {
            match c {
                '{' => depth += 1,
                '}' => depth = depth.saturating_sub(1),
                ',' if depth == 0 => {
                    out.push(std::mem::take(&mut cur));
                }
                _ if depth == 0 => cur.push(c),
                _ => {}
            }
        }
        out.push(cur);
        Some(
            out.into_iter()
                .map(|f| f.split('.').next().unwrap_or_default().trim().to_owned())
                .filter(|f| !f.is_empty())
                .collect(),
        )
    }
}

/// `fields` selection of an object: `id` plus the requested fields it has.
pub(crate) fn select(
    fields: &Map<String, Value>,
    wanted: Option<&[String]>,
    default: &[&str],
) -> Value {
    let mut out = Map::new();
    if let Some(id) = fields.get("id") {
        out.insert("id".into(), id.clone());
    }
    match wanted {
        Some(list) => {
            for f in list {
                if let Some(v) = fields.get(f) {
                    out.insert(f.clone(), v.clone());
                }
            }
        }
        None => {
            for f in default {
                if let Some(v) = fields.get(*f) {
                    out.insert((*f).to_owned(), v.clone());
                }
            }
        }
    }
    Value::Object(out)
}

fn encode_cursor(index: usize) -> String {
    hex::encode(format!("sandbox:{index}"))
}

fn decode_cursor(cursor: &str) -> Option<usize> {
    let bytes = hex::decode(cursor).ok()?;
    String::from_utf8(bytes)
        .ok()?
        .strip_prefix("sandbox:")?
        .parse()
        .ok()
}

/// Cursor paging over `items`: `limit` and `after`/`before`, `paging.next` while more remain.
pub(crate) fn page(items: &[Value], params: &Params) -> GraphResult {
    let limit = match params.get("limit") {
        None => DEFAULT_PAGE_SIZE,
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| GraphError::param("Param limit must be a positive integer"))?
            .min(5_000),
    };
    let start = match params.get("after") {
        Some(c) => decode_cursor(c)
            .ok_or_else(|| GraphError::param("Invalid cursor (after)"))?
            .saturating_add(1),
        None => 0,
    };
    let start = start.min(items.len());
    let end = (start + limit).min(items.len());
    let data: Vec<Value> = items[start..end].to_vec();
    let mut body = json!({ "data": data });
    if end > start {
        let mut paging = json!({
            "cursors": { "before": encode_cursor(start), "after": encode_cursor(end - 1) }
        });
        let link = |cursor_key: &str, cursor: String| {
            let mut q: Vec<(String, String)> = params
                .query
                .iter()
                .filter(|(k, _)| k != "after" && k != "before")
                .cloned()
                .collect();
            q.push((cursor_key.to_owned(), cursor));
            format!(
                "{}?{}",
                params.url,
                serde_urlencoded::to_string(&q).unwrap_or_default()
            )
        };
        if end < items.len() {
            paging["next"] = json!(link("after", encode_cursor(end - 1)));
        }
        if start > 0 {
            paging["previous"] = json!(link("before", encode_cursor(start)));
        }
        body["paging"] = paging;
    }
    Ok(body)
}

/// Which Business Use Case a call counts against.
fn use_case(segments: &[&str], state: &SandboxState) -> &'static str {
    if segments.last() == Some(&"insights") {
        return "ads_insights";
    }
    if segments.contains(&"customaudiences") {
        return "custom_audience";
    }
    match state.nodes.get(segments[0]).map(|n| n.kind) {
        Some(Kind::Audience) => "custom_audience",
        _ => "ads_management",
    }
}

fn usage_headers(
    state: &SandboxState,
    quota: u64,
    use_case: &str,
    regain_minutes: u64,
) -> Vec<(&'static str, String)> {
    let pct = (state.calls.saturating_mul(100) / quota.max(1)).min(100);
    let app = json!({ "call_count": pct, "total_cputime": pct / 4, "total_time": pct / 3 });
    let buc = json!({ BUSINESS_ID: [{
        "type": use_case,
        "call_count": pct,
        "total_cputime": pct / 4,
        "total_time": pct / 3,
        "estimated_time_to_regain_access": regain_minutes,
        "ads_api_access_tier": "standard_access",
    }]});
    let acc = json!({
        "acc_id_util_pct": pct,
        "reset_time_duration": if pct >= 100 { regain_minutes * 60 } else { 0 },
        "ads_api_access_tier": "standard_access",
    });
    vec![
        ("x-app-usage", app.to_string()),
        ("x-business-use-case-usage", buc.to_string()),
        ("x-ad-account-usage", acc.to_string()),
    ]
}

async fn wrong_version(State(sb): State<Sandbox>) -> Response {
    let trace = next_trace(&mut sb.lock());
    GraphError::new(
        2635,
        format!("(#2635) The sandbox serves Graph API {GRAPH_VERSION} only."),
    )
    .render(&trace)
}

fn next_trace(state: &mut SandboxState) -> String {
    state.trace += 1;
    format!("ASbx{:08X}", state.trace.wrapping_mul(2_654_435_761) as u32)
}

/// A JSON request body: every field as Graph reads it (strings as they are, anything else as its
/// JSON text), except `payload`, which is parsed into rows straight away.
struct JsonBody {
    map: HashMap<String, String>,
    payload: Option<GraphResult<audiences::Parsed>>,
}

impl<'de> Deserialize<'de> for JsonBody {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct BodyVisitor;
        impl<'de> serde::de::Visitor<'de> for BodyVisitor {
            type Value = JsonBody;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut access: A,
            ) -> Result<JsonBody, A::Error> {
                let mut body = JsonBody {
                    map: HashMap::new(),
                    payload: None,
                };
                while let Some(key) = access.next_key::<String>()? {
                    if key == "payload" {
                        let audiences::PayloadField(parsed) = access.next_value()?;
                        body.payload = Some(parsed);
                    } else {
                        let value = match access.next_value::<Value>()? {
                            Value::String(s) => s,
                            other => other.to_string(),
                        };
                        body.map.insert(key, value);
                    }
                }
                Ok(body)
            }
        }
        d.deserialize_map(BodyVisitor)
    }
}

fn parse_params(
    headers: &HeaderMap,
    query: Option<&str>,
    body: &[u8],
    path: &str,
) -> Result<Params, GraphError> {
    let query_pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.unwrap_or(""))
        .map_err(|_| GraphError::param("Malformed query string"))?;
    let mut map: HashMap<String, String> = query_pairs.iter().cloned().collect();
    let mut payload = None;
    if !body.is_empty() {
        let ctype = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if ctype.starts_with("application/json") {
            let parsed: JsonBody = serde_json::from_slice(body)
                .map_err(|_| GraphError::param("The request body is not a JSON object"))?;
            map.extend(parsed.map);
            payload = parsed.payload;
        } else {
            let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
                .map_err(|_| GraphError::param("Malformed form body"))?;
            map.extend(pairs);
        }
    }
    // A payload sent as text (form body or query string, as the SDKs send it).
    if payload.is_none()
        && let Some(raw) = map.remove("payload")
        && !raw.is_empty()
    {
        payload = Some(audiences::parse_payload_str(&raw));
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    Ok(Params {
        map,
        payload: std::cell::RefCell::new(payload),
        query: query_pairs,
        url: format!("http://{host}{GRAPH_PREFIX}/{path}"),
        grant: None,
    })
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("OAuth "))?;
    Some(token.trim().to_owned())
}

async fn graph(
    State(sb): State<Sandbox>,
    method: Method,
    Path(path): Path<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: axum::body::Body,
) -> Response {
    let limit = body_limit_for(&sb.config, &path);
    let Ok(body) = axum::body::to_bytes(body, limit).await else {
        let mut err = GraphError::new(
            1,
            format!(
                "(#1) The request body is larger than the {limit} bytes this endpoint accepts."
            ),
        );
        err.status = StatusCode::PAYLOAD_TOO_LARGE;
        return err.render(&next_trace(&mut sb.lock()));
    };
    // Parsing (most of an upload's work) happens before the lock, off the async threads when
    // the body is large, so other calls go on meanwhile.
    let (h, p, q) = (&headers, &path, &query);
    let parse = move |body: Bytes| async move {
        if body.len() > 256 * 1024 {
            let (headers, path, query) = (h.clone(), p.clone(), q.clone());
            tokio::task::spawn_blocking(move || {
                parse_params(&headers, query.as_deref(), &body, &path)
            })
            .await
            .unwrap_or_else(|_| Err(GraphError::param("The request could not be read")))
        } else {
            parse_params(h, q.as_deref(), &body, p)
        }
    };
    let params = parse(body.clone()).await;
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let kind = RequestKind::of(&method, &segments, params.as_ref().ok());
    let fault = kind.and_then(|kind| sb.lock().reply_fault(kind));
    let mut result = {
        let mut state = sb.lock();
        let trace = next_trace(&mut state);
        (
            handle(&sb, &mut state, &method, &path, &headers, params),
            trace,
        )
    };
    match fault {
        // Applied above; the answer never reaches the client.
        Some(ReplyFault::Drop) => {
            tracing::info!(
                ?kind,
                "sandbox fault: the reply is lost after the request was applied"
            );
            return cut_connection();
        }
        // A proxy lost the answer above and sent the same request again.
        Some(ReplyFault::Repeat) => {
            tracing::info!(?kind, "sandbox fault: the request is sent a second time");
            let params = parse(body).await;
            let mut state = sb.lock();
            let trace = next_trace(&mut state);
            result = (
                handle(&sb, &mut state, &method, &path, &headers, params),
                trace,
            );
        }
        None => {}
    }
    let (result, trace) = result;
    match result {
        Ok((value, extra)) => {
            let mut res = Json(value).into_response();
            for (name, v) in extra {
                if let Ok(v) = HeaderValue::from_str(&v) {
                    res.headers_mut().insert(name, v);
                }
            }
            res.headers_mut().insert(
                "x-fb-trace-id",
                HeaderValue::from_str(&trace).unwrap_or(HeaderValue::from_static("")),
            );
            res
        }
        Err(Html500) => html_500(),
        Err(Graph(e)) => e.render(&trace),
    }
}

impl SandboxState {
    /// Counts a request of `kind`, and says whether a one-shot reply fault is due on it.
    fn reply_fault(&mut self, kind: RequestKind) -> Option<ReplyFault> {
        let n = self.request_counts.entry(kind).or_default();
        *n += 1;
        let n = *n;
        let due = |f: &Option<NthRequest>| f.is_some_and(|f| f.kind == kind && f.nth == n);
        if due(&self.faults.drop_reply) {
            self.faults.drop_reply = None;
            Some(ReplyFault::Drop)
        } else if due(&self.faults.repeat_request) {
            self.faults.repeat_request = None;
            Some(ReplyFault::Repeat)
        } else {
            None
        }
    }
}

/// A reply that never arrives: the status line may go out, then the connection is cut before
/// the body ends, as a reset or a proxy's timeout would. The client gets a transport error and
/// no answer.
fn cut_connection() -> Response {
    let lost = futures_util::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "sandbox fault: reply dropped",
        ))
    });
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .body(axum::body::Body::from_stream(lost))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

use Failure::{Graph, Html500};

/// The largest body `path` (under the Graph prefix) accepts: the API's limit, or for an
/// audience's member uploads one full batch.
fn body_limit_for(config: &SandboxConfig, path: &str) -> usize {
    let upload = path.ends_with("/users") || path.ends_with("/usersreplace");
    if upload {
        config.body_limit.max(UPLOAD_BODY_LIMIT)
    } else {
        config.body_limit
    }
}

enum Failure {
    Graph(GraphError),
    Html500,
}

impl From<GraphError> for Failure {
    fn from(e: GraphError) -> Self {
        Graph(e)
    }
}

fn html_500() -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        "<!DOCTYPE html><html><head><title>Facebook | Error</title></head><body><h1>Sorry, something went wrong.</h1><p>We're working on it and we'll get it fixed as soon as we can.</p></body></html>",
    )
        .into_response()
}

type Handled = (Value, Vec<(&'static str, String)>);

fn handle(
    sb: &Sandbox,
    state: &mut SandboxState,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    params: Result<Params, GraphError>,
) -> Result<Handled, Failure> {
    let mut params = params?;
    // Graph lets a POST stand for another method.
    let method = match (method, params.get("method")) {
        (&Method::POST, Some(m)) if m.eq_ignore_ascii_case("delete") => Method::DELETE,
        (&Method::POST, Some(m)) if m.eq_ignore_ascii_case("get") => Method::GET,
        _ => method.clone(),
    };

    // Authentication first, as Graph does. A token starting with `invalid` stands for one Facebook
    // cannot parse (so tests can save a plausible-looking bad token).
    let token = params
        .get("access_token")
        .map(str::to_owned)
        .or_else(|| bearer(headers))
        .filter(|t| !t.is_empty());
    let Some(token) = token else {
        return Err(
            GraphError::new(104, "An access token is required to request this resource.").into(),
        );
    };
    if token.contains(char::is_whitespace) || token.starts_with("invalid") {
        return Err(GraphError::new(
            190,
            "Invalid OAuth access token - Cannot parse access token",
        )
        .into());
    }
    params.grant = state.login.grant(&token).cloned();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    // Answered as with an app token: it describes the input token even when that one expired.
    if segments.as_slice() == ["debug_token"] && method == Method::GET {
        return Ok((debug_token(state, &params)?, Vec::new()));
    }
    let grant_expired = params
        .grant
        .as_ref()
        .is_some_and(|g| g.expires_at <= state.now());
    if state.faults.token_expired() || grant_expired {
        return Err(GraphError::new(
            190,
            "Error validating access token: Session has expired on Saturday, 28-Nov-26 10:00:00 PST. The current time is later.",
        )
        .sub(463)
        .into());
    }
    if let Some(secret) = &sb.config.access().app_secret {
        let Some(proof) = params.get("appsecret_proof") else {
            return Err(GraphError::param(
                "API calls from the server require an appsecret_proof argument",
            )
            .into());
        };
        let mut mac =
            Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
        mac.update(token.as_bytes());
        if hex::encode(mac.finalize().into_bytes()) != proof {
            return Err(
                GraphError::param("Invalid appsecret_proof provided in the API argument").into(),
            );
        }
    }

    if segments.is_empty() || segments.len() > 2 {
        return Err(GraphError::param("Unknown path components").into());
    }

    // Rate limiting and injected faults, counted per call.
    let now = state.now();
    if state.blocked_until.is_some_and(|until| now >= until) {
        state.blocked_until = None;
        state.calls = 0;
    }
    state.calls += 1;
    let quota = state.faults.rate_limit_after.unwrap_or(DEFAULT_QUOTA);
    let regain = state.faults.regain_access_minutes.unwrap_or(1);
    let case = use_case(&segments, state);
    let mut usage = usage_headers(state, quota, case, 0);
    if state.calls > quota {
        if state.blocked_until.is_none() {
            state.blocked_until = Some(now + jiff::SignedDuration::from_mins(regain as i64));
        }
        let code = state.faults.rate_limit_code.unwrap_or(80003);
        let message = match code {
            17 => "(#17) User request limit reached".to_owned(),
            4 => "(#4) Application request limit reached".to_owned(),
            80004 => "(#80004) There have been too many calls to this ad-account. Wait a bit and try again. For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting#ads-management.".to_owned(),
            c => format!("(#{c}) There have been too many calls to this ad-account. Wait a bit and try again. For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting#custom-audience."),
        };
        let mut err = GraphError::new(code, message).sub(2446079);
        err.headers = usage_headers(state, quota, case, regain);
        return Err(err.into());
    }
    let every_hit = state
        .faults
        .transient_every
        .is_some_and(|n| n > 0 && state.calls.is_multiple_of(n));
    if state.faults.html_500_next > 0 {
        state.faults.html_500_next -= 1;
        return Err(Html500);
    }
    if state.faults.transient_next > 0 || every_hit {
        state.faults.transient_next = state.faults.transient_next.saturating_sub(1);
        let mut err = GraphError::new(
            2,
            "An unexpected error has occurred. Please retry your request later.",
        );
        err.status = StatusCode::INTERNAL_SERVER_ERROR;
        err.transient = true;
        err.headers = std::mem::take(&mut usage);
        return Err(err.into());
    }
    // An injected fault wins over what the person granted, so debug switches work on any token.
    let scopes = match (&state.faults.token_scopes, &params.grant) {
        (None, Some(g)) => g.granted.clone(),
        _ => state.faults.scopes(),
    };
    let may_write =
        !state.faults.missing_permission && scopes.iter().any(|s| s == "ads_management");
    if !may_write && method != Method::GET {
        let mut err = GraphError::new(
            294,
            "(#294) Managing advertisements requires the extended permission ads_management and an application that is whitelisted to access the Marketing API",
        );
        err.status = StatusCode::FORBIDDEN;
        return Err(err.into());
    }

    if segments.as_slice() == ["me", "permissions"] && method == Method::GET {
        let value = oauth::permissions(params.grant.as_ref(), &state.faults.scopes());
        return Ok((value, usage));
    }
    let value = route(state, &method, &segments, &params).map_err(|mut e| {
        e.headers.extend(usage.iter().cloned());
        e
    })?;
    Ok((value, usage))
}

/// `GET /debug_token?input_token=…`: the token's app, type, expiry, validity and scopes.
fn debug_token(state: &SandboxState, params: &Params) -> GraphResult {
    let input = params.require("input_token")?;
    let now = state.now();
    let faults = &state.faults;
    let days = faults.token_expires_in_days.unwrap_or(60);
    // As in `handle`: injected faults win over what the person granted.
    let grant = state.login.grant(input);
    let expires_at = match (faults.token_expires_in_days, grant) {
        (None, Some(g)) => g.expires_at,
        _ => now + jiff::SignedDuration::from_hours(days * 24),
    };
    let scopes = match (&faults.token_scopes, grant) {
        (None, Some(g)) => g.granted.clone(),
        _ => faults.scopes(),
    };
    let mut data = json!({
        "app_id": SANDBOX_APP_ID,
        "type": "USER",
        "application": "Facebook Audiences (sandbox)",
        "data_access_expires_at": (now + jiff::SignedDuration::from_hours(90 * 24)).as_second(),
        "expires_at": expires_at.as_second(),
        "is_valid": true,
        "issued_at": (now - jiff::SignedDuration::from_hours(24)).as_second(),
        "scopes": scopes,
        "granular_scopes": scopes.iter().map(|s| json!({ "scope": s })).collect::<Vec<_>>(),
        "user_id": "10000000000000001",
    });
    let unparsable = input.contains(char::is_whitespace) || input.starts_with("invalid");
    if unparsable {
        data = json!({
            "error": { "code": 190, "message": "Invalid OAuth access token - Cannot parse access token" },
            "is_valid": false,
            "scopes": [],
        });
    } else if faults.token_expired() || expires_at <= now {
        data["is_valid"] = json!(false);
        if faults.expired_token {
            data["expires_at"] = json!((now - jiff::SignedDuration::from_hours(1)).as_second());
        }
        data["error"] = json!({
            "code": 190,
            "subcode": 463,
            "message": "Error validating access token: Session has expired. The current time is later.",
        });
    }
    Ok(json!({ "data": data }))
}

/// The sandbox's made-up Facebook app.
pub const SANDBOX_APP_ID: &str = "900000000000001";

fn route(state: &mut SandboxState, method: &Method, seg: &[&str], params: &Params) -> GraphResult {
    let id = seg[0];
    if id == "me" {
        return match (seg.get(1).copied(), method) {
            (Some("adaccounts"), &Method::GET) => {
                // A Facebook Login token reaches only the accounts the person ticked.
                let items: Vec<Value> = state
                    .children(Kind::Account, "me")
                    .into_iter()
                    .filter(|(id, _)| {
                        params
                            .grant
                            .as_ref()
                            .is_none_or(|g| g.accounts.iter().any(|a| a == id))
                    })
                    .map(|(_, n)| select(&n.fields, params.fields().as_deref(), &["account_id"]))
                    .collect();
                page(&items, params)
            }
            (None, &Method::GET) => {
                Ok(json!({ "id": "10000000000000001", "name": "Sandbox User" }))
            }
            _ => Err(GraphError::param("Unsupported request on /me")),
        };
    }
    if state.report_runs.contains_key(id) {
        return match (seg.get(1).copied(), method) {
            (None, &Method::GET) => insights::report_status(state, id),
            (Some("insights"), &Method::GET) => insights::report_insights(state, id, params),
            _ => Err(GraphError::no_object(id, method)),
        };
    }
    let Some(kind) = state.nodes.get(id).map(|n| n.kind) else {
        return Err(GraphError::no_object(id, method));
    };
    match (kind, seg.get(1).copied(), method.clone()) {
        (Kind::Audience, None, Method::GET) => {
            audiences::refresh(state, id);
            Ok(select(
                &state.nodes[id].fields,
                params.fields().as_deref(),
                &[],
            ))
        }
        (_, None, Method::GET) => {
            let node = &state.nodes[id];
            let default: &[&str] = match kind {
                Kind::Account => &["account_id"],
                _ => &[],
            };
            Ok(select(&node.fields, params.fields().as_deref(), default))
        }
        (Kind::AdSet, None, Method::POST) => update_ad_set(state, id, params),
        (Kind::Audience, None, Method::POST) => audiences::update(state, id, params),
        (Kind::Audience, None, Method::DELETE) => audiences::delete(state, id),
        (Kind::Account, Some("campaigns"), Method::GET) => list(state, Kind::Campaign, id, params),
        (Kind::Account, Some("adsets"), Method::GET) => list(state, Kind::AdSet, id, params),
        (Kind::Account, Some("ads"), Method::GET) => list(state, Kind::Ad, id, params),
        (Kind::Account, Some("customaudiences"), Method::GET) => {
            let ids: Vec<String> = state
                .children(Kind::Audience, id)
                .iter()
                .map(|(i, _)| (*i).to_owned())
                .collect();
            for ca in ids {
                audiences::refresh(state, &ca);
            }
            list(state, Kind::Audience, id, params)
        }
        (Kind::Account, Some("customaudiences"), Method::POST) => {
            audiences::create(state, id, params)
        }
        (Kind::Campaign, Some("adsets"), Method::GET) => list(state, Kind::AdSet, id, params),
        (Kind::AdSet, Some("ads"), Method::GET) => list(state, Kind::Ad, id, params),
        (Kind::Audience, Some("users"), Method::POST) => {
            audiences::users(state, id, params, audiences::Op::Add)
        }
        (Kind::Audience, Some("users"), Method::DELETE) => {
            audiences::users(state, id, params, audiences::Op::Remove)
        }
        (Kind::Audience, Some("sessions"), Method::GET) => {
            let items = state
                .audiences
                .get(id)
                .map(AudienceData::sessions_view)
                .unwrap_or_default();
            page(&items, params)
        }
        (Kind::Audience, Some("usersreplace"), Method::POST) => {
            audiences::users(state, id, params, audiences::Op::Replace)
        }
        (
            Kind::Account | Kind::Campaign | Kind::AdSet | Kind::Ad,
            Some("insights"),
            Method::GET,
        ) => insights::insights(state, id, params),
        (
            Kind::Account | Kind::Campaign | Kind::AdSet | Kind::Ad,
            Some("insights"),
            Method::POST,
        ) => insights::start_report(state, id, params),
        (_, Some(edge), Method::GET) => Err(GraphError::param(format!(
            "Tried accessing nonexisting field ({edge}) on node type ({})",
            kind.type_name()
        ))),
        _ => Err(GraphError::no_object(id, method)),
    }
}

fn list(state: &SandboxState, kind: Kind, owner: &str, params: &Params) -> GraphResult {
    let wanted = params.fields();
    let items: Vec<Value> = state
        .children(kind, owner)
        .into_iter()
        .map(|(_, n)| select(&n.fields, wanted.as_deref(), &[]))
        .collect();
    page(&items, params)
}

/// `POST /<adset_id>`: `targeting` replaces the whole spec (read-modify-write is the client's job).
fn update_ad_set(state: &mut SandboxState, id: &str, params: &Params) -> GraphResult {
    let account = state.nodes[id].account.clone();
    let mut changes = Map::new();
    if let Some(targeting) = params.json("targeting")? {
        let Value::Object(spec) = &targeting else {
            return Err(GraphError::param("Param targeting must be a JSON object"));
        };
        let has_countries = spec
            .get("geo_locations")
            .and_then(|g| g.as_object())
            .is_some_and(|g| !g.is_empty());
        if !has_countries {
            return Err(GraphError::param(
                "Invalid parameter: geo_locations is required in targeting",
            ));
        }
        for key in ["custom_audiences", "excluded_custom_audiences"] {
            let Some(list) = spec.get(key) else { continue };
            let Some(list) = list.as_array() else {
                return Err(GraphError::param(format!(
                    "targeting.{key} must be an array"
                )));
            };
            if list.len() > 500 {
                return Err(GraphError::param(format!(
                    "targeting.{key}: at most 500 audiences"
                )));
            }
            for entry in list {
                let ca = entry
                    .get("id")
                    .and_then(Value::as_str)
                    .or_else(|| entry.as_str())
                    .unwrap_or_default();
                let ok = state
                    .nodes
                    .get(ca)
                    .is_some_and(|n| n.kind == Kind::Audience && n.account == account);
                if !ok {
                    return Err(GraphError::param(format!(
                        "Invalid custom audience {ca}: it does not exist, was deleted, or is not shared with this ad account"
                    ))
                    .sub(1487301));
                }
            }
        }
        changes.insert("targeting".into(), targeting);
    }
    for key in ["name", "status"] {
        if let Some(v) = params.get(key) {
            changes.insert(key.into(), json!(v));
        }
    }
    if changes.is_empty() {
        return Err(GraphError::param("No fields to update"));
    }
    let node = state.nodes.get_mut(id).expect("checked above");
    node.fields.extend(changes);
    Ok(json!({ "success": true }))
}

async fn debug_audience(State(sb): State<Sandbox>, Path(id): Path<String>) -> Response {
    let state = sb.lock();
    match state.audiences.get(&id) {
        Some(data) => Json(data.debug_view(&id)).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({ "error": format!("no audience {id} in the sandbox") })),
        )
            .into_response(),
    }
}

async fn get_faults(State(sb): State<Sandbox>) -> Json<Faults> {
    Json(sb.lock().faults.clone())
}

async fn set_faults(State(sb): State<Sandbox>, Json(faults): Json<Faults>) -> Json<Faults> {
    let mut state = sb.lock();
    state.faults = faults;
    state.calls = 0;
    state.blocked_until = None;
    state.request_counts.clear();
    Json(state.faults.clone())
}

#[derive(Deserialize)]
struct ClockAdvance {
    advance_seconds: i64,
}

async fn advance_clock(State(sb): State<Sandbox>, Json(req): Json<ClockAdvance>) -> Json<Value> {
    let mut state = sb.lock();
    state.clock_offset_secs += req.advance_seconds;
    Json(json!({ "now": state.now().to_string() }))
}

/// `POST /sandbox/debug/insights/revisions`: Facebook revises recent days after the fact; this
/// scales one ad's figures on one day to `percent` of what they were.
#[derive(Deserialize)]
struct Revision {
    ad_id: String,
    date: jiff::civil::Date,
    percent: u64,
}

async fn revise_insights(State(sb): State<Sandbox>, Json(rev): Json<Revision>) -> Json<Value> {
    let mut state = sb.lock();
    state
        .revisions
        .insert((rev.ad_id.clone(), rev.date), rev.percent);
    Json(json!({ "ad_id": rev.ad_id, "date": rev.date, "percent": rev.percent }))
}

/// Ordered JSON map helper for seeds and audiences.
pub(crate) fn obj(pairs: Vec<(&str, Value)>) -> Map<String, Value> {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// The sandbox's routes, always mounted: they answer while the server's Facebook connection
/// (environment or Settings → Facebook, switchable at run time) is the sandbox, and a 404
/// saying the sandbox is off while it is live.
pub fn router_for<S: Clone + Send + Sync + 'static>(state: &crate::state::AppState) -> Router<S> {
    let app = state.clone();
    router(Sandbox::new(SandboxConfig {
        app_secret: state.config.facebook.app_secret.clone(),
        current: Some(Arc::new(move || {
            let settings = app.facebook_settings();
            Access {
                enabled: settings.mode == shared::settings::FacebookMode::Sandbox,
                app_secret: settings.app_secret,
                app_id: settings.app_id,
            }
        })),
        body_limit: state.config.body_limit_bytes,
    }))
    // On the whole router, by path: debug endpoints added later are guarded without a change.
    .layer(axum::middleware::from_fn_with_state(
        state.clone(),
        debug_guard,
    ))
}

/// Guards everything under [`DEBUG_PREFIX`]: a 404 unless `SANDBOX_DEBUG=on`; then an admin's
/// session, and this site's `Origin` on writes, as `crate::auth::guard` checks an admin-only
/// `/api` route. Graph routes pass untouched (Graph's own rules apply to them).
async fn debug_guard(
    State(app): State<crate::state::AppState>,
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let sandbox_on = app.facebook_settings().mode == shared::settings::FacebookMode::Sandbox;
    // While the live API is in use the sandbox's own gate answers (a 404 saying it is off).
    if !request.uri().path().starts_with(DEBUG_PREFIX) || !sandbox_on {
        return next.run(request).await;
    }
    if !app.config.sandbox_debug {
        return crate::error::ApiError::not_found(
            "The sandbox's debug endpoints are off; they are for tests, which start the server \
             with SANDBOX_DEBUG=on.",
        )
        .into_response();
    }
    match crate::auth::guard::authorize(&app, &mut request, crate::auth::policy::ADMIN).await {
        Ok(()) => next.run(request).await,
        Err(err) => err.into_response(),
    }
}
