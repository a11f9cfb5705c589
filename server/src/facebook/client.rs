//! The Graph API client: typed calls behind the [`FacebookClient`] trait, cursor paging,
//! `appsecret_proof`, error classification, and pacing driven by the rate-limit headers.

use std::{
    future::Future,
    pin::Pin,
    sync::Mutex,
    time::{Duration, Instant},
};

use hmac::{Hmac, Mac};
use reqwest::Method;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::{Value, json};
use sha2::Sha256;

use super::{
    errors::{FacebookError, GraphErrorEnvelope},
    hashing::HashedBatch,
    ratelimit::Usage,
};

/// Most rows Graph accepts in one `/users` or `/usersreplace` request.
pub const MAX_ROWS_PER_REQUEST: usize = 10_000;

pub type FbResult<T> = Result<T, FacebookError>;
pub type FbFuture<'a, T> = Pin<Box<dyn Future<Output = FbResult<T>> + Send + 'a>>;

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = FacebookAdAccount)]
pub struct AdAccount {
    /// `act_<account_id>`.
    pub id: String,
    pub account_id: String,
    pub name: String,
    pub currency: String,
    pub timezone_name: String,
    /// 1 active, 2 disabled, 3 unsettled, 7 pending risk review, 9 in grace period, 101 closed…
    pub account_status: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = FacebookCampaign)]
pub struct Campaign {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub effective_status: Option<String>,
    #[serde(default)]
    pub objective: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = FacebookAdSet)]
pub struct AdSet {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub campaign_id: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub effective_status: Option<String>,
    #[serde(default)]
    pub daily_budget: Option<String>,
    /// The full targeting spec, as Facebook returns it.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub targeting: Option<Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Ad {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub adset_id: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub effective_status: Option<String>,
}

/// `POST /act_<id>/customaudiences`.
#[derive(Debug, Clone)]
pub struct NewCustomAudience {
    pub name: String,
    pub description: String,
    /// `USER_PROVIDED_ONLY`, `PARTNER_PROVIDED_ONLY` or `BOTH_USER_AND_PARTNER_PROVIDED`.
    pub customer_file_source: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StatusCode {
    pub code: i64,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CustomAudience {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub subtype: Option<String>,
    #[serde(default)]
    pub approximate_count_lower_bound: Option<i64>,
    #[serde(default)]
    pub approximate_count_upper_bound: Option<i64>,
    #[serde(default)]
    pub operation_status: Option<StatusCode>,
    #[serde(default)]
    pub delivery_status: Option<StatusCode>,
    #[serde(default)]
    pub customer_file_source: Option<String>,
    #[serde(default)]
    pub time_content_updated: Option<i64>,
}

/// What a `/users` or `/usersreplace` upload did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UploadSummary {
    pub session_id: i64,
    /// Requests sent (each ≤ 10,000 rows).
    pub batches: usize,
    pub rows_sent: u64,
    /// Facebook's cumulative `num_received` after the last batch.
    pub num_received: u64,
    /// Sum of `num_invalid_entries` over the batches.
    pub num_invalid_entries: u64,
    /// Up to 100 of Facebook's samples of invalid entries.
    pub invalid_entry_samples: Vec<String>,
    /// Input rows not sent because every key was empty after normalisation.
    pub rows_skipped_locally: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadOp {
    Add,
    Remove,
    Replace,
}

/// `GET /<object>/insights`, daily at ad level.
#[derive(Debug, Clone)]
pub struct InsightsQuery {
    pub since: jiff::civil::Date,
    pub until: jiff::civil::Date,
}

/// One ad on one day. Money stays a decimal string in the account's currency, as Facebook sends it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct InsightRow {
    pub date_start: String,
    pub date_stop: String,
    #[serde(default)]
    pub ad_id: Option<String>,
    #[serde(default)]
    pub adset_id: Option<String>,
    #[serde(default)]
    pub campaign_id: Option<String>,
    #[serde(default, deserialize_with = "de_u64")]
    pub impressions: u64,
    #[serde(default, deserialize_with = "de_u64")]
    pub reach: u64,
    #[serde(default, deserialize_with = "de_u64")]
    pub clicks: u64,
    #[serde(default, deserialize_with = "de_u64")]
    pub inline_link_clicks: u64,
    #[serde(default)]
    pub spend: String,
    #[serde(default)]
    pub ctr: Option<String>,
    #[serde(default)]
    pub cpc: Option<String>,
    #[serde(default)]
    pub account_currency: Option<String>,
}

pub(super) fn de_u64<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) => s.parse().map_err(serde::de::Error::custom),
        Value::Number(n) => n
            .as_u64()
            .ok_or_else(|| serde::de::Error::custom("not a count")),
        Value::Null => Ok(0),
        other => Err(serde::de::Error::custom(format!("not a count: {other}"))),
    }
}

