//! The campaign being edited in the wizard, shared by every step.
//!
//! The browser's copy (`draft`) is the source of truth while the wizard is open. Every change is
//! saved to the server as a draft after a short pause (a debounced `PUT` carrying the version we
//! loaded), so leaving and coming back loses nothing. A 409 stops saving and says so: we never
//! overwrite someone else's change silently.
//!
//! A new campaign ("+ Campaign") is not on the server until there is something to keep: its
//! first save, after the user types a name or makes a choice, creates it (`POST`), and the
//! wizard's URL then takes its id. Opening the wizard and leaving stores nothing.
//!
//! Problems are checked on every change, but shown only once the user is done with the field:
//! after leaving it, or the step (Next, Back, the rail), or on the Overview ([`Editor::reveal`]),
//! not while they are still typing or choosing.

use std::{collections::BTreeSet, time::Duration};

use jiff::Timestamp;
use leptos::{prelude::*, task::spawn_local};
use shared::{
    campaign::{Campaign, CampaignDraft, CampaignStatus, Step, validate_draft_in},
    error::{ErrorCode, FieldError},
    schedule::{Schedule, validate_schedule_in},
    segment::{Segment, validate_segment},
};

use crate::{
    api::{self, ClientError},
    components::wizard::error_id,
    contexts::time_zones_context::{TimeZoneStore, use_time_zones},
};

/// How long typing must pause before the draft is saved.
const SAVE_DELAY: Duration = Duration::from_millis(500);
/// How long a choice (a radio button) must stand before it is saved: arrow keys move through a
/// radio group one choice per key press, and only the one the user stops at is worth a save
/// (and an audit entry). Leaving the group saves at once.
const CHOICE_DELAY: Duration = Duration::from_millis(2000);

/// The name a new campaign starts with, until the user types their own.
pub const UNTITLED: &str = "Untitled campaign";

/// Which problems the user has been shown (see [`Editor::reveal`]).
#[derive(Debug, Clone, Default, PartialEq)]
struct Revealed {
    /// Everything (the Overview lists it all).
    all: bool,
    /// The error ids (`err-…`, [`error_id`]) of the problems shown: of the fields the user
    /// left, and those a step had when the user left it or pressed Next. A problem that
    /// appears later (a condition added on coming back) waits for its own turn.
    fields: BTreeSet<String>,
}

impl Revealed {
    fn shows(&self, path: &str) -> bool {
        self.all || self.fields.contains(&error_id(path))
    }
}

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
    /// The campaign's id; 0 while a new campaign is not on the server yet.
    id: RwSignal<i64>,
    pub draft: RwSignal<CampaignDraft>,
    pub status: RwSignal<CampaignStatus>,
    pub loaded: RwSignal<bool>,
    pub save: RwSignal<SaveState>,
    /// The `fields` of the server's last 422, shown in the same places as our own errors.
    pub server_errors: RwSignal<Vec<FieldError>>,
    /// The time zones the schedule math reads.
    pub zones: TimeZoneStore,
    /// Every problem with the draft now, shown or not (see [`Editor::errors_at`]).
    errors: Memo<Vec<FieldError>>,
    revealed: RwSignal<Revealed>,
    version: StoredValue<i64>,
    /// The last draft the server acknowledged (without its version).
    saved: StoredValue<CampaignDraft>,
    in_flight: StoredValue<bool>,
    timer: StoredValue<Option<TimeoutHandle>>,
    /// What follows an edit: a save after a pause, or nothing for [`Editor::detached`]. A
    /// function chosen at construction, so that a detached editor's page (the saved segment
    /// form) does not carry the saving code, nor the campaign's rules and time zones.
    after_edit: fn(&Editor, Duration),
}

/// The problems an editor shows, from its draft, the server's last verdict and the zones.
type Rules =
    fn(RwSignal<CampaignDraft>, RwSignal<Vec<FieldError>>, TimeZoneStore) -> Vec<FieldError>;

impl Editor {
    /// The editor of campaign `id`, which [`Editor::load`] fills; 0 for a new campaign, which
    /// starts as an untitled draft that is not on the server yet.
    pub fn new(id: i64) -> Self {
        Self::with(id, use_time_zones(), current_errors, |e, delay| {
            e.schedule_save(delay)
        })
    }

    fn with(
        id: i64,
        zones: TimeZoneStore,
        rules: Rules,
        after_edit: fn(&Editor, Duration),
    ) -> Self {
        let initial = CampaignDraft {
            name: if id == 0 {
                UNTITLED.to_owned()
            } else {
                String::new()
            },
            ..Default::default()
        };
        let draft = RwSignal::new(initial.clone());
        let server_errors = RwSignal::new(Vec::new());
        Self {
            id: RwSignal::new(id),
            draft,
            zones,
            errors: Memo::new(move |_| rules(draft, server_errors, zones)),
            revealed: RwSignal::new(Revealed::default()),
            status: RwSignal::new(CampaignStatus::Draft),
            loaded: RwSignal::new(false),
            save: RwSignal::new(SaveState::Saved),
            server_errors,
            version: StoredValue::new(0),
            // Nothing to save until the user changes something.
            saved: StoredValue::new(initial),
            in_flight: StoredValue::new(false),
            timer: StoredValue::new(None),
            after_edit,
        }
    }

