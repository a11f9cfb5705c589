use leptos::{ev::FocusEvent, prelude::*};
use leptos_meta::Title;
use leptos_router::{
    NavigateOptions,
    components::Outlet,
    hooks::{use_location, use_navigate, use_params_map},
};

use wasm_bindgen::JsCast;
use web_sys::{Element, EventTarget};

use crate::{
    api::{self, load::Load},
    components::wizard::{
        CampaignNameField, STEPS, SaveIndicator, StepNav, StepRail, step_at, use_current_step,
    },
    contexts::editor_context::{Editor, UNTITLED},
};

/// `/campaigns/{id}/edit/{step}`: the wizard. It loads the campaign once and stays mounted while
/// the user moves between steps (each step is a child route), so nothing typed is reloaded away.
/// `/campaigns/new/edit/{step}` is a campaign not stored yet: its first save creates it, and the
/// URL then takes its id (the same route, so the wizard stays as it is).
#[component]
pub fn CampaignEditPage() -> impl IntoView {
    let params = use_params_map();
    // `None`: not a campaign id; `Some(0)`: a new campaign.
    let id = params.with_untracked(|p| match p.get("id").as_deref() {
        Some("new") => Some(0),
        Some(s) => s.parse::<i64>().ok().filter(|id| *id > 0),
        None => None,
    });
    let editor = Editor::new(id.unwrap_or(0));
    provide_context(editor);
    if id == Some(0) {
        editor.loaded.set(true);
    }
    on_cleanup(move || editor.save_on_leave());

    let campaign = Load::new(move || async move {
        match id {
            Some(0) => Ok(None),
            Some(id) => api::get_campaign(id).await.map(Some),
            None => Err(api::ClientError::Network("no such campaign".into())),
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(Some(c))) = campaign.get() {
            editor.load(&c);
        }
    });
    // The schedule math needs the schedule's time zone, which loads after the campaign. A memo,
    // so that editing the draft does not rebuild the wizard below.
    let ready = Memo::new(move |_| {
        editor.loaded.get()
            && editor.draft.with(|d| {
                d.schedule
                    .as_ref()
                    .is_none_or(|s| editor.zones.is_settled(&s.time_zone))
            })
    });
    // A campaign opened again shows what is wrong with it at once (once its zone is known, for
    // the schedule's checks).
    Effect::new(move |shown: Option<bool>| {
        if shown == Some(true) || id == Some(0) || !ready.get() {
            return shown.unwrap_or(false);
        }
        editor.reveal_current();
        true
    });
    let load_error = move || match campaign.get() {
        Some(Err(err)) => Some(err.to_string()),
        _ => None,
    };

    // Once a new campaign has its id, the URL names it (replacing `new`, so Back does not
    // return to an empty wizard).
    let location = use_location();
    let navigate = use_navigate();
    Effect::new(move |_| {
        let id = editor.id();
        let path = location.pathname.get_untracked();
        if id != 0 && path.starts_with("/campaigns/new/") {
            let path = path.replacen("/campaigns/new/", &format!("/campaigns/{id}/"), 1);
            let options = NavigateOptions {
                replace: true,
                scroll: false,
                ..Default::default()
            };
            navigate(&path, options);
        }
    });

    // A step the user leaves shows its problems (they are done with it for now); the Overview
    // shows them all.
    let current = use_current_step();
    Effect::new(move |before: Option<Option<usize>>| {
        let now = current.get();
        if let Some(step) = before
            .flatten()
            .filter(|b| Some(*b) != now)
            .and_then(step_at)
        {
            editor.reveal(step);
        }
        if now == Some(STEPS.len() - 1) {
            editor.reveal_all();
        }
        now
    });

    let name = move || {
        editor.draft.with(|d| match d.name.trim() {
            "" => UNTITLED.to_owned(),
            name => name.to_owned(),
        })
    };
    let title = move || match current.get() {
        Some(i) if ready.get() => format!("{} – {}", name(), STEPS[i].1),
        _ if ready.get() => name(),
        _ => "Campaign".to_owned(),
    };

    view! {
        <Title text=title />
        <div class="page-header wizard__header">
            <div class="wizard__title">
                <h1>{move || if ready.get() { name() } else { "Campaign".to_owned() }}</h1>
                <span class=move || format!("status status--{}", api::status_param(editor.status.get()))
                    hidden=move || !ready.get()>
                    {move || editor.status.get().label()}
                </span>
            </div>
            <SaveIndicator />
        </div>
        {move || match load_error() {
            Some(err) => view! {
                <p class="notice notice--error" role="alert">
                    {format!("This campaign could not be loaded: {err}")}
                </p>
                <a href="/campaigns">"Back to campaigns"</a>
            }.into_any(),
            None if !ready.get() => view! { <p class="loading">"Loading the campaign…"</p> }.into_any(),
            None => view! {
                <div on:focusout=move |ev| left_field(editor, &ev)>
                    <CampaignNameField />
                    <div class="wizard">
                        <StepRail />
                        <section class="wizard__step card">
                            <Outlet />
                            <StepNav />
                        </section>
                    </div>
                </div>
            }.into_any(),
        }}
    }
}

/// Focus left a field: its problems are shown from now on, and a choice among radio buttons is
/// saved once focus leaves their group (arrow keys move within it).
fn left_field(editor: Editor, ev: &FocusEvent) {
    let element = |target: Option<EventTarget>| target.and_then(|t| t.dyn_into::<Element>().ok());
    let Some(field) = element(ev.target()) else {
        return;
    };
    if let Some(ids) = field.get_attribute("aria-describedby") {
        editor.reveal_field(&ids);
    }
    let radio_group = |e: &Element| {
        (e.get_attribute("type").as_deref() == Some("radio")).then(|| e.get_attribute("name"))
    };
    if let Some(group) = radio_group(&field)
        && element(ev.related_target()).and_then(|next| radio_group(&next)) != Some(group)
    {
        editor.save_pending();
    }
}
