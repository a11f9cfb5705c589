//! Confirmations that appear over the page for a few seconds ("Campaign scheduled — …"), also
//! across a navigation: the wizard says what it did, and the list it lands on shows it.

use std::time::Duration;

use leptos::prelude::*;

/// How long a toast stays; the region holds it while the pointer or focus is in it.
const SHOWN_FOR: Duration = Duration::from_secs(8);

/// One confirmation.
#[derive(Debug, Clone, PartialEq)]
pub struct Toast {
    pub id: u64,
    pub text: String,
}

/// The toasts on screen; `Copy`, so closures can hold it.
#[derive(Clone, Copy)]
pub struct Toasts {
    pub list: RwSignal<Vec<Toast>>,
    /// The pointer or focus is in the region: nothing leaves while the user reads or acts.
    pub held: RwSignal<bool>,
    next: StoredValue<u64>,
}

impl Toasts {
    /// Shows `text` for a while.
    pub fn show(&self, text: impl Into<String>) {
        let id = self.next.get_value();
        self.next.set_value(id + 1);
        let text = text.into();
        self.list.update(|l| l.push(Toast { id, text }));
        self.expire(id);
    }

    /// Removes toast `id`.
    pub fn dismiss(&self, id: u64) {
        self.list.update(|l| l.retain(|t| t.id != id));
    }

    fn expire(&self, id: u64) {
        let this = *self;
        set_timeout(
            move || match this.held.try_get_untracked() {
                Some(true) => this.expire(id),
                Some(false) => this.dismiss(id),
                None => {}
            },
            SHOWN_FOR,
        );
    }
}

/// Provides the toasts for the whole app.
pub fn provide_toasts() {
    provide_context(Toasts {
        list: RwSignal::new(Vec::new()),
        held: RwSignal::new(false),
        next: StoredValue::new(0),
    });
}

pub fn use_toasts() -> Toasts {
    expect_context::<Toasts>()
}
