//! The campaign being edited in the wizard, shared by every step.
//!
//! The browser's copy (`draft`) is the source of truth while the wizard is open. Every change is
//! saved to the server as a draft after a short pause (a debounced `PUT` carrying the version we
//! loaded), so leaving and coming back loses nothing. A 409 stops saving and says so: we never
//! overwrite someone else's change silently.

use std::time::Duration;

use jiff::Timestamp;
use leptos::{prelude::*, task::spawn_local};
use shared::{
    campaign::{Campaign, CampaignDraft, CampaignStatus, validate_draft_in},
    error::{ErrorCode, FieldError},
    schedule::{Schedule, validate_schedule_in},
    segment::{Segment, validate_segment},
};

use crate::{
    api::{self, ClientError},
    contexts::time_zones_context::{TimeZoneStore, use_time_zones},
};

/// How long typing must pause before the draft is saved.
const SAVE_DELAY: Duration = Duration::from_millis(500);

/// Where the server's copy stands relative to the browser's.
#[derive(Debug, Clone, PartialEq)]
pub enum SaveState {
    Saved,
    Pending,
    Saving,
    /// The draft breaks a rule that even drafts must follow; saving waits until it is fixed.
    Invalid,
    /// Someone changed the campaign elsewhere since we loaded it.
    Conflict,
    Failed(String),
}

/// The editor of one campaign; `Copy`, so closures can hold it.
#[derive(Clone, Copy)]
pub struct Editor {
    pub id: i64,
    pub draft: RwSignal<CampaignDraft>,
    pub status: RwSignal<CampaignStatus>,
    pub loaded: RwSignal<bool>,
    pub save: RwSignal<SaveState>,
    /// The `fields` of the server's last 422, shown in the same places as our own errors.
    pub server_errors: RwSignal<Vec<FieldError>>,
    /// The time zones the schedule math reads.
    pub zones: TimeZoneStore,
    /// Every problem to show next to a field now (see [`Editor::errors`]).
    errors: Memo<Vec<FieldError>>,
    version: StoredValue<i64>,
    /// The last draft the server acknowledged (without its version).
    saved: StoredValue<CampaignDraft>,
    in_flight: StoredValue<bool>,
    timer: StoredValue<Option<TimeoutHandle>>,
    /// What follows an edit: a save after a pause, or nothing for [`Editor::detached`]. A
    /// function chosen at construction, so that a detached editor's page (the saved segment
    /// form) does not carry the saving code, nor the campaign's rules and time zones.
    after_edit: fn(&Editor),
}

/// The problems an editor shows, from its draft, the server's last verdict and the zones.
type Rules =
    fn(RwSignal<CampaignDraft>, RwSignal<Vec<FieldError>>, TimeZoneStore) -> Vec<FieldError>;

impl Editor {
    pub fn new(id: i64) -> Self {
        Self::with(id, use_time_zones(), current_errors, Self::schedule_save)
    }

    fn with(id: i64, zones: TimeZoneStore, rules: Rules, after_edit: fn(&Editor)) -> Self {
        let draft = RwSignal::new(CampaignDraft::default());
        let server_errors = RwSignal::new(Vec::new());
        Self {
            id,
            draft,
            zones,
            errors: Memo::new(move |_| rules(draft, server_errors, zones)),
            status: RwSignal::new(CampaignStatus::Draft),
            loaded: RwSignal::new(false),
            save: RwSignal::new(SaveState::Saved),
            server_errors,
            version: StoredValue::new(0),
            saved: StoredValue::new(CampaignDraft::default()),
            in_flight: StoredValue::new(false),
            timer: StoredValue::new(None),
            after_edit,
        }
    }

    /// An editor of `audience` alone that saves nothing: the segment builder's components
    /// (which read and write an editor's `draft.audience`) reused outside the wizard, e.g. to
    /// edit a saved segment, whose form saves it itself. It checks the audience only.
    pub fn detached(audience: Segment) -> Self {
        let editor = Self::with(0, TimeZoneStore::idle(), audience_errors, |_| {});
        editor.draft.update(|d| d.audience = Some(audience));
        editor.loaded.set(true);
        editor
    }

    /// Fills the editor with the server's copy.
    pub fn load(&self, campaign: &Campaign) {
        let draft = unversioned(campaign.to_draft());
        if let Some(s) = &draft.schedule {
            self.zones.ensure(&s.time_zone);
        }
        self.version.set_value(campaign.version);
        self.saved.set_value(draft.clone());
        self.status.set(campaign.status);
        self.draft.set(draft);
        self.save.set(SaveState::Saved);
        self.loaded.set(true);
    }

    /// Changes the draft and saves it after a pause.
    pub fn edit(&self, f: impl FnOnce(&mut CampaignDraft)) {
        self.draft.update(f);
        // The server's verdict was about the old input.
        if !self.server_errors.with_untracked(Vec::is_empty) {
            self.server_errors.set(Vec::new());
        }
        (self.after_edit)(self);
    }

    /// Changes the schedule; does nothing if there is none yet.
    pub fn edit_schedule(&self, f: impl FnOnce(&mut Schedule)) {
        self.edit(|d| {
            if let Some(s) = d.schedule.as_mut() {
                f(s);
            }
        });
    }

    /// Changes the audience, starting from an empty group.
    pub fn edit_audience(&self, f: impl FnOnce(&mut Segment)) {
        self.edit(|d| f(d.audience.get_or_insert_with(Segment::empty)));
    }