const INSIGHT_FIELDS: &str = "ad_id,adset_id,campaign_id,impressions,reach,clicks,inline_link_clicks,spend,ctr,cpc,account_currency";

/// Everything the product asks of Facebook. Jobs receive an `Arc<dyn FacebookClient>`; unit
/// tests can implement it to inject faults.
pub trait FacebookClient: Send + Sync {
    fn ad_accounts(&self) -> FbFuture<'_, Vec<AdAccount>>;
    fn campaigns<'a>(&'a self, account_id: &'a str) -> FbFuture<'a, Vec<Campaign>>;
    /// Ad sets of an ad account (`act_…`) or of a campaign.
    fn ad_sets<'a>(&'a self, parent_id: &'a str) -> FbFuture<'a, Vec<AdSet>>;
    fn ads<'a>(&'a self, ad_set_id: &'a str) -> FbFuture<'a, Vec<Ad>>;
    fn ad_set<'a>(&'a self, ad_set_id: &'a str) -> FbFuture<'a, AdSet>;
    /// Replaces the ad set's whole targeting spec.
    fn update_targeting<'a>(&'a self, ad_set_id: &'a str, targeting: &'a Value)
    -> FbFuture<'a, ()>;
    /// Adds the audience to `targeting.custom_audiences`, keeping the rest of the spec.
    fn attach_audience<'a>(&'a self, ad_set_id: &'a str, audience_id: &'a str) -> FbFuture<'a, ()>;
    /// Not repeated by the client after an answer that leaves it unknown whether Facebook
    /// created it ([`FacebookError::maybe_applied`]): the caller looks before creating again.
    fn create_custom_audience<'a>(
        &'a self,
        account_id: &'a str,
        audience: &'a NewCustomAudience,
    ) -> FbFuture<'a, String>;
    fn custom_audience<'a>(&'a self, audience_id: &'a str) -> FbFuture<'a, CustomAudience>;
    fn delete_custom_audience<'a>(&'a self, audience_id: &'a str) -> FbFuture<'a, ()>;
    /// Sends `rows` in one session of ≤ 10,000-row batches.
    fn upload_users<'a>(
        &'a self,
        op: UploadOp,
        audience_id: &'a str,
        rows: &'a HashedBatch,
        session_id: i64,
    ) -> FbFuture<'a, UploadSummary>;
    fn insights<'a>(
        &'a self,
        object_id: &'a str,
        query: &'a InsightsQuery,
    ) -> FbFuture<'a, Vec<InsightRow>>;
    /// Sends all of `rows` (≤ 10,000) as one request of an upload session whose fields the caller
    /// chooses, so a sync can record each batch before and after it is sent. Like every upload,
    /// not repeated by the client when Facebook may have applied it: the caller reads the
    /// session back ([`Self::audience_sessions`]).
    fn send_batch<'a>(
        &'a self,
        op: UploadOp,
        audience_id: &'a str,
        rows: &'a HashedBatch,
        session: BatchSession,
    ) -> FbFuture<'a, BatchResult>;
    /// `GET /<audience_id>/sessions`: what Facebook received in each upload session, to learn
    /// whether a batch whose answer was lost arrived.
    fn audience_sessions<'a>(&'a self, audience_id: &'a str) -> FbFuture<'a, Vec<AudienceSession>>;
    /// `GET /act_<id>/customaudiences`: the account's custom audiences (id, name, description).
    fn custom_audiences<'a>(&'a self, account_id: &'a str) -> FbFuture<'a, Vec<CustomAudience>>;
    /// `GET /debug_token?input_token=<the token in use>`: whether the token works, when it
    /// expires and what it may do.
    fn debug_token(&self) -> FbFuture<'_, TokenInfo>;
}

