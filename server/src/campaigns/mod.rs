//! Campaigns and labels: the rules from `shared` applied to what is stored. The handlers in
//! `routes::campaigns` and `routes::labels` call these functions; the SQL is in [`repo`] and
//! [`labels`].
//!
//! Nothing the browser sends is trusted: every write is validated again here with the same
//! `shared` functions the browser used, and no rule is restated in the server.

pub mod labels;
pub mod repo;
pub mod trail;

use jiff::Timestamp;
use shared::{
    campaign::{
        Campaign, CampaignAction, CampaignDraft, CampaignStatus, StatusEvent, TransitionError,
        validate_draft, validate_for_publish,
    },
    campaign_list::list_columns,
    error::FieldError,
    label::{Label, LabelInput, is_duplicate_name, label_key, validate_label},
    schedule::{Schedule, next_run_after},
};

use crate::{db::Db, error::ApiError, error::ApiResult};

pub use repo::now;

/// Who made a change the server made on its own (not on a user's request). Changes users ask
/// for record the signed-in user's e-mail address, passed in as `actor`.
pub const LOCAL_USER: &str = "local";

const STALE: &str =
    "This campaign was changed in another tab or by someone else; reload to see their changes.";

/// The user-facing action a status event comes from (not the scheduler's run events).
#[derive(Debug, Clone, Copy)]
pub enum UserAction {
    Pause,
    Resume,
    Stop,
}

pub async fn list(db: &Db, filter: &repo::Filter) -> ApiResult<Vec<Campaign>> {
    let stored = repo::list(db, filter).await?;
    // The list's "audience size" and "last sync" columns, in one query for all the campaigns.
    let ids: Vec<i64> = stored.iter().map(|s| s.campaign.id).collect();
    let mut last_runs = crate::sync::repo::last_runs(db, &ids).await?;
    let now = now();
    Ok(stored
        .into_iter()
        .map(|s| {
            let mut campaign = Campaign {
                last_run: last_runs.remove(&s.campaign.id),
                ..s.campaign
            };
            // The texts are computed here, where the time zones are at hand, so that the list
            // (the browser's first page) needs neither them nor the schedule math.
            campaign.list_columns = Some(list_columns(&campaign, now));
            campaign
        })
        .collect())
}

pub async fn get(db: &Db, id: i64) -> ApiResult<Campaign> {
    Ok(find(db, id).await?.campaign)
}

/// Saves a new draft. Steps may be missing, but what is there must be valid.
pub async fn create(
    db: &Db,
    draft: &CampaignDraft,
    actor: &str,
    now: Timestamp,
) -> ApiResult<Campaign> {
    check(db, validate_draft(draft), draft).await?;
    let id = repo::insert(db, draft, actor, now).await?;
    let created = get(db, id).await?;
    trail::campaign(db, actor, "created", None, Some(&created)).await?;
    Ok(created)
}

/// Every problem that would stop `draft` from being published at `now`.
pub async fn validate(db: &Db, draft: &CampaignDraft, now: Timestamp) -> ApiResult<()> {
    check(db, validate_for_publish(draft, now), draft).await
}

/// Replaces the steps of campaign `id`, if the editor loaded the current version and the status
/// allows editing.
pub async fn update(
    db: &Db,
    id: i64,
    draft: &CampaignDraft,
    actor: &str,
    now: Timestamp,
) -> ApiResult<Campaign> {
    let current = find(db, id).await?.campaign;
    if draft.version != Some(current.version) {
        return Err(ApiError::Conflict(STALE.into()));
    }
    if !current.status.allows(CampaignAction::Edit) {
        return Err(ApiError::Conflict(format!(
            "A campaign that is {} cannot be edited.",
            status_words(current.status)
        )));
    }
    // A published campaign keeps running on what is saved, so it must stay publishable.
    let errors = match current.published_at {
        None => validate_draft(draft),
        Some(_) => validate_for_publish(draft, now),
    };
    check(db, errors, draft).await?;
    // Runs are computed from the (possibly edited) schedule; only a campaign that may run has one.
    let next_run_at = match (current.published_at, &draft.schedule) {
        (Some(published_at), Some(schedule)) if current.status.may_run() => {
            upcoming(schedule, published_at, now)
        }
        _ => current.next_run_at,
    };
    let saved = repo::update(db, id, current.version, draft, next_run_at, actor, now).await?;
    if !saved {
        return Err(ApiError::Conflict(STALE.into()));
    }
    let updated = get(db, id).await?;
    trail::campaign(db, actor, "updated", Some(&current), Some(&updated)).await?;
    Ok(updated)
}

/// Deletes a draft. Published campaigns are stopped instead, which keeps their history.
pub async fn delete(db: &Db, id: i64, actor: &str) -> ApiResult<()> {
    let current = find(db, id).await?.campaign;
    if !current.status.allows(CampaignAction::Delete) {
        return Err(ApiError::Conflict(format!(
            "Only drafts can be deleted; a campaign that is {} can be stopped instead.",
            status_words(current.status)
        )));
    }
    if !repo::delete(db, id, current.version).await? {
        return Err(ApiError::Conflict(STALE.into()));
    }
    trail::campaign(db, actor, "deleted", Some(&current), None).await
}

