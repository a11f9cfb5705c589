use leptos::prelude::*;

use crate::contexts::editor_context::{SaveState, use_editor};

/// Whether the wizard's changes are on the server yet; a conflict gets a message and a reload.
#[component]
pub fn SaveIndicator() -> impl IntoView {
    let editor = use_editor();
    move || match editor.save.get() {
        SaveState::Conflict => view! {
            <div class="notice notice--error save-indicator" role="alert">
                "This campaign was changed in another tab or by someone else, so your latest "
                "changes were not saved. Reload to see the current version."
                " "
                <button type="button" class="button" on:click=|_| reload()>"Reload"</button>
            </div>
        }
        .into_any(),
        state => {
            let (class, text) = match state {
                // A new campaign is stored at its first change.
                SaveState::Saved if editor.id() == 0 => ("", "Nothing to save yet".to_owned()),
                SaveState::Saved => ("save-indicator--ok", "All changes saved".to_owned()),
                SaveState::Pending | SaveState::Saving => ("", "Saving…".to_owned()),
                // Problems show once the user leaves the field: until then, it is unfinished.
                SaveState::Invalid if !editor.shows_errors() => {
                    ("", "Not saved yet: a field is unfinished".to_owned())
                }
                SaveState::Invalid => (
                    "save-indicator--warn",
                    "Not saved: fix the highlighted fields".to_owned(),
                ),
                SaveState::Failed(msg) => ("save-indicator--warn", format!("Not saved: {msg}")),
                SaveState::Conflict => unreachable!(),
            };
            view! {
                <p class=format!("save-indicator {class}") role="status">{text}</p>
            }
            .into_any()
        }
    }
}

fn reload() {
    if let Some(window) = web_sys::window() {
        let _ = window.location().reload();
    }
}
