//! "Connect with Facebook": Facebook Login's server-side code flow, our half.
//!
//! [`start`] issues a random `state`, bound to the admin's session, single use, valid for
//! [`STATE_LIFETIME`] (only its SHA-256 is stored), and answers the dialog's address.
//! [`finish`] runs when Facebook sends the browser back: it checks the `state`, exchanges the
//! code for a token and that for a long-lived one, reads what the person granted, seals and
//! stores the token with who connected it and when, and audits it. Whatever happens is recorded
//! as the last attempt, in words the admin can act on, for the Settings page to show.

use axum::http::{HeaderMap, header};
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use shared::settings::{
    ConnectAttempt, ConnectOutcome, ConnectedAdAccount, FacebookConnection, LOGIN_SCOPES,
    missing_scopes_message,
};

use crate::{
    audit,
    auth::{CurrentUser, random_hex, sha256_hex},
    campaigns::repo::{ts_from_db, ts_to_db},
    db::with_pool,
    error::{ApiError, ApiResult},
    facebook::{GraphClient, LIVE_DIALOG_URL, login},
    settings::{self, Effective},
    state::AppState,
};

/// How long an admin has between clicking "Connect with Facebook" and coming back.
pub const STATE_LIFETIME: SignedDuration = SignedDuration::from_mins(10);
/// Where Facebook sends the browser back (the `redirect_uri`).
pub const CALLBACK_PATH: &str = "/api/settings/facebook/callback";
/// Where the callback sends the browser: Settings, with the outcome.
pub const SETTINGS_PATH: &str = "/settings";

/// Why "Connect with Facebook" cannot start, when it cannot.
pub fn login_problem(settings: &Effective) -> Option<String> {
    settings.login_app().is_none().then(|| {
        "Connect with Facebook needs the Facebook app's id and secret: enter them below (or set \
         FACEBOOK_APP_ID and FACEBOOK_APP_SECRET on the server)."
            .to_owned()
    })
}

/// The address the browser uses for this server: `PUBLIC_URL`, else the request's own host.
pub fn public_origin(state: &AppState, headers: &HeaderMap) -> ApiResult<String> {
    if let Some(url) = &state.config.public_url {
        return Ok(url.clone());
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| !h.is_empty() && !h.contains(['/', ' ', '?', '#', '@']))
        .ok_or_else(|| ApiError::BadRequest("The request has no usable Host header.".into()))?;
    let scheme = if crate::auth::guard::is_https(state, headers) {
        "https"
    } else {
        "http"
    };
    Ok(format!("{scheme}://{host}"))
}

/// The OAuth dialog: www.facebook.com's, or the sandbox's next to the Graph API in use.
fn dialog_base(state: &AppState, settings: &Effective, origin: &str) -> String {
    let sandbox_graph = crate::sandbox::GRAPH_PREFIX;
    if let Some(graph) = &state.config.facebook.graph_url
        && let Some(host) = graph.strip_suffix(sandbox_graph)
    {
        return format!("{host}{}", crate::sandbox::DIALOG_PATH);
    }
    match settings.mode {
        shared::settings::FacebookMode::Live => LIVE_DIALOG_URL.to_owned(),
        shared::settings::FacebookMode::Sandbox => {
            format!("{origin}{}", crate::sandbox::DIALOG_PATH)
        }
    }
}

/// Issues a `state` for `me`'s session and answers the dialog's address.
pub async fn start(state: &AppState, me: &CurrentUser, origin: &str) -> ApiResult<String> {
    state.refresh_facebook().await?;
    let settings = state.facebook_settings();
    let Some((app_id, _)) = settings.login_app() else {
        return Err(ApiError::BadRequest(
            login_problem(&settings).unwrap_or_default(),
        ));
    };
    let redirect_uri = format!("{origin}{CALLBACK_PATH}");
    let raw = random_hex(32)?;
    let now = crate::campaigns::now();
    with_pool!(&state.db, pool => {
        // Old attempts nobody finished go as new ones start.
        sqlx::query("delete from facebook_login_states where expires_at < $1")
            .bind(ts_to_db(now))
            .execute(pool)
            .await?;
        sqlx::query(
            "insert into facebook_login_states (state_hash, session_id, redirect_uri, created_at, expires_at) \
             values ($1, $2, $3, $4, $5)",
        )
        .bind(sha256_hex(&raw))
        .bind(me.session_id)
        .bind(&redirect_uri)
        .bind(ts_to_db(now))
        .bind(ts_to_db(now + STATE_LIFETIME))
        .execute(pool)
        .await?;
    });
    // Ask again for what the person declined last time: Facebook does not show it otherwise.
    let rerequest = settings
        .connection
        .as_ref()
        .is_some_and(|c| !c.missing_scopes().is_empty());
    Ok(login::dialog_url(
        &dialog_base(state, &settings, origin),
        &app_id,
        &redirect_uri,
        &raw,
        &LOGIN_SCOPES,
        rerequest,
    ))
}

