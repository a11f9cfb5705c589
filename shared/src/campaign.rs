//! A Facebook Audiences campaign: When ([`Schedule`]), Who ([`Segment`]), What
//! ([`FacebookTarget`]) and labels, with its status life cycle.
//!
//! The browser sends a [`CampaignDraft`] to create or update; the server returns a [`Campaign`].
//! A draft may leave steps out, but whatever it holds must be within bounds
//! ([`validate_draft`]); publishing needs every step ([`validate_for_publish`]).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::FieldError;
#[cfg(feature = "bundled-tz")]
use crate::schedule::BundledTimeZones;
use crate::schedule::{Schedule, TimeZones, validate_schedule_in, validate_schedule_structure_in};
use crate::segment::{MAX_NAME_LEN, Segment, validate_segment};

/// Longest campaign name, in characters, after trimming.
pub const MAX_CAMPAIGN_NAME: usize = 200;
/// Most labels on one campaign.
pub const MAX_CAMPAIGN_LABELS: usize = 20;

/// The channel a campaign delivers through. Only Facebook Audiences for now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    #[default]
    FacebookAudiences,
}

/// Where the campaign's audience goes: a Facebook ad set (and its campaign and ad account).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FacebookTarget {
    /// `act_` followed by digits, e.g. `act_1234567890`; empty in a draft that has not chosen
    /// one yet.
    #[cfg_attr(feature = "openapi", schema(pattern = "^(act_[0-9]{1,30})?$"))]
    pub ad_account_id: String,
    /// Digits (empty: not chosen yet).
    #[cfg_attr(feature = "openapi", schema(pattern = "^([0-9]{1,30})?$"))]
    pub campaign_id: String,
    /// Digits (empty: not chosen yet).
    #[cfg_attr(feature = "openapi", schema(pattern = "^([0-9]{1,30})?$"))]
    pub ad_set_id: String,
}

/// An optional conversion goal: the event that counts as a conversion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConversionGoal {
    /// Not blank; at most [`crate::segment::MAX_NAME_LEN`] characters.
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 120,
            pattern = r"[^\t-\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]"
        )
    )]
    pub event: String,
}

/// What the browser sends to create (`POST /api/campaigns`) or update (`PUT /api/campaigns/{id}`)
/// a campaign. Every step is optional while it is a draft.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CampaignDraft {
    /// 1 to [`MAX_CAMPAIGN_NAME`] characters after trimming.
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = r"^[\t-\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\t-\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]([\s\S]{0,198}[^\t-\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000])?[\t-\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$"
        )
    )]
    pub name: String,
    #[serde(default)]
    pub channel: Channel,
    #[serde(default)]
    pub schedule: Option<Schedule>,
    #[serde(default)]
    pub audience: Option<Segment>,
    #[serde(default)]
    pub target: Option<FacebookTarget>,
    /// Label ids, distinct, at most [`MAX_CAMPAIGN_LABELS`].
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = std::collections::BTreeSet<i64>, max_items = 20))]
    pub labels: Vec<i64>,
    #[serde(default)]
    pub conversion_goal: Option<ConversionGoal>,
    /// The share of the segment held out of the Facebook audience, in percent (whole, 0–50;
    /// absent or 0: none). A number here, checked by [`validate_draft`], so that 12.5 or 60
    /// get an error on this field rather than a malformed body; see [`crate::holdout`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holdout_percent: Option<f64>,
    /// On update: the `version` the editor loaded; the server answers 409 if it changed since.
    /// Ignored on create.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
}

/// A campaign as the server returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Campaign {
    pub id: i64,
    pub name: String,
    pub channel: Channel,
    pub status: CampaignStatus,
    pub schedule: Option<Schedule>,
    pub audience: Option<Segment>,
    pub target: Option<FacebookTarget>,
    pub labels: Vec<i64>,
    pub conversion_goal: Option<ConversionGoal>,
    /// The holdout in percent (1–50), `None` for none ([`crate::holdout`]).
    #[serde(default)]
    pub holdout_percent: Option<u8>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub created_by: String,
    pub updated_by: String,
    /// When the campaign was published; the schedule's runs are computed from it.
    #[serde(default)]
    pub published_at: Option<Timestamp>,
    /// The next scheduled run, when there is one.
    #[serde(default)]
    pub next_run_at: Option<Timestamp>,
    /// Incremented by every change; send it back in [`CampaignDraft::version`].
    pub version: i64,
    /// The latest audience sync run, in the campaign list only (none elsewhere, or before the
    /// first run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run: Option<crate::sync::LastRun>,
    /// The list's schedule, next run and last sync texts, in the campaign list only
    /// ([`crate::campaign_list::list_columns`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_columns: Option<crate::campaign_list::ListColumns>,
}

