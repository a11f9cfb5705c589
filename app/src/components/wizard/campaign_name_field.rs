use leptos::prelude::*;

use crate::{
    components::wizard::{FieldErrors, error_id},
    contexts::editor_context::use_editor,
};

/// The campaign's name, above the steps because every step belongs to it.
#[component]
pub fn CampaignNameField() -> impl IntoView {
    let editor = use_editor();
    let invalid = move || !editor.errors_at("name").is_empty();
    view! {
        <div class="field wizard__name">
            <label for="campaign-name">"Campaign name"</label>
            <input
                id="campaign-name"
                type="text"
                maxlength="200"
                aria-describedby=error_id("name")
                aria-invalid=move || invalid().to_string()
                prop:value=move || editor.draft.with(|d| d.name.clone())
                on:input=move |ev| {
                    let name = event_target_value(&ev);
                    editor.edit(|d| d.name = name);
                }
            />
            <FieldErrors path="name" />
        </div>
    }
}
