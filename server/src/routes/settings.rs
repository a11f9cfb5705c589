//! `/api/settings/facebook` (admins): the Facebook connection — sandbox or live, access token,
//! app id and secret — and "Connect with Facebook" (Facebook Login, see [`crate::connect`]).
//! Secrets go in and never come out: answers carry only "set, ends with …".

use axum::{
    extract::{Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use shared::{
    error::ErrorBody,
    settings::{
        ConnectStart, ConnectedAdAccount, ConnectionTest, FacebookMode, FacebookSettings,
        FacebookSettingsInput, SecretInfo, SettingsSource, TokenHealth, validate_facebook_settings,
    },
};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    audit,
    auth::CurrentUser,
    campaigns::now,
    connect,
    error::{ApiError, ApiResult, AppJson},
    facebook::FacebookError,
    settings::{self, Effective},
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_facebook_settings, put_facebook_settings))
        .routes(routes!(test_facebook_connection))
        .routes(routes!(connect_facebook))
        .routes(routes!(facebook_callback))
}

/// "Connect with Facebook": issues a `state` bound to this session (single use, 10 minutes) and
/// answers Facebook's OAuth dialog address for the browser to open.
#[utoipa::path(
    post,
    path = "/settings/facebook/connect",
    tag = "settings",
    responses(
        (status = 200, description = "The OAuth dialog's address (www.facebook.com, or the sandbox's)", body = ConnectStart),
        (status = 400, description = "No Facebook app id or secret is configured; the message says where to set them", body = ErrorBody),
    )
)]
pub async fn connect_facebook(
    State(state): State<AppState>,
    me: CurrentUser,
    headers: HeaderMap,
) -> ApiResult<AppJson<ConnectStart>> {
    let origin = connect::public_origin(&state, &headers)?;
    let url = connect::start(&state, &me, &origin).await?;
    Ok(AppJson(ConnectStart { url }))
}

/// Facebook's OAuth dialog sends the browser back here (a top-level navigation: the CSRF check is
/// the `state`, bound to the session that started). Stores the token on success and always
/// redirects to Settings with the outcome (`/settings?facebook=connected|partial|cancelled|failed|refused`).
#[utoipa::path(
    get,
    path = "/settings/facebook/callback",
    tag = "settings",
    params(connect::CallbackQuery),
    responses(
        (status = 303, description = "To Settings → Facebook; `GET /settings/facebook` has the details in `last_connect`"),
    )
)]
pub async fn facebook_callback(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(query): Query<connect::CallbackQuery>,
) -> ApiResult<Response> {
    let outcome = connect::finish(&state, &me, query).await?;
    Ok((
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, connect::settings_location(outcome)),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
    )
        .into_response())
}

/// The connection in use, its credentials' metadata and the ad accounts it reaches.
#[utoipa::path(
    get,
    path = "/settings/facebook",
    tag = "settings",
    responses((status = 200, description = "The Facebook connection; never the secrets", body = FacebookSettings))
)]
pub async fn get_facebook_settings(
    State(state): State<AppState>,
) -> ApiResult<AppJson<FacebookSettings>> {
    state.refresh_facebook().await?;
    Ok(AppJson(describe(&state).await))
}

/// Saves the connection; every process on the database switches to it.
#[utoipa::path(
    put,
    path = "/settings/facebook",
    tag = "settings",
    request_body = FacebookSettingsInput,
    responses(
        (status = 200, description = "Saved; the connection now in use", body = FacebookSettings),
        (status = 422, description = "A field is invalid; `fields` names it", body = ErrorBody),
    )
)]
pub async fn put_facebook_settings(
    State(state): State<AppState>,
    me: CurrentUser,
    AppJson(input): AppJson<FacebookSettingsInput>,
) -> ApiResult<AppJson<FacebookSettings>> {
    let errors = validate_facebook_settings(&input);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    state.refresh_facebook().await?;
    let before = state.facebook_settings();
    // `None` keeps what is in use; an empty string clears it.
    let keep = |new: &Option<String>, old: &Option<String>| match new {
        None => old.clone(),
        Some(s) if s.is_empty() => None,
        Some(s) => Some(s.clone()),
    };
    let access_token = keep(&input.access_token, &before.access_token);
    let after = Effective {
        mode: input.mode,
        // A pasted token replaces the one "Connect with Facebook" stored, and who connected it.
        connection: before
            .connection
            .clone()
            .filter(|_| access_token == before.access_token),
        access_token,
        app_secret: keep(&input.app_secret, &before.app_secret),
        source: SettingsSource::Stored,
        app_id: keep(&input.app_id, &before.app_id),
    };
    if after.mode == FacebookMode::Live && after.access_token.is_none() {
        return Err(ApiError::Validation(vec![shared::error::FieldError::new(
            "access_token",
            "An access token is required in live mode.",
        )]));
    }
    let key = state
        .secret_key
        .as_ref()
        .ok_or_else(|| ApiError::Unavailable("This server cannot store secrets.".into()))?;
    let version = settings::save(&state.db, key, &after).await?;
    audit::record(
        &state.db,
        audit::Record {
            actor: &me.email,
            action: "updated",
            entity_type: "settings",
            entity_id: "facebook".into(),
            summary: "Facebook connection".into(),
            before: Some(summary(&before, &before)),
            after: Some(summary(&before, &after)),
        },
        now(),
    )
    .await?;
    state.install(after, Some(version));
    Ok(AppJson(describe(&state).await))
}

