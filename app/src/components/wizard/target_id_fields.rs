use leptos::prelude::*;
use shared::campaign::FacebookTarget;

use crate::{components::wizard::error_id, contexts::editor_context::use_editor};

/// The ad account, campaign and ad set ids as text, for when the Graph API lists are not
/// reachable or an id is known already; checked by the shared rules as they are typed.
#[component]
pub fn TargetIdFields() -> impl IntoView {
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
                <input id=id type="text" autocomplete="off"
                    aria-describedby=format!("{id}-hint {}", error_id(path))
                    prop:value=move || target.with(get)
                    on:input=move |ev| edit_target(set, event_target_value(&ev).trim().to_owned())
                />
                <p id=format!("{id}-hint") class="field__hint">{hint}</p>
            </div>
        }
    };
    view! {
        {id_field("ad-account", "Ad account id", "act_ followed by digits, e.g. act_1234567890",
            "target.ad_account_id", |t| t.ad_account_id.clone(), |t, v| t.ad_account_id = v)}
        {id_field("fb-campaign", "Facebook campaign id", "Digits only",
            "target.campaign_id", |t| t.campaign_id.clone(), |t, v| t.campaign_id = v)}
        {id_field("ad-set", "Ad set id", "Digits only",
            "target.ad_set_id", |t| t.ad_set_id.clone(), |t, v| t.ad_set_id = v)}
    }
}