/// `debug_token`'s `data`: what Facebook knows about an access token.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TokenInfo {
    #[serde(default)]
    pub app_id: Option<String>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub application: Option<String>,
    /// Unix seconds; 0 means the token never expires.
    #[serde(default)]
    pub expires_at: Option<i64>,
    #[serde(default)]
    pub data_access_expires_at: Option<i64>,
    #[serde(default)]
    pub is_valid: bool,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub user_id: Option<String>,
    /// Why the token is not valid, when it is not.
    #[serde(default)]
    pub error: Option<TokenError>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TokenError {
    #[serde(default)]
    pub code: i64,
    #[serde(default)]
    pub subcode: Option<i64>,
    #[serde(default)]
    pub message: String,
}

/// The `session` fields of one `/users` or `/usersreplace` request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchSession {
    pub session_id: i64,
    /// 1-based, in order.
    pub batch_seq: i64,
    pub last_batch: bool,
    pub estimated_total: u64,
}

/// Facebook's answer to one batch.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BatchResult {
    /// Cumulative for the session.
    pub num_received: u64,
    pub num_invalid_entries: u64,
    pub invalid_entry_samples: Vec<String>,
}

/// One upload session of an audience (`/sessions` edge).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AudienceSession {
    #[serde(deserialize_with = "de_i64")]
    pub session_id: i64,
    #[serde(default, deserialize_with = "de_u64")]
    pub num_received: u64,
    #[serde(default, deserialize_with = "de_u64")]
    pub num_invalid_entries: u64,
    #[serde(default)]
    pub stage: Option<String>,
}

fn de_i64<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) => s.parse().map_err(serde::de::Error::custom),
        Value::Number(n) => n
            .as_i64()
            .ok_or_else(|| serde::de::Error::custom("not an id")),
        other => Err(serde::de::Error::custom(format!("not an id: {other}"))),
    }
}

/// Retries and pacing.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Retries of a retryable error before giving up (0 = none).
    pub max_retries: u32,
    /// First backoff when Facebook gives no wait time; doubles each retry.
    pub base_delay: Duration,
    /// Longest wait the client sleeps through; beyond it the error is returned with
    /// `retry_after` so a job can be rescheduled instead of holding a worker.
    pub max_wait: Duration,
    /// Pause before the next call when usage reaches 100% (scaled from 0 at 75%).
    pub max_slowdown: Duration,
    /// Rows per `/users` request (≤ 10,000).
    pub rows_per_request: usize,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 3,
            base_delay: Duration::from_secs(2),
            max_wait: Duration::from_secs(60),
            max_slowdown: Duration::from_secs(10),
            rows_per_request: MAX_ROWS_PER_REQUEST,
        }
    }
}

/// Whether the client may send a request again by itself after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Replay {
    /// Reads, and writes that land the same however often they are made.
    Safe,
    /// Writes that would act twice: repeated only after answers that prove Facebook did not
    /// act on them (throttling).
    Unsafe,
}

/// The reqwest implementation of [`FacebookClient`].
pub struct GraphClient {
    http: reqwest::Client,
    base: String,
    token: String,
    proof: Option<String>,
    policy: RetryPolicy,
    /// No call before this instant; with the throttling error that set it, if any.
    not_before: Mutex<Option<(Instant, Option<FacebookError>)>>,
}

impl std::fmt::Debug for GraphClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphClient")
            .field("base", &self.base)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// `appsecret_proof`: hex HMAC-SHA256 of the access token keyed by the app secret.
