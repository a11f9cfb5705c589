use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::{
        self, StatusAction,
        load::{Act, Load},
    },
    components::campaigns::{
        CampaignFilters, CampaignTable, NewCampaignButton, RowAction, RunFeedback, RunNotice,
        list_query::ListQuery,
    },
    contexts::session_context::use_session,
};

/// `/campaigns`: every campaign with its status, schedule, next run and labels; filtered,
/// searched and sorted by the URL query.
#[component]
pub fn CampaignsPage() -> impl IntoView {
    let query = use_query_map();
    let session = use_session();
    let list_query = Memo::new(move |_| query.with(ListQuery::from_params));
    let labels = Load::new(api::list_labels);
    let all_labels = Signal::derive(move || labels.get().and_then(Result::ok).unwrap_or_default());

    let act = Act::new(|(id, action): (i64, RowAction)| async move {
        match action {
            RowAction::Status(a) => api::change_status_from_list(id, a).await,
            RowAction::Stop => api::change_status_from_list(id, StatusAction::Stop).await,
            RowAction::Duplicate => api::duplicate_campaign(id).await,
            RowAction::Delete => api::delete_campaign(id).await,
        }
    });
    let on_action = Callback::new(move |(id, action): (i64, RowAction)| {
        let question = match action {
            RowAction::Stop => Some("Stop this campaign for good? It will not run again."),
            RowAction::Delete => Some("Delete this draft? This cannot be undone."),
            _ => None,
        };
        if question.is_none_or(confirm) {
            act.dispatch((id, action));
        }
    });
    // What came of the latest "Run now" or "Dry run" (id, name, outcome), until dismissed.
    let run_feedback = RwSignal::new(None::<(i64, String, RunNotice)>);
    let runs_started = RwSignal::new(0u32);
    let on_run = Callback::new(move |run| {
        run_feedback.set(Some(run));
        runs_started.update(|n| *n += 1);
    });
    // Refetch after every action: the server decides the new status and next run (and a run
    // just queued shows in the last sync column).
    let campaigns = Load::new(move || {
        let filter = list_query.with(ListQuery::filter);
        act.version().get();
        runs_started.get();
        api::list_campaigns(filter)
    });
    let action_error = move || match act.value().get() {
        Some(Err(err)) => Some(err.to_string()),
        _ => None,
    };

    view! {
        <Title text="Campaigns" />
        <div class="page-header">
            <h1>"Campaigns"</h1>
            <NewCampaignButton />
        </div>
        <CampaignFilters labels=all_labels />
        <p class="notice notice--error" role="alert" hidden=move || action_error().is_none()>{action_error}</p>
        {move || run_feedback.get().map(|(id, name, notice)| view! {
            <RunFeedback campaign_id=id name=name notice=notice
                on_dismiss=Callback::new(move |()| run_feedback.set(None)) />
        })}
        // Busy while a newer list is on its way: the last one stays on screen until then.
        <section class="loading-region" aria-label="Campaign list" aria-busy=move || campaigns.loading().to_string()>
            // Rendered again when the user (and so the role) is known: rows show what it allows.
            {move || { session.user.track(); match campaigns.get() {
                None => view! { <p class="loading">"Loading campaigns…"</p> }.into_any(),
                Some(Err(err)) => view! {
                    <div class="notice notice--error" role="alert">
                        {format!("The campaigns could not be loaded: {err}")}
                        " "
                        <button type="button" class="link-button" on:click=move |_| campaigns.refetch()>"Retry"</button>
                    </div>
                }.into_any(),
                Some(Ok(list)) if list.is_empty() && list_query.get_untracked().is_filtered() => view! {
                    <p class="empty-state">"No campaigns match these filters. " <a href="/campaigns">"Clear the filters"</a></p>
                }.into_any(),
                Some(Ok(list)) if list.is_empty() => view! {
                    <section class="empty-state" aria-labelledby="no-campaigns">
                        <h2 id="no-campaigns">"No campaigns yet"</h2>
                        <p>
                            "A Facebook Audiences campaign keeps a Custom Audience on Facebook in step with a "
                            "segment of your users, on the schedule you choose, and brings the ad stats back here."
                        </p>
                        <ol class="empty-state__steps">
                            <li>"Check " <a href="/settings">"the Facebook connection"</a> " in Settings"</li>
                            <li>"Bring in " <a href="/data">"your users' events and profiles"</a></li>
                            <li>"Create a campaign: when it runs, who is in it, which ad set it feeds"</li>
                        </ol>
                        <NewCampaignButton />
                    </section>
                }.into_any(),
                Some(Ok(list)) => view! {
                    <CampaignTable campaigns=list labels=all_labels on_action=on_action on_run=on_run />
                }.into_any(),
            }}}
        </section>
    }
}

fn confirm(question: &str) -> bool {
    web_sys::window().is_some_and(|w| w.confirm_with_message(question).unwrap_or(false))
}
