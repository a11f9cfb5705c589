use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use wasm_bindgen::JsCast;

use crate::{
    components::wizard::{STEPS, error_id, step_at, use_current_step},
    contexts::editor_context::use_editor,
};

/// Back and Next under every step. Next shows the step's problems; if there are any, it stays
/// and puts the focus on the first field to fix, otherwise it saves and moves on. A step may be
/// left unfinished (the Overview lists what is missing); it may not be left wrong by Next.
#[component]
pub fn StepNav() -> impl IntoView {
    let editor = use_editor();
    let current = use_current_step();
    let navigate = use_navigate();
    let go = move |i: usize| {
        let url = format!("/campaigns/{}/edit/{}", editor.url_id(), STEPS[i].0);
        navigate(&url, Default::default());
    };
    let go_back = go.clone();
    let back = move |_| {
        if let Some(i) = current.get_untracked().filter(|i| *i > 0) {
            go_back(i - 1);
        }
    };
    let next = move |_| {
        let Some(i) = current.get_untracked().filter(|i| i + 1 < STEPS.len()) else {
            return;
        };
        if let Some(step) = step_at(i) {
            editor.reveal(step);
            if let Some(first) = editor.problems_of(step).first() {
                focus_field(&first.path);
                return;
            }
        }
        editor.save_pending();
        go(i + 1);
    };
    let title = move |offset: isize| {
        current
            .get()
            .and_then(|i| STEPS.get(i.checked_add_signed(offset)?))
            .map(|s| s.1)
    };
    view! {
        <div class="wizard__nav">
            <button type="button" class="button" hidden=move || title(-1).is_none() on:click=back>
                {move || title(-1).map(|t| format!("Back: {t}"))}
            </button>
            <button type="button" class="button button--primary wizard__next" hidden=move || title(1).is_none()
                on:click=next>
                {move || title(1).map(|t| format!("Next: {t}"))}
            </button>
        </div>
    }
}

/// Puts the focus on the field whose problem is at `path` (the one its `aria-describedby`
/// names), or brings the problem into view when it belongs to no single field (an empty group).
fn focus_field(path: &str) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let id = error_id(path);
    let field = document
        .query_selector(&format!("[aria-describedby~=\"{id}\"]"))
        .ok()
        .flatten()
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
    match field {
        Some(field) => {
            let _ = field.focus();
        }
        None => {
            if let Some(message) = document.get_element_by_id(&id) {
                message.scroll_into_view();
            }
        }
    }
}
