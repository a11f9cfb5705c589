//! Signing in and out: `POST /api/login`, `POST /api/logout`, `GET /api/me`, and the first-run
//! setup (`GET`/`POST /api/setup`), which exists only while the instance has no users.

use axum::{
    extract::{FromRequest, Request, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use shared::{
    account::{
        FirstAdmin, LoginRequest, Me, NewUser, Role, SetupStatus, User, normalize_email,
        validate_login,
    },
    error::ErrorBody,
};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    audit,
    auth::{
        CurrentUser,
        guard::{client_address, is_https, peer},
        password, session, users,
    },
    campaigns::now,
    error::{ApiError, ApiResult, AppJson},
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(get_me))
        .routes(routes!(get_setup, complete_setup))
}

const WRONG: &str = "The e-mail address or the password is wrong.";

/// Signs in: sets the session cookie (HttpOnly, SameSite=Lax) and returns the user. Failed
/// attempts are throttled per account and per client address.
#[utoipa::path(
    post,
    path = "/login",
    tag = "accounts",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in; the `fba_session` cookie is set", body = User),
        (status = 401, description = "Wrong e-mail address or password, or the user is disabled", body = ErrorBody),
        (status = 422, description = "A field is empty or too long", body = ErrorBody),
        (status = 429, description = "Too many failed attempts; see Retry-After", body = ErrorBody),
    )
)]
pub async fn login(State(state): State<AppState>, req: Request) -> ApiResult<Response> {
    let address = client_address(&state, req.headers(), peer(req.extensions()));
    let https = is_https(&state, req.headers());
    let AppJson(form) = AppJson::<LoginRequest>::from_request(req, &state).await?;
    let errors = validate_login(&form);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let account = normalize_email(&form.email);
    let throttle = &state.login_throttle;
    if let Err(wait) = throttle.check(&account, &address) {
        return Err(ApiError::RateLimited {
            message: format!(
                "Too many failed sign-in attempts; try again in {} minutes.",
                wait.div_ceil(60)
            ),
            retry_after_secs: wait,
        });
    }
    let found = users::credentials(&state.db, &account).await?;
    let (id, hash, disabled) = match found {
        Some((id, hash, disabled)) => (Some(id), Some(hash), disabled),
        None => (None, None, false),
    };
    let ok = password::verify(form.password, hash).await;
    let Some(id) = id.filter(|_| ok) else {
        throttle.failed(&account, &address);
        tracing::info!(%address, "failed sign-in");
        return Err(ApiError::Unauthorized(WRONG.into()));
    };
    if disabled {
        throttle.failed(&account, &address);
        return Err(ApiError::Unauthorized(
            "This account is disabled; ask an admin to enable it.".into(),
        ));
    }
    throttle.succeeded(&account);
    signed_in(&state, id, https).await
}

/// Starts a session for `user_id` and answers with the user and the cookie.
async fn signed_in(state: &AppState, user_id: i64, https: bool) -> ApiResult<Response> {
    let token = session::start(&state.db, user_id, now()).await?;
    let user = users::get(&state.db, user_id).await?;
    let mut res = AppJson(user).into_response();
    res.headers_mut()
        .insert(header::SET_COOKIE, session::cookie(&token, https));
    Ok(res)
}

/// Signs out: ends the session and clears the cookie. Answers 204 even without a session.
#[utoipa::path(
    post,
    path = "/logout",
    tag = "accounts",
    responses((status = 204, description = "Signed out; the cookie is cleared"))
)]
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    if let Some(token) = session::token_from(&headers) {
        session::end(&state.db, &token).await?;
    }
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.headers_mut().insert(
        header::SET_COOKIE,
        session::clear_cookie(is_https(&state, &headers)),
    );
    Ok(res)
}

/// The signed-in user, with the role the app shows and hides actions by, and whether the
/// Facebook connection is the sandbox (every role sees that in the top bar).
#[utoipa::path(
    get,
    path = "/me",
    tag = "accounts",
    responses(
        (status = 200, description = "The signed-in user and the Facebook connection's mode", body = Me),
        (status = 401, description = "Not signed in", body = ErrorBody),
    )
)]
pub async fn get_me(State(state): State<AppState>, me: CurrentUser) -> ApiResult<AppJson<Me>> {
    // Another process may have switched the mode: one primary-key read when nothing changed.
    state.refresh_facebook().await?;
    Ok(AppJson(Me {
        user: users::get(&state.db, me.id).await?,
        facebook_mode: state.facebook_settings().mode,
    }))
}

/// Whether first-run setup is open: only while the instance has no users.
#[utoipa::path(
    get,
    path = "/setup",
    tag = "accounts",
    responses((status = 200, description = "Whether the first admin still has to be created", body = SetupStatus))
)]
pub async fn get_setup(State(state): State<AppState>) -> ApiResult<AppJson<SetupStatus>> {
    Ok(AppJson(SetupStatus {
        needed: users::count(&state.db).await? == 0,
    }))
}

/// Creates the first admin and signs them in. Once any user exists, setup is gone (404).
#[utoipa::path(
    post,
    path = "/setup",
    tag = "accounts",
    request_body = FirstAdmin,
    responses(
        (status = 200, description = "The first admin, signed in", body = User),
        (status = 404, description = "This instance already has users", body = ErrorBody),
        (status = 422, description = "The e-mail address or password is not acceptable", body = ErrorBody),
    )
)]
pub async fn complete_setup(State(state): State<AppState>, req: Request) -> ApiResult<Response> {
    // Gone once anyone exists, whatever the body says.
    if users::count(&state.db).await? > 0 {
        return Err(setup_done());
    }
    let https = is_https(&state, req.headers());
    let AppJson(form) = AppJson::<FirstAdmin>::from_request(req, &state).await?;
    let new = NewUser {
        email: form.email,
        password: form.password,
        role: Role::Admin,
    };
    let created = users::create(&state.db, &new, "first-run setup", true, now()).await?;
    // Another request may have completed setup since the check above.
    let Some(user) = created else {
        return Err(setup_done());
    };
    audit::record(
        &state.db,
        audit::Record {
            actor: &user.email,
            action: "created",
            entity_type: "user",
            entity_id: user.id.to_string(),
            summary: format!("first admin {} (first-run setup)", user.email),
            before: None,
            after: Some(format!("role: {}", user.role.label())),
        },
        now(),
    )
    .await?;
    signed_in(&state, user.id, https).await
}

fn setup_done() -> ApiError {
    ApiError::not_found("Setup is done: this instance already has users. Sign in instead.")
}
