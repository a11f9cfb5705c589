use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::Outlet, hooks::use_params_map};

use crate::{
    api::{self, load::Load},
    components::wizard::{CampaignNameField, SaveIndicator, StepRail},
    contexts::editor_context::Editor,
};

/// `/campaigns/{id}/edit/{step}`: the wizard. It loads the campaign once and stays mounted while
/// the user moves between steps (each step is a child route), so nothing typed is reloaded away.
#[component]
pub fn CampaignEditPage() -> impl IntoView {
    let params = use_params_map();
    let id = params.with_untracked(|p| p.get("id").and_then(|s| s.parse::<i64>().ok()));
    let editor = Editor::new(id.unwrap_or(0));
    provide_context(editor);
    on_cleanup(move || editor.save_on_leave());

    let campaign = Load::new(move || async move {
        match id {
            Some(id) => api::get_campaign(id).await,
            None => Err(api::ClientError::Network("no such campaign".into())),
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(c)) = campaign.get() {
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
    let load_error = move || match campaign.get() {
        Some(Err(err)) => Some(err.to_string()),
        _ => None,
    };

    view! {
        <Title text="Edit campaign" />
        <div class="page-header">
            <h1>"Facebook Audiences campaign"</h1>
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
                <CampaignNameField />
                <div class="wizard">
                    <StepRail />
                    <section class="wizard__step card">
                        <Outlet />
                    </section>
                </div>
            }.into_any(),
        }}
    }
}