pub fn appsecret_proof(app_secret: &str, access_token: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(app_secret.as_bytes()).expect("HMAC takes any key");
    mac.update(access_token.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

impl GraphClient {
    /// `base` is the Graph URL including the version (`https://graph.facebook.com/v25.0`).
    pub fn new(
        base: impl Into<String>,
        access_token: impl Into<String>,
        app_secret: Option<&str>,
    ) -> Self {
        let token = access_token.into();
        Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(120))
                .build()
                .unwrap_or_default(),
            base: base.into().trim_end_matches('/').to_owned(),
            proof: app_secret.map(|s| appsecret_proof(s, &token)),
            token,
            policy: RetryPolicy::default(),
            not_before: Mutex::new(None),
        }
    }

    pub fn with_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    fn auth_params(&self) -> Vec<(String, String)> {
        let mut p = vec![("access_token".to_owned(), self.token.clone())];
        if let Some(proof) = &self.proof {
            p.push(("appsecret_proof".to_owned(), proof.clone()));
        }
        p
    }

    /// Waits out a slowdown; refuses to call at all while Facebook's block lasts longer than
    /// `max_wait` (calls while throttled extend the block), answering the throttling error again.
    async fn pace(&self) -> FbResult<()> {
        let (wait, blocked_by) = {
            let guard = self.not_before.lock().unwrap_or_else(|p| p.into_inner());
            match &*guard {
                Some((until, err)) => (until.checked_duration_since(Instant::now()), err.clone()),
                None => (None, None),
            }
        };
        let Some(wait) = wait else { return Ok(()) };
        if wait > self.policy.max_wait
            && let Some(mut err) = blocked_by
        {
            err.retry_after = Some(wait);
            return Err(err);
        }
        tokio::time::sleep(wait.min(self.policy.max_wait)).await;
        Ok(())
    }

    /// One Graph call with retries. `path` is relative to the base, or an absolute `paging.next`
    /// URL (which already carries the credentials). GET parameters go in the query string, the
    /// rest in a form body, as the official SDKs send them.
    pub(super) async fn call(
        &self,
        method: Method,
        path: &str,
        params: Vec<(String, String)>,
    ) -> FbResult<Value> {
        self.call_with(method, path, params, None, Replay::Safe)
            .await
    }

    /// A call that must not be made twice (creating an object): as [`Self::call`], but an
    /// answer that leaves it unknown whether Facebook acted ([`FacebookError::maybe_applied`])
    /// is returned to the caller instead of being retried, so it can look first.
    async fn call_once(
        &self,
        method: Method,
        path: &str,
        params: Vec<(String, String)>,
    ) -> FbResult<Value> {
        self.call_with(method, path, params, None, Replay::Unsafe)
            .await
    }

    /// A POST whose body is JSON: `fields` (a JSON object's members, without braces) after the
    /// credentials. Uploads go this way: ten thousand rows of hashes percent-encoded in a form
    /// would cost a third more bytes and most of the client's time; Graph reads either body.
    async fn post_json(&self, path: &str, fields: &[u8]) -> FbResult<Value> {
        let mut body = Vec::with_capacity(fields.len() + 256);
        body.push(b'{');
        for (k, v) in self.auth_params() {
            serde_json::to_writer(&mut body, &k).map_err(|e| FacebookError::decode("body", &e))?;
            body.push(b':');
            serde_json::to_writer(&mut body, &v).map_err(|e| FacebookError::decode("body", &e))?;
            body.push(b',');
        }
        body.extend_from_slice(fields);
        body.push(b'}');
        // An upload batch applied twice is refused (`batch_seq` out of order) and its first
        // copy's answer is lost with it: the sync reads the session back instead.
        self.call_with(
            Method::POST,
            path,
            Vec::new(),
            Some(axum::body::Bytes::from(body)),
            Replay::Unsafe,
        )
        .await
    }

    async fn call_with(
        &self,
        method: Method,
        path: &str,
        params: Vec<(String, String)>,
        json_body: Option<axum::body::Bytes>,
        replay: Replay,
    ) -> FbResult<Value> {
        let absolute = path.starts_with("http://") || path.starts_with("https://");
        let mut attempt = 0u32;
        loop {
            self.pace().await?;
            let url = if absolute {
                path.to_owned()
            } else {
                format!("{}/{}", self.base, path.trim_start_matches('/'))
            };
            let mut all = if absolute {
                Vec::new()
            } else {
                self.auth_params()
            };
            all.extend(params.iter().cloned());
            let request = if let Some(body) = &json_body {
                self.http
                    .request(method.clone(), &url)
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.clone())
            } else if method == Method::GET {
                self.http.get(&url).query(&all)
            } else {
                self.http.request(method.clone(), &url).form(&all)
            };
            let result = self.send(request).await;
            crate::metrics::facebook_call(&method, &result);
            match result {
                Ok(v) => return Ok(v),
                Err(err)
                    if err.is_retryable()
                        && attempt < self.policy.max_retries
                        && (replay == Replay::Safe || !err.maybe_applied()) =>
                {
                    let wait = err.retry_after.unwrap_or_else(|| {
                        self.policy.base_delay.saturating_mul(1 << attempt.min(10))
                    });
                    if wait > self.policy.max_wait {
                        return Err(err);
                    }
                    tracing::warn!(code = err.code, ?wait, "Graph API call failed; retrying");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                Err(err) => return Err(err),
            }
        }
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> FbResult<Value> {
        let res = request
            .send()
            .await
            .map_err(|e| FacebookError::transport(&e))?;
        let status = res.status().as_u16();
        let usage = Usage::from_headers(res.headers());
        crate::metrics::facebook_usage(res.headers());
        let text = res.text().await.map_err(|e| FacebookError::transport(&e))?;
        if (200..300).contains(&status) {
            let pause = usage.pause(self.policy.max_slowdown);
            if !pause.is_zero() {
                self.hold_off(pause, None);
            }
            return serde_json::from_str(&text)
                .map_err(|e| FacebookError::decode("a Graph response", &e));
        }
        let mut err = match serde_json::from_str::<GraphErrorEnvelope>(&text) {
            Ok(envelope) => FacebookError::from_graph(envelope.error, status),
            Err(_) => FacebookError::unparsable(status, &text),
        };
        if err.is_retryable() {
            err.retry_after = usage.regain_access;
        }
        if let Some(wait) = err.retry_after {
            self.hold_off(wait, Some(err.clone()));
        }
        Err(err)
    }

    fn hold_off(&self, wait: Duration, cause: Option<FacebookError>) {
        let mut guard = self.not_before.lock().unwrap_or_else(|p| p.into_inner());
        *guard = Some((Instant::now() + wait, cause));
    }

    pub(super) async fn get_one<T: DeserializeOwned>(
        &self,
        path: &str,
        fields: &str,
    ) -> FbResult<T> {
        let v = self
            .call(Method::GET, path, vec![("fields".into(), fields.into())])
            .await?;
        serde_json::from_value(v).map_err(|e| FacebookError::decode(path, &e))
    }

    /// Every item of a list, following `paging.next` until it is absent.
    pub(super) async fn get_all<T: DeserializeOwned>(
        &self,
        path: &str,
        params: Vec<(String, String)>,
    ) -> FbResult<Vec<T>> {
        #[derive(Deserialize)]
        struct Page {
            data: Vec<Value>,
            #[serde(default)]
            paging: Option<Paging>,
        }
        #[derive(Deserialize)]
        struct Paging {
            #[serde(default)]
            next: Option<String>,
        }
        let mut out = Vec::new();
        let mut next: Option<String> = None;
        for _ in 0..100_000 {
            let value = match &next {
                None => self.call(Method::GET, path, params.clone()).await?,
                Some(url) => self.call(Method::GET, url, Vec::new()).await?,
            };
            let page: Page =
                serde_json::from_value(value).map_err(|e| FacebookError::decode(path, &e))?;
            for item in page.data {
                out.push(
                    serde_json::from_value(item).map_err(|e| FacebookError::decode(path, &e))?,
                );
            }
            next = page.paging.and_then(|p| p.next);
            if next.is_none() {
                return Ok(out);
            }
        }
        Err(FacebookError::invalid(format!(
            "{path}: more than 100,000 pages"
        )))
    }

    /// Items per page asked for lists (Meta recommends modest pages).
    const PAGE_LIMIT: &'static str = "100";

    fn list_params(fields: &str, limit: Option<&str>) -> Vec<(String, String)> {
        vec![
            ("fields".into(), fields.into()),
            ("limit".into(), limit.unwrap_or(Self::PAGE_LIMIT).into()),
        ]
    }

    /// Ad sets with an explicit page size (tests use a small one to force paging).
    pub async fn ad_sets_paged(&self, parent_id: &str, limit: usize) -> FbResult<Vec<AdSet>> {
        self.get_all(
            &format!("{parent_id}/adsets"),
            Self::list_params(AD_SET_FIELDS, Some(&limit.to_string())),
        )
        .await
    }

    /// Campaigns with an explicit page size.
    pub async fn campaigns_paged(&self, account_id: &str, limit: usize) -> FbResult<Vec<Campaign>> {
        self.get_all(
            &format!("{account_id}/campaigns"),
            Self::list_params(CAMPAIGN_FIELDS, Some(&limit.to_string())),
        )
        .await
    }

    async fn upload(
        &self,
        op: UploadOp,
        audience_id: &str,
        rows: &HashedBatch,
        session_id: i64,
    ) -> FbResult<UploadSummary> {
        let mut summary = UploadSummary {
            session_id,
            rows_skipped_locally: rows.invalid_rows.len(),
            ..UploadSummary::default()
        };
        let total = rows.len();
        if total == 0 {
            return match op {
                UploadOp::Replace => Err(FacebookError::invalid(
                    "usersreplace needs at least one row; an empty segment cannot replace an audience",
                )),
                _ => Ok(summary),
            };
        }
        let per = self.policy.rows_per_request.clamp(1, MAX_ROWS_PER_REQUEST);
        let batches = total.div_ceil(per);
        for i in 0..batches {
            let slice = rows.slice(i * per, (i + 1) * per);
            let sent = slice.len() as u64;
            let session = BatchSession {
                session_id,
                batch_seq: i as i64 + 1,
                last_batch: i + 1 == batches,
                estimated_total: total as u64,
            };
            let res = self.send_one(op, audience_id, rows, slice, session).await?;
            summary.batches += 1;
            summary.rows_sent += sent;
            summary.num_received = res.num_received;
            summary.num_invalid_entries += res.num_invalid_entries;
            let room = 100usize.saturating_sub(summary.invalid_entry_samples.len());
            summary
                .invalid_entry_samples
                .extend(res.invalid_entry_samples.into_iter().take(room));
        }
        Ok(summary)
    }

    /// One request of an upload session: `slice` of `rows`, with the given session fields.
    async fn send_one(
        &self,
        op: UploadOp,
        audience_id: &str,
        rows: &HashedBatch,
        slice: super::hashing::RowSlice<'_>,
        session: BatchSession,
    ) -> FbResult<BatchResult> {
        #[derive(Deserialize)]
        struct UsersResponse {
            #[serde(default)]
            num_received: u64,
            #[serde(default)]
            num_invalid_entries: u64,
            #[serde(default)]
            invalid_entry_samples: Value,
        }
        #[derive(Serialize)]
        struct Payload<'b> {
            schema: &'b [super::hashing::MatchKey],
            data: super::hashing::RowSlice<'b>,
        }
        let edge = match op {
            UploadOp::Replace => "usersreplace",
            _ => "users",
        };
        // Serialised straight from the batch's buffers into the request body.
        #[derive(Serialize)]
        struct Fields<'b> {
            payload: Payload<'b>,
            session: SessionJson,
            #[serde(skip_serializing_if = "Option::is_none")]
            method: Option<&'static str>,
        }
        #[derive(Serialize)]
        struct SessionJson {
            session_id: i64,
            batch_seq: i64,
            last_batch_flag: bool,
            estimated_num_total: u64,
        }
        let fields = Fields {
            payload: Payload {
                schema: &rows.schema,
                data: slice,
            },
            session: SessionJson {
                session_id: session.session_id,
                batch_seq: session.batch_seq,
                last_batch_flag: session.last_batch,
                estimated_num_total: session.estimated_total,
            },
            // POST with method=DELETE: large removals in a DELETE's URL fail (reference §10).
            method: (op == UploadOp::Remove).then_some("DELETE"),
        };
        let json = serde_json::to_vec(&fields).map_err(|e| FacebookError::decode("payload", &e))?;
        // The object's members without its braces, after the credentials.
        let members = &json[1..json.len() - 1];
        let value = self
            .post_json(&format!("{audience_id}/{edge}"), members)
            .await?;
        let res: UsersResponse =
            serde_json::from_value(value).map_err(|e| FacebookError::decode(edge, &e))?;
        let samples: Vec<String> = match res.invalid_entry_samples {
            Value::Object(map) => map
                .into_iter()
                .map(|(k, v)| format!("{k}: {}", v.as_str().unwrap_or_default()))
                .collect(),
            Value::Array(list) => list.into_iter().map(|v| v.to_string()).collect(),
            _ => Vec::new(),
        };
        Ok(BatchResult {
            num_received: res.num_received,
            num_invalid_entries: res.num_invalid_entries,
            invalid_entry_samples: samples.into_iter().take(100).collect(),
        })
    }
}