impl Campaign {
    /// The editable part, e.g. to fill the editor or to duplicate ([`CampaignDraft::duplicate_of`]).
    pub fn to_draft(&self) -> CampaignDraft {
        CampaignDraft {
            name: self.name.clone(),
            channel: self.channel,
            schedule: self.schedule.clone(),
            audience: self.audience.clone(),
            target: self.target.clone(),
            labels: self.labels.clone(),
            conversion_goal: self.conversion_goal.clone(),
            holdout_percent: self.holdout_percent.map(f64::from),
            version: Some(self.version),
        }
    }

    /// The actions the user may take now.
    pub fn allowed_actions(&self) -> Vec<CampaignAction> {
        self.status.allowed_actions()
    }
}

impl CampaignDraft {
    /// A new draft copying `campaign`'s steps, named "Copy of …" (cut to fit the name limit).
    pub fn duplicate_of(campaign: &Campaign) -> CampaignDraft {
        let name: String = format!("Copy of {}", campaign.name.trim())
            .chars()
            .take(MAX_CAMPAIGN_NAME)
            .collect();
        CampaignDraft {
            name,
            version: None,
            ..campaign.to_draft()
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Status
// ---------------------------------------------------------------------------------------------

/// Where a campaign is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CampaignStatus {
    /// Being written; never runs.
    Draft,
    /// Published; the first run has not happened yet.
    Scheduled,
    /// A run is computing the segment or syncing it to Facebook.
    Running,
    /// Between runs of a multi-run schedule.
    AwaitingNextRun,
    /// Paused by a user: no runs until resumed.
    Paused,
    /// Every run has happened.
    Completed,
    /// Stopped by a user: final.
    Stopped,
    /// The last run failed (e.g. the Facebook token expired); runs are held until a user resumes.
    NeedsAttention,
}

/// What a user can do to a campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CampaignAction {
    Edit,
    Publish,
    Pause,
    Resume,
    Stop,
    Duplicate,
    /// Only drafts can be deleted; published campaigns are stopped instead (their history stays).
    Delete,
    ViewStats,
    /// Sync the audience now, outside the schedule (the campaign list and the stats page).
    RunNow,
    /// Compute who would be added and removed now, sending nothing.
    DryRun,
}

/// Something that changes a campaign's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum StatusEvent {
    /// A user publishes a draft (after [`validate_for_publish`] passed).
    Publish,
    /// A user pauses. A run already in progress finishes.
    Pause,
    /// A user resumes a paused campaign or one that needs attention. `has_run`: at least one run
    /// happened before (the status becomes AwaitingNextRun rather than Scheduled).
    Resume { has_run: bool },
    /// A user stops the campaign for good.
    Stop,
    /// The scheduler starts a run.
    RunStarted,
    /// A run finished; `more_runs`: the schedule has another run.
    RunSucceeded { more_runs: bool },
    /// A run failed in a way a person must fix.
    RunFailed,
}

/// An event that is not allowed in the current status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.message())]
pub struct TransitionError {
    pub from: CampaignStatus,
    pub event: StatusEvent,
}

impl TransitionError {
    /// A sentence for the marketer.
    pub fn message(&self) -> String {
        let what = match self.event {
            StatusEvent::Publish => "published",
            StatusEvent::Pause => "paused",
            StatusEvent::Resume { .. } => "resumed",
            StatusEvent::Stop => "stopped",
            StatusEvent::RunStarted | StatusEvent::RunSucceeded { .. } | StatusEvent::RunFailed => {
                "run"
            }
        };
        format!(
            "A campaign that is {} cannot be {what}.",
            self.from.label().to_lowercase()
        )
    }
}