    /// An editor of `audience` alone that saves nothing: the segment builder's components
    /// (which read and write an editor's `draft.audience`) reused outside the wizard, e.g. to
    /// edit a saved segment, whose form saves it itself. It checks the audience only.
    pub fn detached(audience: Segment) -> Self {
        let editor = Self::with(0, TimeZoneStore::idle(), audience_errors, |_, _| {});
        editor.draft.update(|d| d.audience = Some(audience));
        // Its form checks as the user types, as before; its own Save is where problems surface.
        editor.revealed.update(|r| r.all = true);
        editor.loaded.set(true);
        editor
    }

    /// The campaign's id (reactive); 0 until a new campaign is first saved.
    pub fn id(&self) -> i64 {
        self.id.get()
    }

    /// [`Editor::id`] without subscribing, for event handlers and tasks.
    pub fn id_untracked(&self) -> i64 {
        self.id.get_untracked()
    }

    /// The id as the wizard's URLs spell it: `new` before the first save.
    pub fn url_id(&self) -> String {
        match self.id.get() {
            0 => "new".to_owned(),
            id => id.to_string(),
        }
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
        self.change(f, SAVE_DELAY);
    }

    /// A choice among radio buttons: shown at once, saved once the user settles on it (see
    /// [`CHOICE_DELAY`]), or leaves the group ([`Editor::save_pending`]).
    pub fn choose(&self, f: impl FnOnce(&mut CampaignDraft)) {
        self.change(f, CHOICE_DELAY);
    }