/// Calls Facebook with the connection in use and says, in plain words, whether it works.
#[utoipa::path(
    post,
    path = "/settings/facebook/test",
    tag = "settings",
    responses((status = 200, description = "Whether Facebook answered, in words", body = ConnectionTest))
)]
pub async fn test_facebook_connection(
    State(state): State<AppState>,
) -> ApiResult<AppJson<ConnectionTest>> {
    state.refresh_facebook().await?;
    let mode = state.facebook_settings().mode;
    let where_ = match mode {
        FacebookMode::Sandbox => "the sandbox",
        FacebookMode::Live => "Facebook",
    };
    Ok(AppJson(match state.facebook().ad_accounts().await {
        Ok(accounts) => ConnectionTest {
            ok: true,
            message: format!(
                "Connected to {where_}: the token reaches {} ad account{}.",
                accounts.len(),
                if accounts.len() == 1 { "" } else { "s" }
            ),
        },
        Err(err) => ConnectionTest {
            ok: false,
            message: format!("{where_} refused: {}", plain(&err)),
        },
    }))
}

async fn describe(state: &AppState) -> FacebookSettings {
    let settings = state.facebook_settings();
    let (ad_accounts, problem) = match state.facebook().ad_accounts().await {
        Ok(accounts) => (
            accounts
                .into_iter()
                .map(|a| ConnectedAdAccount {
                    id: a.id,
                    name: a.name,
                })
                .collect(),
            None,
        ),
        Err(err) => (Vec::new(), Some(plain(&err))),
    };
    let token = match state.facebook().debug_token().await {
        Ok(info) => Some(TokenHealth::assess(
            info.is_valid,
            info.expires_at,
            &info.scopes,
            info.error.map(|e| e.message),
            now(),
        )),
        // Facebook refused the token itself: that is the token's health.
        Err(err) if err.kind == crate::facebook::ErrorKind::NeedsReauth => Some(
            TokenHealth::assess(false, None, &[], Some(plain(&err)), now()),
        ),
        Err(err) => {
            tracing::warn!(error = %err, "debug_token failed; token health unknown");
            None
        }
    };
    FacebookSettings {
        mode: settings.mode,
        source: settings.source,
        access_token: SecretInfo::of(settings.access_token.as_deref()),
        app_secret: SecretInfo::of(settings.app_secret.as_deref()),
        ad_accounts,
        problem,
        token,
        app_id: settings.login_app().map(|(id, _)| id),
        login_problem: connect::login_problem(&settings),
        reconnect: settings
            .connection
            .as_ref()
            .and_then(|c| c.reconnect_reason(now())),
        connection: settings.connection.clone(),
        last_connect: settings::last_connect(&state.db)
            .await
            .unwrap_or_else(|err| {
                tracing::warn!(error = %err, "the last Connect with Facebook attempt is unreadable");
                None
            }),
    }
}

fn plain(err: &FacebookError) -> String {
    format!("{} {}", err.message, err.advice())
}

/// For the audit log: the mode and whether each secret was kept, changed or removed — never the
/// secrets themselves.
fn summary(before: &Effective, now: &Effective) -> String {
    let change = |old: &Option<String>, new: &Option<String>| match (old, new) {
        (_, None) => "not set",
        (None, Some(_)) => "set",
        (Some(a), Some(b)) if a == b => "unchanged",
        (Some(_), Some(_)) => "replaced",
    };
    format!(
        "mode: {}, access token: {}, app secret: {}, app id: {}",
        now.mode.as_str(),
        change(&before.access_token, &now.access_token),
        change(&before.app_secret, &now.app_secret),
        now.app_id.as_deref().unwrap_or("not set")
    )
}