impl CampaignStatus {
    /// "Awaiting next run", for the campaign list.
    pub fn label(self) -> &'static str {
        match self {
            Self::Draft => "Draft",
            Self::Scheduled => "Scheduled",
            Self::Running => "Running",
            Self::AwaitingNextRun => "Awaiting next run",
            Self::Paused => "Paused",
            Self::Completed => "Completed",
            Self::Stopped => "Stopped",
            Self::NeedsAttention => "Needs attention",
        }
    }

    /// Completed and Stopped never change again.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Completed | Self::Stopped)
    }

    /// Whether the scheduler may start a run in this status.
    pub fn may_run(self) -> bool {
        matches!(self, Self::Scheduled | Self::AwaitingNextRun)
    }

    /// Whether `action` is allowed:
    ///
    /// | status | edit | publish | pause | resume | stop | duplicate | delete | stats | run now | dry run |
    /// |---|---|---|---|---|---|---|---|---|---|---|
    /// | Draft | ✓ | ✓ | | | | ✓ | ✓ | | | |
    /// | Scheduled, AwaitingNextRun | ✓ | | ✓ | | ✓ | ✓ | | ✓ | ✓ | ✓ |
    /// | Running | | | ✓ | | ✓ | ✓ | | ✓ | | ✓ |
    /// | Paused | ✓ | | | ✓ | ✓ | ✓ | | ✓ | | ✓ |
    /// | NeedsAttention | ✓ | | ✓ | ✓ | ✓ | ✓ | | ✓ | | ✓ |
    /// | Completed, Stopped | | | | | | ✓ | | ✓ | | ✓ |
    ///
    /// Run now is what the server accepts ([`Self::may_run`]); a dry run sends nothing, so any
    /// published campaign may have one (as on its stats page).
    pub fn allows(self, action: CampaignAction) -> bool {
        use CampaignAction as A;
        use CampaignStatus as S;
        match action {
            A::Duplicate => true,
            A::Delete | A::Publish => self == S::Draft,
            A::ViewStats | A::DryRun => self != S::Draft,
            A::RunNow => self.may_run(),
            A::Edit => matches!(
                self,
                S::Draft | S::Scheduled | S::AwaitingNextRun | S::Paused | S::NeedsAttention
            ),
            A::Pause => matches!(
                self,
                S::Scheduled | S::AwaitingNextRun | S::Running | S::NeedsAttention
            ),
            A::Resume => matches!(self, S::Paused | S::NeedsAttention),
            A::Stop => !matches!(self, S::Draft | S::Completed | S::Stopped),
        }
    }

    /// Every allowed action, in the order of [`CampaignAction`].
    pub fn allowed_actions(self) -> Vec<CampaignAction> {
        use CampaignAction as A;
        [
            A::Edit,
            A::Publish,
            A::Pause,
            A::Resume,
            A::Stop,
            A::Duplicate,
            A::Delete,
            A::ViewStats,
            A::RunNow,
            A::DryRun,
        ]
        .into_iter()
        .filter(|a| self.allows(*a))
        .collect()
    }

    /// The status after `event`, or an error if the event is not allowed now.
    ///
    /// A run that ends while the campaign is Paused leaves it Paused (or Completed if it was the
    /// last run); a run that ends after Stop leaves it Stopped.
    pub fn apply(self, event: StatusEvent) -> Result<CampaignStatus, TransitionError> {
        use CampaignStatus as S;
        use StatusEvent as E;
        let next = match (self, event) {
            (S::Draft, E::Publish) => Some(S::Scheduled),
            (S::Scheduled | S::AwaitingNextRun | S::Running | S::NeedsAttention, E::Pause) => {
                Some(S::Paused)
            }
            (S::Paused | S::NeedsAttention, E::Resume { has_run }) => Some(if has_run {
                S::AwaitingNextRun
            } else {
                S::Scheduled
            }),
            (_, E::Stop) if self.allows(CampaignAction::Stop) => Some(S::Stopped),
            (S::Scheduled | S::AwaitingNextRun, E::RunStarted) => Some(S::Running),
            (S::Running, E::RunSucceeded { more_runs: true }) => Some(S::AwaitingNextRun),
            (S::Running | S::Paused, E::RunSucceeded { more_runs: false }) => Some(S::Completed),
            (S::Paused, E::RunSucceeded { more_runs: true }) => Some(S::Paused),
            (S::Running, E::RunFailed) => Some(S::NeedsAttention),
            (S::Paused, E::RunFailed) => Some(S::Paused),
            (S::Stopped, E::RunSucceeded { .. } | E::RunFailed) => Some(S::Stopped),
            _ => None,
        };
        next.ok_or(TransitionError { from: self, event })
    }
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.len() <= 30 && s.bytes().all(|b| b.is_ascii_digit())
}