const AD_ACCOUNT_FIELDS: &str = "id,account_id,name,currency,timezone_name,account_status";
const CAMPAIGN_FIELDS: &str = "id,name,status,effective_status,objective";
const AD_SET_FIELDS: &str = "id,name,campaign_id,status,effective_status,daily_budget,targeting";
const AD_FIELDS: &str = "id,name,adset_id,status,effective_status";
const AUDIENCE_FIELDS: &str = "id,name,description,subtype,approximate_count_lower_bound,approximate_count_upper_bound,operation_status,delivery_status,customer_file_source,time_content_updated";

impl FacebookClient for GraphClient {
    fn ad_accounts(&self) -> FbFuture<'_, Vec<AdAccount>> {
        Box::pin(self.get_all("me/adaccounts", Self::list_params(AD_ACCOUNT_FIELDS, None)))
    }

    fn campaigns<'a>(&'a self, account_id: &'a str) -> FbFuture<'a, Vec<Campaign>> {
        Box::pin(async move {
            self.get_all(
                &format!("{account_id}/campaigns"),
                Self::list_params(CAMPAIGN_FIELDS, None),
            )
            .await
        })
    }

    fn ad_sets<'a>(&'a self, parent_id: &'a str) -> FbFuture<'a, Vec<AdSet>> {
        Box::pin(async move {
            self.get_all(
                &format!("{parent_id}/adsets"),
                Self::list_params(AD_SET_FIELDS, None),
            )
            .await
        })
    }

    fn ads<'a>(&'a self, ad_set_id: &'a str) -> FbFuture<'a, Vec<Ad>> {
        Box::pin(async move {
            self.get_all(
                &format!("{ad_set_id}/ads"),
                Self::list_params(AD_FIELDS, None),
            )
            .await
        })
    }

    fn ad_set<'a>(&'a self, ad_set_id: &'a str) -> FbFuture<'a, AdSet> {
        Box::pin(self.get_one(ad_set_id, AD_SET_FIELDS))
    }

    fn update_targeting<'a>(
        &'a self,
        ad_set_id: &'a str,
        targeting: &'a Value,
    ) -> FbFuture<'a, ()> {
        Box::pin(async move {
            let v = self
                .call(
                    Method::POST,
                    ad_set_id,
                    vec![("targeting".into(), targeting.to_string())],
                )
                .await?;
            expect_success(&v, "ad set update")
        })
    }

    fn attach_audience<'a>(&'a self, ad_set_id: &'a str, audience_id: &'a str) -> FbFuture<'a, ()> {
        Box::pin(async move {
            let ad_set: AdSet = self.get_one(ad_set_id, "id,name,targeting").await?;
            let mut targeting = ad_set.targeting.unwrap_or_else(|| json!({}));
            let Some(spec) = targeting.as_object_mut() else {
                return Err(FacebookError::invalid(
                    "the ad set's targeting is not an object",
                ));
            };
            let list = spec.entry("custom_audiences").or_insert_with(|| json!([]));
            let Some(list) = list.as_array_mut() else {
                return Err(FacebookError::invalid(
                    "targeting.custom_audiences is not a list",
                ));
            };
            let present = list.iter().any(|e| {
                e.get("id").and_then(Value::as_str).or_else(|| e.as_str()) == Some(audience_id)
            });
            if present {
                return Ok(());
            }
            list.push(json!({ "id": audience_id }));
            self.update_targeting(ad_set_id, &targeting).await
        })
    }

    fn create_custom_audience<'a>(
        &'a self,
        account_id: &'a str,
        audience: &'a NewCustomAudience,
    ) -> FbFuture<'a, String> {
        Box::pin(async move {
            let v = self
                .call_once(
                    Method::POST,
                    &format!("{account_id}/customaudiences"),
                    vec![
                        ("name".into(), audience.name.clone()),
                        ("subtype".into(), "CUSTOM".into()),
                        ("description".into(), audience.description.clone()),
                        (
                            "customer_file_source".into(),
                            audience.customer_file_source.clone(),
                        ),
                    ],
                )
                .await?;
            v.get("id")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| FacebookError::invalid(format!("no id in the create answer: {v}")))
        })
    }

    fn custom_audience<'a>(&'a self, audience_id: &'a str) -> FbFuture<'a, CustomAudience> {
        Box::pin(self.get_one(audience_id, AUDIENCE_FIELDS))
    }

    fn delete_custom_audience<'a>(&'a self, audience_id: &'a str) -> FbFuture<'a, ()> {
        Box::pin(async move {
            let v = self.call(Method::DELETE, audience_id, Vec::new()).await?;
            expect_success(&v, "audience delete")
        })
    }

    fn upload_users<'a>(
        &'a self,
        op: UploadOp,
        audience_id: &'a str,
        rows: &'a HashedBatch,
        session_id: i64,
    ) -> FbFuture<'a, UploadSummary> {
        Box::pin(self.upload(op, audience_id, rows, session_id))
    }

    fn send_batch<'a>(
        &'a self,
        op: UploadOp,
        audience_id: &'a str,
        rows: &'a HashedBatch,
        session: BatchSession,
    ) -> FbFuture<'a, BatchResult> {
        Box::pin(async move {
            if rows.len() > MAX_ROWS_PER_REQUEST {
                return Err(FacebookError::invalid(format!(
                    "a batch of {} rows is over Facebook's limit of {MAX_ROWS_PER_REQUEST}",
                    rows.len()
                )));
            }
            if rows.is_empty() {
                return Err(FacebookError::invalid("an empty batch cannot be sent"));
            }
            self.send_one(op, audience_id, rows, rows.slice(0, rows.len()), session)
                .await
        })
    }

    fn audience_sessions<'a>(&'a self, audience_id: &'a str) -> FbFuture<'a, Vec<AudienceSession>> {
        Box::pin(async move {
            self.get_all(
                &format!("{audience_id}/sessions"),
                Self::list_params("session_id,stage,num_received,num_invalid_entries", None),
            )
            .await
        })
    }

    fn custom_audiences<'a>(&'a self, account_id: &'a str) -> FbFuture<'a, Vec<CustomAudience>> {
        Box::pin(async move {
            self.get_all(
                &format!("{account_id}/customaudiences"),
                Self::list_params("id,name,description", None),
            )
            .await
        })
    }

    fn debug_token(&self) -> FbFuture<'_, TokenInfo> {
        Box::pin(async move {
            #[derive(Deserialize)]
            struct Answer {
                data: TokenInfo,
            }
            let v = self
                .call(
                    Method::GET,
                    "debug_token",
                    vec![("input_token".into(), self.token.clone())],
                )
                .await?;
            let answer: Answer =
                serde_json::from_value(v).map_err(|e| FacebookError::decode("debug_token", &e))?;
            Ok(answer.data)
        })
    }

    fn insights<'a>(
        &'a self,
        object_id: &'a str,
        query: &'a InsightsQuery,
    ) -> FbFuture<'a, Vec<InsightRow>> {
        Box::pin(async move {
            let range =
                json!({ "since": query.since.to_string(), "until": query.until.to_string() });
            self.get_all(
                &format!("{object_id}/insights"),
                vec![
                    ("level".into(), "ad".into()),
                    ("time_increment".into(), "1".into()),
                    ("time_range".into(), range.to_string()),
                    ("fields".into(), INSIGHT_FIELDS.into()),
                    ("limit".into(), "500".into()),
                ],
            )
            .await
        })
    }
}