/// Publishes a draft: validated in full against `now`, then scheduled from `now`.
pub async fn publish(db: &Db, id: i64, actor: &str, now: Timestamp) -> ApiResult<Campaign> {
    let current = find(db, id).await?.campaign;
    let status = current
        .status
        .apply(StatusEvent::Publish)
        .map_err(transition_conflict)?;
    let draft = current.to_draft();
    check(db, validate_for_publish(&draft, now), &draft).await?;
    let next_run_at = draft
        .schedule
        .as_ref()
        .and_then(|schedule| next_run_after(schedule, now, None))
        .map(|run| run.utc);
    let change = repo::StatusChange {
        status,
        published_at: Some(now),
        next_run_at,
    };
    save_status(db, &current, change, actor, "published", now).await
}

/// Pauses, resumes or stops a published campaign.
pub async fn act(
    db: &Db,
    id: i64,
    action: UserAction,
    actor: &str,
    now: Timestamp,
) -> ApiResult<Campaign> {
    let stored = find(db, id).await?;
    let current = &stored.campaign;
    let event = match action {
        UserAction::Pause => StatusEvent::Pause,
        UserAction::Resume => StatusEvent::Resume {
            has_run: stored.last_run_at.is_some(),
        },
        UserAction::Stop => StatusEvent::Stop,
    };
    let status = current.status.apply(event).map_err(transition_conflict)?;
    // A paused or stopped campaign has no next run. On resume, runs missed while paused are
    // skipped: the next run is the first one after now, with its original number.
    let next_run_at = match (status.may_run(), current.published_at, &current.schedule) {
        (true, Some(published_at), Some(schedule)) => upcoming(schedule, published_at, now),
        _ => None,
    };
    let change = repo::StatusChange {
        status,
        published_at: current.published_at,
        next_run_at,
    };
    let verb = match action {
        UserAction::Pause => "paused",
        UserAction::Resume => "resumed",
        UserAction::Stop => "stopped",
    };
    save_status(db, current, change, actor, verb, now).await
}

/// A new draft with `id`'s steps, named "Copy of …".
pub async fn duplicate(db: &Db, id: i64, actor: &str, now: Timestamp) -> ApiResult<Campaign> {
    let current = find(db, id).await?.campaign;
    if !current.status.allows(CampaignAction::Duplicate) {
        return Err(ApiError::Conflict(format!(
            "A campaign that is {} cannot be duplicated.",
            status_words(current.status)
        )));
    }
    create(db, &CampaignDraft::duplicate_of(&current), actor, now).await
}

pub async fn list_labels(db: &Db) -> ApiResult<Vec<Label>> {
    labels::list(db).await
}

pub async fn create_label(
    db: &Db,
    input: &LabelInput,
    actor: &str,
    now: Timestamp,
) -> ApiResult<Label> {
    let errors = validate_label(input);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    if is_duplicate_name(&labels::list(db).await?, &input.name, None) {
        return Err(duplicate_label_name());
    }
    let name = input.name.trim();
    let label = labels::insert(db, name, &label_key(name), input.color.as_deref(), now)
        .await
        .map_err(|err| match err {
            // Another request created the same name since the check above.
            sqlx::Error::Database(ref db_err) if db_err.is_unique_violation() => {
                duplicate_label_name()
            }
            other => other.into(),
        })?;
    trail::label_created(db, actor, &label).await?;
    Ok(label)
}

fn duplicate_label_name() -> ApiError {
    ApiError::Validation(vec![FieldError::new(
        "name",
        "There is already a label with this name.",
    )])
}

async fn find(db: &Db, id: i64) -> ApiResult<repo::StoredCampaign> {
    repo::find(db, id).await?.ok_or_else(|| {
        ApiError::not_found(format!(
            "There is no campaign {id}; it may have been deleted."
        ))
    })
}

/// Fails with every field problem: `errors` from `shared`, plus labels and saved segments that
/// do not exist (which `shared` cannot know). A saved segment deleted while a draft used it is
/// reported on the rule (`audience.rules[i].segment_id`) at every save and at publishing.
async fn check(db: &Db, mut errors: Vec<FieldError>, draft: &CampaignDraft) -> ApiResult<()> {
    if let Some(audience) = &draft.audience {
        for e in crate::customer::saved::reference_errors(db, audience, "audience").await? {
            if !errors.contains(&e) {
                errors.push(e);
            }
        }
    }
    let label_ids = &draft.labels;
    let existing = labels::existing_ids(db, label_ids).await?;
    for (i, id) in label_ids.iter().enumerate() {
        let path = format!("labels[{i}]");
        let reported = errors.iter().any(|e| e.path == path || e.path == "labels");
        if !reported && !existing.contains(id) {
            errors.push(FieldError::new(
                path,
                "This label does not exist (it may have been deleted); choose another.",
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

async fn save_status(
    db: &Db,
    current: &Campaign,
    change: repo::StatusChange,
    actor: &str,
    verb: &str,
    now: Timestamp,
) -> ApiResult<Campaign> {
    if !repo::set_status(db, current.id, current.version, change, actor, now).await? {
        return Err(ApiError::Conflict(STALE.into()));
    }
    let changed = get(db, current.id).await?;
    trail::campaign(db, actor, verb, Some(current), Some(&changed)).await?;
    Ok(changed)
}

/// The first run strictly after `now` of a campaign published at `published_at`.
fn upcoming(schedule: &Schedule, published_at: Timestamp, now: Timestamp) -> Option<Timestamp> {
    next_run_after(schedule, published_at, Some(now)).map(|run| run.utc)
}

fn transition_conflict(err: TransitionError) -> ApiError {
    ApiError::Conflict(err.message())
}

/// "awaiting next run", to finish a sentence the way `shared`'s transition errors do.
fn status_words(status: CampaignStatus) -> String {
    status.label().to_lowercase()
}