/// The name of the Facebook Custom Audience a campaign keeps in step with its segment:
/// "Spring sale (campaign 12)". The id tells two campaigns with one name apart; the name is cut
/// so the whole fits Facebook's limit.
pub fn audience_name(campaign_id: i64, campaign_name: &str) -> String {
    let suffix = format!(" (campaign {campaign_id})");
    let name: String = campaign_name
        .trim()
        .chars()
        .take(MAX_AUDIENCE_NAME - suffix.chars().count())
        .collect();
    format!("{}{suffix}", name.trim_end())
}

/// Longest Custom Audience name we create, in characters.
pub const MAX_AUDIENCE_NAME: usize = 200;

/// Whether `s` looks like a Facebook ad account id (`act_` and digits).
pub fn is_ad_account_id(s: &str) -> bool {
    s.strip_prefix("act_").is_some_and(is_digits)
}

fn validate_target(t: &FacebookTarget, publishing: bool, errors: &mut Vec<FieldError>) {
    let fields = [
        (
            "target.ad_account_id",
            &t.ad_account_id,
            is_ad_account_id(&t.ad_account_id),
            "Choose an ad account.",
            "An ad account id is \u{201c}act_\u{201d} followed by digits.",
        ),
        (
            "target.campaign_id",
            &t.campaign_id,
            is_digits(&t.campaign_id),
            "Choose a Facebook campaign.",
            "A Facebook campaign id is made of digits.",
        ),
        (
            "target.ad_set_id",
            &t.ad_set_id,
            is_digits(&t.ad_set_id),
            "Choose an ad set.",
            "An ad set id is made of digits.",
        ),
    ];
    for (path, value, ok, missing, malformed) in fields {
        if value.is_empty() {
            if publishing {
                errors.push(FieldError::new(path, missing));
            }
        } else if !ok {
            errors.push(FieldError::new(path, malformed));
        }
    }
}

fn validate_common(input: &CampaignDraft, publishing: bool) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let name = input.name.trim();
    if name.is_empty() {
        errors.push(FieldError::new("name", "Give the campaign a name."));
    } else if name.chars().count() > MAX_CAMPAIGN_NAME {
        errors.push(FieldError::new(
            "name",
            format!("Keep the name to {MAX_CAMPAIGN_NAME} characters or fewer."),
        ));
    }
    if let Some(audience) = &input.audience {
        errors.extend(validate_segment(audience, "audience"));
    }
    if let Some(target) = &input.target {
        validate_target(target, publishing, &mut errors);
    }
    if input.labels.len() > MAX_CAMPAIGN_LABELS {
        errors.push(FieldError::new(
            "labels",
            format!("A campaign can have at most {MAX_CAMPAIGN_LABELS} labels."),
        ));
    } else {
        for (i, id) in input.labels.iter().enumerate() {
            if input.labels[..i].contains(id) {
                errors.push(FieldError::new(
                    format!("labels[{i}]"),
                    "This label is already on the campaign.",
                ));
            } else if *id <= 0 {
                errors.push(FieldError::new(format!("labels[{i}]"), "Choose a label."));
            }
        }
    }
    if let Some(goal) = &input.conversion_goal {
        if goal.event.trim().is_empty() {
            errors.push(FieldError::new(
                "conversion_goal.event",
                "Choose the event that counts as a conversion, or remove the goal.",
            ));
        } else if goal.event.chars().count() > MAX_NAME_LEN {
            errors.push(FieldError::new(
                "conversion_goal.event",
                format!("Event names can be at most {MAX_NAME_LEN} characters long."),
            ));
        }
    }
    errors.extend(crate::holdout::validate_holdout(input.holdout_percent));
    errors
}

/// Every problem that prevents saving `input` as a draft: the name, and the bounds of whatever
/// steps are present. Does not read the clock, so past schedule times are not reported here.
#[cfg(feature = "bundled-tz")]
pub fn validate_draft(input: &CampaignDraft) -> Vec<FieldError> {
    validate_draft_in(input, &BundledTimeZones)
}

/// [`validate_draft`] with the time zones of `zones`.
pub fn validate_draft_in(input: &CampaignDraft, zones: &dyn TimeZones) -> Vec<FieldError> {
    let mut errors = validate_common(input, false);
    if let Some(schedule) = &input.schedule {
        errors.extend(validate_schedule_structure_in(schedule, zones));
    }
    sort_like_the_form(&mut errors);
    errors
}

