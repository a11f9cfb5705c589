use leptos::prelude::*;
use shared::campaign::{ConversionGoal, FacebookTarget};

use crate::{
    components::wizard::{FieldErrors, error_id},
    contexts::editor_context::use_editor,
};

/// Step 3, What: the Facebook ad set the audience goes to. Until the Graph API pickers exist
/// (they need a sandbox), the ids are typed in and checked by the shared rules.
#[component]
pub fn WhatStep() -> impl IntoView {
    let editor = use_editor();
    let target = Memo::new(move |_| editor.draft.with(|d| d.target.clone().unwrap_or_default()));
    let edit_target = move |f: fn(&mut FacebookTarget, String), value: String| {
        editor.edit(|d| f(d.target.get_or_insert_with(FacebookTarget::default), value))
    };
    let id_field = move |id: &'static str,
                         label: &'static str,
                         hint: &'static str,
                         path: &'static str,
                         get: fn(&FacebookTarget) -> String,
                         set: fn(&mut FacebookTarget, String)| {
        view! {
            <div class="field">
                <label for=id>{label}</label>
                <input id=id type="text" inputmode="text" autocomplete="off"
                    aria-describedby=format!("{id}-hint {}", error_id(path))
                    prop:value=move || target.with(get)
                    on:input=move |ev| edit_target(set, event_target_value(&ev).trim().to_owned())
                />
                <p id=format!("{id}-hint") class="field__hint">{hint}</p>
                <FieldErrors path=path />
            </div>
        }
    };
    let goal = move || {
        editor.draft.with(|d| {
            d.conversion_goal
                .as_ref()
                .map(|g| g.event.clone())
                .unwrap_or_default()
        })
    };
    view! {
        <h2>"What"</h2>
        <p class="step-intro">
            "Choose the ad set this audience is exported to, so its stats can come back here."
        </p>
        {id_field("ad-account", "Ad account id", "act_ followed by digits, e.g. act_1234567890",
            "target.ad_account_id", |t| t.ad_account_id.clone(), |t, v| t.ad_account_id = v)}
        {id_field("fb-campaign", "Facebook campaign id", "Digits only",
            "target.campaign_id", |t| t.campaign_id.clone(), |t, v| t.campaign_id = v)}
        {id_field("ad-set", "Ad set id", "Digits only",
            "target.ad_set_id", |t| t.ad_set_id.clone(), |t, v| t.ad_set_id = v)}
        <div class="field">
            <label for="conversion-goal">"Conversion goal event (optional)"</label>
            <input id="conversion-goal" type="text" aria-describedby=error_id("conversion_goal.event")
                prop:value=goal
                on:input=move |ev| {
                    let event = event_target_value(&ev);
                    // An empty box means "no goal", not "a goal with no event".
                    editor.edit(|d| d.conversion_goal = (!event.trim().is_empty()).then_some(ConversionGoal { event }));
                }
            />
            <FieldErrors path="conversion_goal.event" />
        </div>
    }
}