    /// The messages for exactly `path`.
    pub fn errors_at(&self, path: &str) -> Vec<String> {
        self.errors.with(|all| {
            all.iter()
                .filter(|e| e.path == path)
                .map(|e| e.message.clone())
                .collect()
        })
    }

    fn schedule_save(&self) {
        if self.save.get_untracked() == SaveState::Conflict {
            return;
        }
        self.save.set(SaveState::Pending);
        if let Some(handle) = self.timer.get_value() {
            handle.clear();
        }
        let this = *self;
        let handle = set_timeout_with_handle(move || this.save_now(), SAVE_DELAY).ok();
        self.timer.set_value(handle);
    }

    /// Saves now if the server's copy differs; one request at a time, the last change wins.
    pub fn save_now(&self) {
        if let Some(handle) = self.timer.get_value() {
            handle.clear();
        }
        self.timer.set_value(None);
        if self.in_flight.get_value() || self.save.get_untracked() == SaveState::Conflict {
            return;
        }
        let draft = self.draft.get_untracked();
        if self.saved.with_value(|s| *s == draft) {
            self.save.set(SaveState::Saved);
            return;
        }
        if !self
            .zones
            .with_untracked(|z| validate_draft_in(&draft, z))
            .is_empty()
        {
            self.save.set(SaveState::Invalid);
            return;
        }
        self.in_flight.set_value(true);
        self.save.set(SaveState::Saving);
        let this = *self;
        spawn_local(async move {
            let result = this.put(draft.clone()).await;
            // The editor may be gone (the user left): then there is nothing to update.
            if this.in_flight.try_set_value(false).is_some() {
                return;
            }
            match result {
                Ok(()) => this.save_now(),
                Err(err) => this.fail(&err),
            }
        });
    }

    /// Sends `draft` with the loaded version and records the answer.
    async fn put(&self, draft: CampaignDraft) -> Result<(), ClientError> {
        let body = CampaignDraft {
            version: self.version.try_get_value(),
            ..draft.clone()
        };
        let campaign = api::update_campaign(self.id, body).await?;
        self.version.try_set_value(campaign.version);
        self.saved.try_set_value(draft);
        self.status.try_set(campaign.status);
        Ok(())
    }

    /// Saves and waits for the answer (before publishing).
    pub async fn flush(&self) -> Result<(), ClientError> {
        if let Some(handle) = self.timer.get_value() {
            handle.clear();
        }
        let draft = self.draft.get_untracked();
        if self.saved.with_value(|s| *s == draft) {
            return Ok(());
        }
        self.save.set(SaveState::Saving);
        match self.put(draft).await {
            Ok(()) => {
                self.save.set(SaveState::Saved);
                Ok(())
            }
            Err(err) => {
                self.fail(&err);
                Err(err)
            }
        }
    }

    /// Records a failed save or action: a conflict, the server's field errors, or a message.
    pub fn fail(&self, err: &ClientError) {
        let state = match err.code() {
            Some(ErrorCode::Conflict) => SaveState::Conflict,
            Some(ErrorCode::ValidationFailed) => {
                self.server_errors.try_set(err.fields());
                SaveState::Invalid
            }
            _ => SaveState::Failed(err.to_string()),
        };
        self.save.try_set(state);
    }

    /// Called when the wizard closes: a change still waiting for its pause is sent now.
    pub fn save_on_leave(&self) {
        let Some(Some(handle)) = self.timer.try_get_value() else {
            return;
        };
        handle.clear();
        let (Some(draft), Some(version)) =
            (self.draft.try_get_untracked(), self.version.try_get_value())
        else {
            return;
        };
        if self
            .zones
            .with_untracked(|z| validate_draft_in(&draft, z))
            .is_empty()
        {
            let id = self.id;
            spawn_local(async move {
                let body = CampaignDraft {
                    version: Some(version),
                    ..draft
                };
                let _ = api::update_campaign(id, body).await;
            });
        }
    }
}

/// Every problem to show next to a field now: the draft rules, the schedule against the clock,
/// and whatever the server said last.
fn current_errors(
    draft: RwSignal<CampaignDraft>,
    server_errors: RwSignal<Vec<FieldError>>,
    zones: TimeZoneStore,
) -> Vec<FieldError> {
    let mut errors = draft.with(|d| {
        let mut errors = zones.with(|z| validate_draft_in(d, z));
        if let Some(s) = &d.schedule {
            for e in zones.with(|z| validate_schedule_in(s, Timestamp::now(), z)) {
                if !errors.contains(&e) {
                    errors.push(e);
                }
            }
        }
        errors
    });
    for e in server_errors.get() {
        if !errors.contains(&e) {
            errors.push(e);
        }
    }
    errors
}

/// The problems of a detached editor: its audience's, by `shared`'s segment rules, and the
/// server's.
fn audience_errors(
    draft: RwSignal<CampaignDraft>,
    server_errors: RwSignal<Vec<FieldError>>,
    _: TimeZoneStore,
) -> Vec<FieldError> {
    let mut errors = draft.with(|d| {
        d.audience
            .as_ref()
            .map(|a| validate_segment(a, "audience"))
            .unwrap_or_default()
    });
    for e in server_errors.get() {
        if !errors.contains(&e) {
            errors.push(e);
        }
    }
    errors
}

fn unversioned(draft: CampaignDraft) -> CampaignDraft {
    CampaignDraft {
        version: None,
        ..draft
    }
}

/// The editor of the open wizard.
pub fn use_editor() -> Editor {
    expect_context::<Editor>()
}
