//! The time zones the browser knows: the names the server offers and the rules of the zones
//! loaded so far.
//!
//! The app does not carry the tz database (it would add ~70 KB to every first visit). A schedule
//! names its zone; before the schedule math in `shared` runs for it, the zone's TZif file is
//! loaded from the server (`/api/timezones/{name}`, the same bundled database the server uses)
//! and kept here. `shared` reads the loaded zones through its `TimeZones` provider.

use std::collections::{BTreeMap, BTreeSet};

use jiff::tz::TimeZone;
use leptos::{prelude::*, task::spawn_local};
use shared::schedule::TimeZones;

use crate::api::{self, load::Load};

/// Loaded zones and the zone list; `Copy`, so closures can hold it.
#[derive(Clone, Copy)]
pub struct TimeZoneStore {
    zones: RwSignal<BTreeMap<String, TimeZone>>,
    /// Zones whose file could not be loaded (unknown name or network), with the reason.
    failed: RwSignal<BTreeMap<String, String>>,
    in_flight: StoredValue<BTreeSet<String>>,
    /// Every zone name the server knows, sorted; `None` in an idle store.
    names: Option<Load<Result<Vec<String>, api::ClientError>>>,
}

impl TimeZoneStore {
    fn new() -> Self {
        Self {
            names: Some(Load::new(api::time_zones::list_time_zones)),
            ..Self::idle()
        }
    }

    /// A store that loads nothing by itself, for an editor that does no schedule math (the
    /// saved segment form): the zone list's request and the TZif reader stay out of its page.
    pub fn idle() -> Self {
        Self {
            zones: RwSignal::new(BTreeMap::new()),
            failed: RwSignal::new(BTreeMap::new()),
            in_flight: StoredValue::new(BTreeSet::new()),
            names: None,
        }
    }

    /// Runs `f` with the loaded zones as `shared`'s provider; reactive, so a memo that calls it
    /// recomputes when a zone arrives.
    pub fn with<R>(&self, f: impl FnOnce(&dyn TimeZones) -> R) -> R {
        self.zones.with(|zones| f(zones))
    }

    /// [`TimeZoneStore::with`] without subscribing, for event handlers and tasks.
    pub fn with_untracked<R>(&self, f: impl FnOnce(&dyn TimeZones) -> R) -> R {
        self.zones.with_untracked(|zones| f(zones))
    }

    /// Loaded, or failed for good: nothing more will arrive for `name` (reactive).
    pub fn is_settled(&self, name: &str) -> bool {
        self.zones.with(|z| z.contains_key(name)) || self.failed.with(|f| f.contains_key(name))
    }

    /// [`TimeZoneStore::is_settled`] without subscribing, for event handlers and tasks.
    pub fn is_settled_untracked(&self, name: &str) -> bool {
        self.zones.with_untracked(|z| z.contains_key(name))
            || self.failed.with_untracked(|f| f.contains_key(name))
    }

    /// Why `name` could not be loaded, if it could not (reactive).
    pub fn failure(&self, name: &str) -> Option<String> {
        self.failed.with(|f| f.get(name).cloned())
    }

    /// Every zone name the server offers, or `None` while the list loads or if it failed.
    pub fn names(&self) -> Option<Vec<String>> {
        self.names.and_then(|n| n.get()).and_then(Result::ok)
    }

    /// Starts loading `name` unless it is loaded or on its way.
    pub fn ensure(&self, name: &str) {
        let this = *self;
        let name = name.to_owned();
        spawn_local(async move { this.load(&name).await });
    }

    /// Loads `name` (once) and then runs `then`, straight away when it is already here. `then`
    /// also runs when loading fails: validation then says the zone is unknown.
    pub fn load_then(&self, name: String, then: impl FnOnce(String) + 'static) {
        if self.zones.with_untracked(|z| z.contains_key(&name)) {
            then(name);
            return;
        }
        let this = *self;
        spawn_local(async move {
            this.load(&name).await;
            then(name);
        });
    }

    async fn load(&self, name: &str) {
        let known = self.zones.with_untracked(|z| z.contains_key(name))
            || self.failed.with_untracked(|f| f.contains_key(name));
        if known || name.is_empty() {
            return;
        }
        if self.in_flight.with_value(|s| s.contains(name)) {
            // Another caller's request is on its way: wait for its answer, so that a
            // `load_then` never runs its `then` before the zone is here.
            while self.in_flight.try_with_value(|s| s.contains(name)) == Some(true) {
                crate::contexts::editor_context::pause(50).await;
            }
            return;
        }
        self.in_flight.update_value(|s| {
            s.insert(name.to_owned());
        });
        let result = api::time_zones::get_time_zone(name).await;
        self.in_flight.try_update_value(|s| s.remove(name));
        match result {
            Ok(tz) => {
                self.zones.try_update(|z| z.insert(name.to_owned(), tz));
            }
            Err(err) => {
                self.failed
                    .try_update(|f| f.insert(name.to_owned(), err.to_string()));
            }
        }
    }
}

/// The store of the enclosing page, or a new one provided here, which starts loading the
/// browser's own zone (the default of a new schedule). Only the editors (the wizard's and the
/// saved segment form's) compute in time zones: the list's texts come from the server, so the
/// zones' code stays out of the first download.
pub fn use_time_zones() -> TimeZoneStore {
    use_context::<TimeZoneStore>().unwrap_or_else(|| {
        let store = TimeZoneStore::new();
        store.ensure(&browser_time_zone());
        provide_context(store);
        store
    })
}

/// The browser's IANA zone (from `Intl`), or UTC when it cannot tell.
pub fn browser_time_zone() -> String {
    crate::local_time::viewer_zone()
}