    fn change(&self, f: impl FnOnce(&mut CampaignDraft), delay: Duration) {
        self.draft.update(f);
        // The server's verdict was about the old input.
        if !self.server_errors.with_untracked(Vec::is_empty) {
            self.server_errors.set(Vec::new());
        }
        (self.after_edit)(self, delay);
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

    /// The messages for exactly `path`, once they are to be shown (reactive).
    pub fn errors_at(&self, path: &str) -> Vec<String> {
        let server = self
            .server_errors
            .with(|s| s.iter().any(|e| e.path == path));
        if !server && !self.revealed.with(|r| r.shows(path)) {
            return Vec::new();
        }
        self.errors.with(|all| {
            all.iter()
                .filter(|e| e.path == path)
                .map(|e| e.message.clone())
                .collect()
        })
    }

    /// Whether any problem of `step` is shown (reactive): the step rail says "has errors" only
    /// then, not while the user is still filling the step in.
    pub fn shows_errors_of(&self, step: Step) -> bool {
        self.errors.with(|all| {
            all.iter().any(|e| {
                Step::of_path(&e.path) == Some(step) && self.revealed.with(|r| r.shows(&e.path))
            })
        }) || self
            .server_errors
            .with(|s| s.iter().any(|e| Step::of_path(&e.path) == Some(step)))
    }

    /// Whether any problem is shown at all (reactive).
    pub fn shows_errors(&self) -> bool {
        !self.server_errors.with(Vec::is_empty)
            || self
                .errors
                .with(|all| all.iter().any(|e| self.revealed.with(|r| r.shows(&e.path))))
    }

    /// The problems of `step` and of the name, shown or not (for Next).
    pub fn problems_of(&self, step: Step) -> Vec<FieldError> {
        self.errors.with_untracked(|all| {
            all.iter()
                .filter(|e| Step::of_path(&e.path).is_none_or(|s| s == step))
                .cloned()
                .collect()
        })
    }

    /// Shows the problems of the fields the user just left: `described_by` is the field's
    /// `aria-describedby`, which names its error text ([`error_id`]).
    pub fn reveal_field(&self, described_by: &str) {
        let fresh: Vec<&str> = self.revealed.with_untracked(|r| {
            described_by
                .split_whitespace()
                .filter(|id| id.starts_with("err-") && !r.fields.contains(*id))
                .collect()
        });
        if !fresh.is_empty() {
            self.revealed
                .update(|r| r.fields.extend(fresh.into_iter().map(str::to_owned)));
        }
    }

    /// Shows the problems `step` (and the name) has now.
    pub fn reveal(&self, step: Step) {
        let ids: Vec<String> = self
            .problems_of(step)
            .iter()
            .map(|e| error_id(&e.path))
            .collect();
        self.reveal_ids(ids);
    }

    fn reveal_ids(&self, ids: Vec<String>) {
        let fresh = self
            .revealed
            .with_untracked(|r| ids.iter().any(|id| !r.fields.contains(id)));
        if fresh {
            self.revealed.update(|r| r.fields.extend(ids));
        }
    }

    /// Shows the problems there are now, e.g. of a campaign opened again: its fields were left
    /// before. What the user adds from now on follows the usual rule.
    pub fn reveal_current(&self) {
        let ids: Vec<String> = self
            .errors
            .with_untracked(|all| all.iter().map(|e| error_id(&e.path)).collect());
        self.reveal_ids(ids);
    }

    /// Shows every problem.
    pub fn reveal_all(&self) {
        if !self.revealed.with_untracked(|r| r.all) {
            self.revealed.update(|r| r.all = true);
        }
    }

    fn schedule_save(&self, delay: Duration) {
        if self.save.get_untracked() == SaveState::Conflict {
            return;
        }
        self.save.set(SaveState::Pending);
        if let Some(handle) = self.timer.get_value() {
            handle.clear();
        }
        let this = *self;
        let handle = set_timeout_with_handle(move || this.save_now(), delay).ok();
        self.timer.set_value(handle);
    }

    /// Saves a change that is waiting for its pause now, e.g. when focus leaves a radio group.
    pub fn save_pending(&self) {
        if self.timer.with_value(Option::is_some) {
            self.save_now();
        }
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
        // A zone chosen a moment ago may still be on its way: checked without its rules, the
        // draft would look invalid, and nothing would save it once they arrive (the user has
        // already left the field). Wait for them, then save.
        if let Some(zone) = draft.schedule.as_ref().map(|s| &s.time_zone)
            && !zone.is_empty()
            && !self.zones.is_settled_untracked(zone)
        {
            self.save.set(SaveState::Pending);
            let this = *self;
            self.zones.load_then(zone.clone(), move |_| {
                // Unless the wizard was closed meanwhile.
                if this.timer.try_get_value().is_some() {
                    this.save_now();
                }
            });
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

    /// Sends `draft` with the loaded version and records the answer: creates the campaign on
    /// its first save, updates it after.
    async fn put(&self, draft: CampaignDraft) -> Result<(), ClientError> {
        let id = self.id.get_untracked();
        let campaign = if id == 0 {
            api::create_campaign(CampaignDraft {
                version: None,
                ..draft.clone()
            })
            .await?
        } else {
            let body = CampaignDraft {
                version: self.version.try_get_value(),
                ..draft.clone()
            };
            api::update_campaign(id, body).await?
        };
        self.version.try_set_value(campaign.version);
        self.saved.try_set_value(draft);
        self.status.try_set(campaign.status);
        self.id.try_set(campaign.id);
        Ok(())
    }

    /// Saves and waits for the answer (before publishing); after a save already on its way,
    /// which two requests with one version would turn into a conflict (or, for a new campaign,
    /// two campaigns).
    pub async fn flush(&self) -> Result<(), ClientError> {
        if let Some(handle) = self.timer.get_value() {
            handle.clear();
        }
        self.timer.set_value(None);
        while self.in_flight.get_value() {
            pause(50).await;
        }
        let draft = self.draft.get_untracked();
        // A new campaign is created even unchanged: the user asked to keep it.
        if self.id.get_untracked() != 0 && self.saved.with_value(|s| *s == draft) {
            return Ok(());
        }
        self.in_flight.set_value(true);
        self.save.set(SaveState::Saving);
        let result = self.put(draft).await;
        self.in_flight.try_set_value(false);
        match result {
            Ok(()) => {
                self.save.try_set(SaveState::Saved);
                // A change made while this save was on its way is saved after its pause.
                let changed = self
                    .draft
                    .try_with_untracked(|d| self.saved.with_value(|s| s != d));
                if changed == Some(true) {
                    self.schedule_save(SAVE_DELAY);
                }
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
        let (Some(draft), Some(version), Some(id)) = (
            self.draft.try_get_untracked(),
            self.version.try_get_value(),
            self.id.try_get_untracked(),
        ) else {
            return;
        };
        // A first save still on its way would make a second campaign: that one is lost instead.
        if self.in_flight.try_get_value() == Some(true) && id == 0 {
            return;
        }
        if self
            .zones
            .with_untracked(|z| validate_draft_in(&draft, z))
            .is_empty()
        {
            spawn_local(async move {
                let _ = match id {
                    0 => api::create_campaign(draft).await,
                    id => {
                        let body = CampaignDraft {
                            version: Some(version),
                            ..draft
                        };
                        api::update_campaign(id, body).await
                    }
                };
            });
        }
    }
}

/// Waits `ms` milliseconds.
/// Waits `ms` milliseconds (a browser timer).
pub(crate) async fn pause(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
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
