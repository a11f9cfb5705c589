//! `/api/users` (admins): list, create, change role, disable, reset a password.

use axum::{extract::State, http::StatusCode};
use shared::{
    account::{NewUser, User, UserUpdate},
    error::ErrorBody,
};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    audit,
    auth::{CurrentUser, users},
    campaigns::now,
    error::{ApiResult, AppJson, IdPath},
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(update_user))
}

/// Every user, by e-mail address.
#[utoipa::path(
    get,
    path = "/users",
    tag = "accounts",
    responses((status = 200, description = "Every user", body = Vec<User>))
)]
pub async fn list_users(State(state): State<AppState>) -> ApiResult<AppJson<Vec<User>>> {
    Ok(AppJson(users::list(&state.db).await?))
}

/// Creates a user with an initial password the admin passes on.
#[utoipa::path(
    post,
    path = "/users",
    tag = "accounts",
    request_body = NewUser,
    responses(
        (status = 201, description = "The new user", body = User),
        (status = 422, description = "Bad e-mail address or password, or the address is taken", body = ErrorBody),
    )
)]
pub async fn create_user(
    State(state): State<AppState>,
    me: CurrentUser,
    AppJson(new): AppJson<NewUser>,
) -> ApiResult<(StatusCode, AppJson<User>)> {
    let user = users::create(&state.db, &new, &me.email, false, now())
        .await?
        .ok_or_else(|| anyhow::anyhow!("an unconditional insert stored nothing"))?;
    audit::record(
        &state.db,
        audit::Record {
            actor: &me.email,
            action: "created",
            entity_type: "user",
            entity_id: user.id.to_string(),
            summary: format!("user {}", user.email),
            before: None,
            after: Some(format!("role: {}", user.role.label())),
        },
        now(),
    )
    .await?;
    Ok((StatusCode::CREATED, AppJson(user)))
}

/// Changes a user's role, disables or enables them, or sets a new password. Disabling or a new
/// password signs the user out everywhere. The last active admin cannot lose that role.
#[utoipa::path(
    patch,
    path = "/users/{id}",
    tag = "accounts",
    params(("id" = i64, Path, description = "User id")),
    request_body = UserUpdate,
    responses(
        (status = 200, description = "The changed user", body = User),
        (status = 404, description = "No such user", body = ErrorBody),
        (status = 409, description = "It would leave no active admin", body = ErrorBody),
        (status = 422, description = "The new password is not acceptable", body = ErrorBody),
    )
)]
pub async fn update_user(
    State(state): State<AppState>,
    me: CurrentUser,
    IdPath(id): IdPath,
    AppJson(change): AppJson<UserUpdate>,
) -> ApiResult<AppJson<User>> {
    let (before, after) = users::update(&state.db, id, &change, now()).await?;
    let describe = |u: &User| {
        format!(
            "role: {}; {}",
            u.role.label(),
            if u.disabled { "disabled" } else { "active" }
        )
    };
    let mut what = Vec::new();
    if before.role != after.role {
        what.push("role changed");
    }
    if before.disabled != after.disabled {
        what.push(if after.disabled {
            "disabled"
        } else {
            "enabled"
        });
    }
    if change.password.is_some() {
        // Recorded, never shown: the log says that the password changed, not what to.
        what.push("password reset");
    }
    audit::record(
        &state.db,
        audit::Record {
            actor: &me.email,
            action: "updated",
            entity_type: "user",
            entity_id: id.to_string(),
            summary: format!("user {} ({})", after.email, what.join(", ")),
            before: Some(describe(&before)),
            after: Some(describe(&after)),
        },
        now(),
    )
    .await?;
    Ok(AppJson(after))
}
