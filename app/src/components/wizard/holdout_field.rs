use leptos::prelude::*;
use shared::holdout::MAX_HOLDOUT_PERCENT;

use crate::{
    components::wizard::{FieldErrors, error_id},
    contexts::editor_context::use_editor,
    number_text::parse_number,
};

/// The Who step's holdout: the share of the segment kept out of the Facebook audience, so the
/// stats page can show the campaign's lift. Checked by `shared::holdout` like every field.
#[component]
pub fn HoldoutField() -> impl IntoView {
    let editor = use_editor();
    let invalid = move || !editor.errors_at("holdout_percent").is_empty();
    let value = move || {
        editor
            .draft
            .with(|d| d.holdout_percent.map(|p| p.to_string()).unwrap_or_default())
    };
    view! {
        <div class="field holdout-field">
            <label for="holdout-percent">"Holdout (optional), % of the segment"</label>
            <input
                id="holdout-percent"
                type="number"
                min="0"
                max=MAX_HOLDOUT_PERCENT.to_string()
                step="1"
                inputmode="numeric"
                placeholder="Off"
                aria-describedby=format!("{} holdout-hint", error_id("holdout_percent"))
                aria-invalid=move || invalid().to_string()
                prop:value=value
                on:input=move |ev| {
                    let raw = event_target_value(&ev);
                    // Empty is "no holdout"; the browser leaves a non-number empty too.
                    let percent = parse_number(&raw);
                    editor.edit(|d| d.holdout_percent = percent);
                }
            />
            <p class="field__hint" id="holdout-hint">
                "These people are never sent to Facebook; the stats page compares their conversions with the audience's. "
                "Who is held out is decided by a hash of the campaign and each person's identity, so a person stays "
                "in the same group at every run. Raising it later moves some audience members into the holdout "
                "(they are removed at the next run); lowering it sends some held-out people at the next run."
            </p>
            <FieldErrors path="holdout_percent" />
        </div>
    }
}