/// Every problem that prevents publishing `input` at `now`: everything [`validate_draft`] checks,
/// plus every step present and complete, and no schedule time already past.
#[cfg(feature = "bundled-tz")]
pub fn validate_for_publish(input: &CampaignDraft, now: Timestamp) -> Vec<FieldError> {
    validate_for_publish_in(input, now, &BundledTimeZones)
}

/// [`validate_for_publish`] with the time zones of `zones`.
pub fn validate_for_publish_in(
    input: &CampaignDraft,
    now: Timestamp,
    zones: &dyn TimeZones,
) -> Vec<FieldError> {
    let mut errors = validate_common(input, true);
    match &input.schedule {
        Some(schedule) => errors.extend(validate_schedule_in(schedule, now, zones)),
        None => errors.push(FieldError::new(
            "schedule",
            "Choose when the campaign runs.",
        )),
    }
    if input.audience.is_none() {
        errors.push(FieldError::new(
            "audience",
            "Choose who is in the audience.",
        ));
    }
    if input.target.is_none() {
        errors.push(FieldError::new(
            "target",
            "Choose the Facebook ad set to send the audience to.",
        ));
    }
    sort_like_the_form(&mut errors);
    errors
}

/// Orders errors as the form shows its fields: name, When, Who, What, labels, goal.
fn sort_like_the_form(errors: &mut [FieldError]) {
    errors.sort_by_key(|e| Step::of_path(&e.path).map_or(0, |s| s as u8 + 1));
}

// ---------------------------------------------------------------------------------------------
// Wizard steps
// ---------------------------------------------------------------------------------------------

/// A step of the campaign wizard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Step {
    When,
    Who,
    What,
    Labels,
}

impl Step {
    /// The step a field path belongs to (`schedule.*` → When, `audience.*` and the holdout → Who,
    /// `target.*`/`conversion_goal.*` → What, `labels*` → Labels); `None` for the name.
    pub fn of_path(path: &str) -> Option<Step> {
        let head = path.split(['.', '[']).next().unwrap_or("");
        match head {
            "schedule" => Some(Step::When),
            "audience" | "holdout_percent" => Some(Step::Who),
            "target" | "conversion_goal" => Some(Step::What),
            "labels" => Some(Step::Labels),
            _ => None,
        }
    }
}

/// How far a step is filled in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StepState {
    Complete,
    Incomplete,
    HasErrors,
}

/// The state of each wizard step, for the step rail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StepRail {
    pub when: StepState,
    pub who: StepState,
    pub what: StepState,
    pub labels: StepState,
}

/// Each step's state against the publish rules at `now`: a step with a problem in its fields
/// has errors; a required step not yet filled in (or a target with an empty id) is incomplete;
/// labels are optional, so that step is complete unless it has errors.
#[cfg(feature = "bundled-tz")]
pub fn step_rail(input: &CampaignDraft, now: Timestamp) -> StepRail {
    step_rail_in(input, now, &BundledTimeZones)
}

/// [`step_rail`] with the time zones of `zones`.
pub fn step_rail_in(input: &CampaignDraft, now: Timestamp, zones: &dyn TimeZones) -> StepRail {
    let errors = validate_for_publish_in(input, now, zones);
    let state = |step: Step, present: bool| {
        let own: Vec<&FieldError> = errors
            .iter()
            .filter(|e| Step::of_path(&e.path) == Some(step))
            .collect();
        let only_missing = own.iter().all(|e| is_missing_message(e));
        if !present || (!own.is_empty() && only_missing) {
            StepState::Incomplete
        } else if own.is_empty() {
            StepState::Complete
        } else {
            StepState::HasErrors
        }
    };
    let target_present = input.target.is_some();
    StepRail {
        when: state(Step::When, input.schedule.is_some()),
        who: state(Step::Who, input.audience.is_some()),
        what: state(Step::What, target_present),
        labels: state(Step::Labels, true),
    }
}

/// An empty-id message on the target ("Choose an ad set.") means "not done yet", not "wrong".
fn is_missing_message(e: &FieldError) -> bool {
    e.path.starts_with("target.") && e.message.starts_with("Choose ")
}

#[cfg(test)]
mod tests;
