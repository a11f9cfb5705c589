//! User rows, and the rules around them that need the database (unique e-mail, the last admin).

use jiff::Timestamp;
use shared::{
    account::{
        NewUser, Role, User, UserUpdate, normalize_email, validate_new_user, validate_user_update,
    },
    error::FieldError,
};

use super::{password, session};
use crate::{
    campaigns::repo::ts_to_db,
    db::{Db, with_pool},
    error::{ApiError, ApiResult},
};

const COLUMNS: &str = "id, email, role, created_at, disabled_at, last_login_at";

#[derive(sqlx::FromRow)]
struct UserRow {
    id: i64,
    email: String,
    role: String,
    created_at: String,
    disabled_at: Option<String>,
    last_login_at: Option<String>,
}

impl From<UserRow> for User {
    fn from(row: UserRow) -> Self {
        User {
            id: row.id,
            email: row.email,
            // Only the server writes roles; an unknown one grants the least.
            role: Role::parse(&row.role).unwrap_or(Role::Viewer),
            disabled: row.disabled_at.is_some(),
            created_at: row.created_at,
            last_login_at: row.last_login_at,
        }
    }
}

pub async fn count(db: &Db) -> ApiResult<i64> {
    Ok(with_pool!(db, pool => {
        sqlx::query_scalar("select count(*) from users").fetch_one(pool).await?
    }))
}

pub async fn list(db: &Db) -> ApiResult<Vec<User>> {
    let sql = format!("select {COLUMNS} from users order by email");
    let rows: Vec<UserRow> = with_pool!(db, pool => sqlx::query_as(&sql).fetch_all(pool).await?);
    Ok(rows.into_iter().map(User::from).collect())
}

pub async fn get(db: &Db, id: i64) -> ApiResult<User> {
    let sql = format!("select {COLUMNS} from users where id = $1");
    let row: Option<UserRow> =
        with_pool!(db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?);
    row.map(User::from)
        .ok_or_else(|| ApiError::not_found(format!("There is no user {id}.")))
}

/// What sign-in needs: the id, the password hash, and whether the user is disabled.
pub async fn credentials(db: &Db, email: &str) -> ApiResult<Option<(i64, String, bool)>> {
    let row: Option<(i64, String, Option<String>)> = with_pool!(db, pool => {
        sqlx::query_as("select id, password_hash, disabled_at from users where email = $1")
            .bind(normalize_email(email))
            .fetch_optional(pool)
            .await?
    });
    Ok(row.map(|(id, hash, disabled)| (id, hash, disabled.is_some())))
}

/// Validates, hashes and stores a new user. With `only_if_none`, nothing is stored when any user
/// exists (first-run setup and the environment's bootstrap admin): `Ok(None)`.
pub async fn create(
    db: &Db,
    new: &NewUser,
    created_by: &str,
    only_if_none: bool,
    now: Timestamp,
) -> ApiResult<Option<User>> {
    let errors = validate_new_user(new);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let hash = password::hash(new.password.clone()).await?;
    let email = normalize_email(&new.email);
    let now = ts_to_db(now);
    let guard = if only_if_none {
        "where not exists (select 1 from users)"
    } else {
        ""
    };
    let sql = format!(
        "insert into users (email, password_hash, role, created_at, created_by) \
         select $1, $2, $3, $4, $5 {guard} returning id"
    );
    let inserted: Result<Option<i64>, sqlx::Error> = match db {
        // One statement is atomic: SQLite runs one writer at a time.
        Db::Sqlite(pool) => {
            sqlx::query_scalar(&sql)
                .bind(&email)
                .bind(&hash)
                .bind(new.role.as_str())
                .bind(&now)
                .bind(created_by)
                .fetch_optional(pool)
                .await
        }
        // Under PostgreSQL's read committed, two processes (or two first-run setups) would both
        // see no users and both insert: the table lock, which conflicts with itself and with
        // inserts, makes the second wait and then see the first one's user.
        Db::Postgres(pool) => {
            async {
                let mut tx = pool.begin().await?;
                if only_if_none {
                    sqlx::query("lock table users in share row exclusive mode")
                        .execute(&mut *tx)
                        .await?;
                }
                let id = sqlx::query_scalar(&sql)
                    .bind(&email)
                    .bind(&hash)
                    .bind(new.role.as_str())
                    .bind(&now)
                    .bind(created_by)
                    .fetch_optional(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(id)
            }
            .await
        }
    };
    let id = match inserted {
        Ok(id) => id,
        // Another process's insert of the same address won: there is a user now, so nothing is
        // stored, as `only_if_none` says.
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() && only_if_none => None,
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            return Err(ApiError::Validation(vec![FieldError::new(
                "email",
                "There is already a user with this e-mail address.",
            )]));
        }
        Err(other) => return Err(other.into()),
    };
    match id {
        Some(id) => Ok(Some(get(db, id).await?)),
        None => Ok(None),
    }
}

/// Applies an admin's change to user `id`. Returns the user before and after. The last active
/// admin cannot be demoted or disabled: nobody could manage the instance any more.
pub async fn update(
    db: &Db,
    id: i64,
    change: &UserUpdate,
    now: Timestamp,
) -> ApiResult<(User, User)> {
    let errors = validate_user_update(change);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let before = get(db, id).await?;
    let loses_admin = before.role == Role::Admin
        && !before.disabled
        && (change.role.is_some_and(|r| r != Role::Admin) || change.disabled == Some(true));
    if loses_admin && active_admins(db).await? <= 1 {
        return Err(ApiError::Conflict(
            "This is the last active admin; make another user an admin first.".into(),
        ));
    }
    if let Some(role) = change.role {
        with_pool!(db, pool => {
            sqlx::query("update users set role = $1 where id = $2")
                .bind(role.as_str())
                .bind(id)
                .execute(pool)
                .await?;
        });
    }
    if let Some(disabled) = change.disabled {
        let at = disabled.then(|| ts_to_db(now));
        with_pool!(db, pool => {
            sqlx::query("update users set disabled_at = $1 where id = $2")
                .bind(&at)
                .bind(id)
                .execute(pool)
                .await?;
        });
    }
    if let Some(new_password) = &change.password {
        let hash = password::hash(new_password.clone()).await?;
        with_pool!(db, pool => {
            sqlx::query("update users set password_hash = $1 where id = $2")
                .bind(&hash)
                .bind(id)
                .execute(pool)
                .await?;
        });
    }
    // A disabled user, or one with a new password, is signed out everywhere at once.
    if change.disabled == Some(true) || change.password.is_some() {
        session::end_all_for(db, id).await?;
    }
    let after = get(db, id).await?;
    Ok((before, after))
}

async fn active_admins(db: &Db) -> ApiResult<i64> {
    Ok(with_pool!(db, pool => {
        sqlx::query_scalar("select count(*) from users where role = 'admin' and disabled_at is null")
            .fetch_one(pool)
            .await?
    }))
}