/// What Facebook sends back to the `redirect_uri`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallbackQuery {
    /// Issued by the dialog when the person allowed.
    pub code: Option<String>,
    /// The `state` we issued.
    pub state: Option<String>,
    /// `access_denied` when the person cancelled.
    pub error: Option<String>,
    pub error_reason: Option<String>,
    pub error_description: Option<String>,
}

/// Takes `raw`'s row: `Some(redirect_uri)` when it was issued to `session_id` and is still
/// valid. The row goes either way (single use).
async fn take_state(
    state: &AppState,
    raw: &str,
    session_id: i64,
    now: Timestamp,
) -> ApiResult<Option<String>> {
    let row: Option<(i64, String, String)> = with_pool!(&state.db, pool => {
        sqlx::query_as(
            "delete from facebook_login_states where state_hash = $1 \
             returning session_id, redirect_uri, expires_at",
        )
        .bind(sha256_hex(raw))
        .fetch_optional(pool)
        .await?
    });
    let Some((owner, redirect_uri, expires_at)) = row else {
        return Ok(None);
    };
    Ok((owner == session_id && now < ts_from_db(&expires_at)?).then_some(redirect_uri))
}

/// Finishes the flow; the outcome goes into the Settings page's address.
pub async fn finish(
    state: &AppState,
    me: &CurrentUser,
    q: CallbackQuery,
) -> ApiResult<ConnectOutcome> {
    let now = crate::campaigns::now();
    let redirect_uri = match q.state.as_deref().filter(|s| !s.is_empty()) {
        Some(raw) => take_state(state, raw, me.session_id, now).await?,
        None => None,
    };
    let Some(redirect_uri) = redirect_uri else {
        // Not an answer to this session's dialog (forged, replayed, too old): change nothing,
        // not even the last attempt, which a forged link must not be able to write.
        tracing::warn!(user = %me.email, "Facebook Login callback with an unknown state refused");
        return Ok(ConnectOutcome::Refused);
    };
    state.refresh_facebook().await?;
    let before = state.facebook_settings();
    let (outcome, message, token) = match exchange(state, &before, &q, &redirect_uri).await {
        Ok(done) => done,
        Err((outcome, message)) => (outcome, message, None),
    };
    let attempt = ConnectAttempt {
        at: now.to_string(),
        by: me.email.clone(),
        outcome,
        message,
    };
    settings::record_last_connect(&state.db, &attempt).await?;
    // Cancelled or failed: the connection in use stays as it was.
    let Some((token, mut connection)) = token else {
        return Ok(outcome);
    };
    connection.connected_by = me.email.clone();
    let mut after = before.clone();
    after.source = shared::settings::SettingsSource::Stored;
    after.access_token = Some(token);
    after.connection = Some(connection);
    let key = state
        .secret_key
        .as_ref()
        .ok_or_else(|| ApiError::Unavailable("This server cannot store secrets.".into()))?;
    let version = settings::save(&state.db, key, &after).await?;
    if let Some(connection) = &after.connection {
        audit::record(
            &state.db,
            audit::Record {
                actor: &me.email,
                action: "connected",
                entity_type: "settings",
                entity_id: "facebook".into(),
                summary: "Facebook connection (Connect with Facebook)".into(),
                before: Some(match &before.connection {
                    Some(c) => format!("connected by {} as {}", c.connected_by, c.facebook_user),
                    None if before.access_token.is_some() => "a pasted access token".into(),
                    None => "no access token".into(),
                }),
                after: Some(format!(
                    "connected as {}; granted: {}; declined: {}; ad accounts: {}",
                    connection.facebook_user,
                    connection.granted_scopes.join(", "),
                    if connection.declined_scopes.is_empty() {
                        "none".to_owned()
                    } else {
                        connection.declined_scopes.join(", ")
                    },
                    connection
                        .ad_accounts
                        .iter()
                        .map(|a| a.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            },
            now,
        )
        .await?;
    }
    state.install(after, Some(version));
    Ok(outcome)
}

type Exchanged = (ConnectOutcome, String, Option<(String, FacebookConnection)>);

/// Facebook's part: the person's answer, the two exchanges and what was granted.
async fn exchange(
    state: &AppState,
    settings: &Effective,
    q: &CallbackQuery,
    redirect_uri: &str,
) -> Result<Exchanged, (ConnectOutcome, String)> {
    let failed = |m: String| (ConnectOutcome::Failed, m);
    if let Some(error) = &q.error {
        if error == "access_denied" {
            return Err((
                ConnectOutcome::Cancelled,
                "You cancelled on Facebook's dialog, so nothing was changed. Click \"Connect with Facebook\" and choose Allow to connect."
                    .into(),
            ));
        }
        return Err(failed(format!(
            "Facebook did not connect: {} ({error}). Click \"Connect with Facebook\" to try again.",
            q.error_description.as_deref().unwrap_or("no reason given")
        )));
    }
    let Some(code) = q.code.as_deref().filter(|c| !c.is_empty()) else {
        return Err(failed(
            "Facebook sent the browser back without a code. Click \"Connect with Facebook\" to try again."
                .into(),
        ));
    };
    let Some((app_id, secret)) = settings.login_app() else {
        return Err(failed(login_problem(settings).unwrap_or_default()));
    };
    let fb = settings.apply_to(&state.config.facebook);
    let addr = fb
        .server_addr
        .unwrap_or_else(|| std::net::SocketAddr::from(([127, 0, 0, 1], 0)));
    let graph = fb.graph_base(addr);
    let explain = |e: crate::facebook::FacebookError| failed(login::explain(&e, redirect_uri));
    let short = login::exchange_code(&graph, &app_id, &secret, redirect_uri, code)
        .await
        .map_err(explain)?;
    let long = login::exchange_long_lived(&graph, &app_id, &secret, &short.access_token)
        .await
        .map_err(explain)?;
    let client = GraphClient::new(
        graph.clone(),
        long.access_token.clone(),
        settings.app_secret.as_deref(),
    )
    .with_policy(fb.retry.clone());
    let granted = login::granted(&client).await.map_err(|e| {
        failed(format!(
            "Facebook signed you in, but reading what you granted failed: {} {}",
            e.message,
            e.advice()
        ))
    })?;
    let now = crate::campaigns::now();
    let connection = FacebookConnection {
        // Filled in by `finish`, which knows the admin.
        connected_by: String::new(),
        connected_at: now.to_string(),
        facebook_user: granted.user.clone(),
        granted_scopes: granted.granted.clone(),
        declined_scopes: granted.declined.clone(),
        ad_accounts: granted
            .ad_accounts
            .iter()
            .map(|a| ConnectedAdAccount {
                id: a.id.clone(),
                name: a.name.clone(),
            })
            .collect(),
        expires_at: long
            .expires_in
            .filter(|s| *s > 0)
            .map(|s| (now + SignedDuration::from_secs(s)).to_string()),
    };
    let mut problems: Vec<String> = Vec::new();
    if let Some(m) = missing_scopes_message(&connection.missing_scopes()) {
        problems.push(m);
    }
    if connection.ad_accounts.is_empty() {
        problems.push(
            "Facebook gave access to no ad account: reconnect with Facebook and tick the ad accounts to use.".into(),
        );
    }
    let (outcome, message) = if problems.is_empty() {
        (
            ConnectOutcome::Connected,
            format!(
                "Connected to Facebook as {}: {} ad account{}, permissions {}.",
                connection.facebook_user,
                connection.ad_accounts.len(),
                if connection.ad_accounts.len() == 1 {
                    ""
                } else {
                    "s"
                },
                connection.granted_scopes.join(", ")
            ),
        )
    } else {
        (
            ConnectOutcome::Partial,
            format!(
                "Connected as {}, but: {}",
                connection.facebook_user,
                problems.join(" ")
            ),
        )
    };
    Ok((outcome, message, Some((long.access_token, connection))))
}

/// Settings → Facebook, with the outcome for the page to announce.
pub fn settings_location(outcome: ConnectOutcome) -> String {
    format!("{SETTINGS_PATH}?facebook={}", outcome.as_str())
}