fn expect_success(v: &Value, what: &str) -> FbResult<()> {
    if v.get("success").and_then(Value::as_bool) == Some(true) {
        Ok(())
    } else {
        Err(FacebookError::invalid(format!(
            "{what}: Facebook did not confirm success: {v}"
        )))
    }
}

/// A fresh session id: unique per ad account, advertiser-chosen (positive int64).
pub fn new_session_id() -> i64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or_default();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    ((nanos ^ (n << 48)) & (i64::MAX as u64)) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The live Graph API is HTTPS: a build without a TLS backend refuses the scheme before
    /// connecting ("builder error"), which made live mode unusable from any build.
    #[tokio::test]
    async fn the_client_speaks_https() {
        let client = GraphClient::new("https://127.0.0.1:9/v25.0", "token", None);
        let err = client
            .http
            .get("https://127.0.0.1:9/v25.0/me")
            .send()
            .await
            .unwrap_err();
        assert!(!err.is_builder(), "no TLS backend: {err}");
        assert!(err.is_connect(), "{err}");
    }

    #[test]
    fn appsecret_proof_is_hex_hmac_sha256() {
        // HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog") (RFC 4231 style vector).
        assert_eq!(
            appsecret_proof("key", "The quick brown fox jumps over the lazy dog"),
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
    }

    #[test]
    fn session_ids_are_positive_and_distinct() {
        let a = new_session_id();
        let b = new_session_id();
        assert!(a > 0 && b > 0 && a != b);
    }
}
