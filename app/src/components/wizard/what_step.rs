use leptos::prelude::*;
use shared::campaign::{ConversionGoal, FacebookTarget, audience_name, is_ad_account_id};

use crate::{
    api::{
        facebook::{self, FbItem},
        load::Load,
    },
    components::wizard::{FbPicker, FieldErrors, StepHeading, TargetIdFields, error_id},
    contexts::editor_context::use_editor,
};

type Listing = Option<Result<Vec<FbItem>, String>>;

/// Step 3, What: the Facebook ad account, campaign and ad set the audience goes to, picked from
/// what the Graph API lists (the sandbox by default); the audience's name; an optional
/// conversion goal from the catalog's events.
#[component]
pub fn WhatStep() -> impl IntoView {
    let editor = use_editor();
    let target = Memo::new(move |_| editor.draft.with(|d| d.target.clone().unwrap_or_default()));
    let account = Memo::new(move |_| target.with(|t| t.ad_account_id.clone()));
    let campaign = Memo::new(move |_| target.with(|t| t.campaign_id.clone()));
    let ad_set = Memo::new(move |_| target.with(|t| t.ad_set_id.clone()));

    let accounts = Load::new(facebook::list_ad_accounts);
    // Each list follows the choice above it; nothing is asked for an id that cannot exist.
    let campaigns = Load::new(move || {
        let account = account.get();
        async move {
            match is_ad_account_id(&account) {
                true => Some(facebook::list_campaigns(account).await),
                false => None,
            }
        }
    });
    let ad_sets = Load::new(move || {
        let campaign = campaign.get();
        async move {
            match !campaign.is_empty() && campaign.bytes().all(|b| b.is_ascii_digit()) {
                true => Some(facebook::list_ad_sets(campaign).await),
                false => None,
            }
        }
    });
    let to_listing = |r: Option<Result<Vec<FbItem>, crate::api::ClientError>>| -> Listing {
        r.map(|r| r.map_err(|e| e.to_string()))
    };
    // The pickers are radio buttons: a choice is saved once the user settles on it.
    let edit_target = move |f: Box<dyn FnOnce(&mut FacebookTarget)>| {
        editor.choose(|d| f(d.target.get_or_insert_with(FacebookTarget::default)))
    };

    let events = Load::new(facebook::list_event_names);
    let goal = Memo::new(move |_| {
        editor.draft.with(|d| {
            d.conversion_goal
                .as_ref()
                .map(|g| g.event.clone())
                .unwrap_or_default()
        })
    });
    let goal_options = move || {
        let mut names = events.get().and_then(Result::ok).unwrap_or_default();
        let current = goal.get();
        if !current.is_empty() && !names.contains(&current) {
            names.insert(0, current);
        }
        names
    };
    let events_error = move || match events.get() {
        Some(Err(err)) => Some(format!("The event list could not be loaded: {err}")),
        _ => None,
    };
    let audience = move || match editor.id() {
        // The name carries the campaign's id, which it gets at its first save.
        0 => "Named after the campaign once it is saved.".to_owned(),
        id => editor.draft.with(|d| audience_name(id, &d.name)),
    };

    view! {
        <StepHeading title="What" />
        <p class="step-intro">
            "Choose the ad set this audience is exported to, so its stats can come back here."
        </p>
        <FbPicker legend="Ad account" plural="ad accounts" path="target.ad_account_id"
            items=Signal::derive(move || to_listing(accounts.get()))
            waiting=Signal::derive(|| None)
            selected=account
            on_select=Callback::new(move |id: String| edit_target(Box::new(move |t| {
                *t = FacebookTarget { ad_account_id: id, ..Default::default() };
            })))
            on_retry=Callback::new(move |()| accounts.refetch()) />
        <FbPicker legend="Facebook campaign" plural="campaigns" path="target.campaign_id"
            items=Signal::derive(move || campaigns.get().flatten().map(|r| r.map_err(|e| e.to_string())))
            waiting=Signal::derive(move || (!is_ad_account_id(&account.get())).then_some("Choose an ad account first."))
            selected=campaign
            on_select=Callback::new(move |id: String| edit_target(Box::new(move |t| {
                t.campaign_id = id;
                t.ad_set_id.clear();
            })))
            on_retry=Callback::new(move |()| campaigns.refetch()) />
        <FbPicker legend="Ad set" plural="ad sets" path="target.ad_set_id"
            items=Signal::derive(move || ad_sets.get().flatten().map(|r| r.map_err(|e| e.to_string())))
            waiting=Signal::derive(move || campaign.get().is_empty().then_some("Choose a Facebook campaign first."))
            selected=ad_set
            on_select=Callback::new(move |id: String| edit_target(Box::new(move |t| t.ad_set_id = id)))
            on_retry=Callback::new(move |()| ad_sets.refetch()) />
        <details class="manual-ids">
            <summary>"Enter the ids yourself"</summary>
            <TargetIdFields />
        </details>
        <div class="field">
            <span class="field__label">"Audience that will be created on Facebook"</span>
            <p class="audience-name">{audience}</p>
            <p class="field__hint">"A Custom Audience with this name is created at the first run and kept in step at every run."</p>
        </div>
        <div class="field">
            <label for="conversion-goal">"Conversion goal event (optional)"</label>
            <select id="conversion-goal" aria-describedby=error_id("conversion_goal.event")
                on:change=move |ev| {
                    let event = event_target_value(&ev);
                    // The empty choice means "no goal", not "a goal with no event".
                    editor.edit(|d| d.conversion_goal = (!event.is_empty()).then_some(ConversionGoal { event }));
                }>
                <option value="" prop:selected=move || goal.get().is_empty()>"No conversion goal"</option>
                <For each=goal_options key=|n| n.clone() let:name>
                    {
                        let selected = name.clone();
                        let value = name.clone();
                        view! { <option value=value prop:selected=move || goal.get() == selected>{name}</option> }
                    }
                </For>
            </select>
            <p class="field-errors__message" hidden=move || events_error().is_none()>{events_error}</p>
            <FieldErrors path="conversion_goal.event" />
        </div>
    }
}
