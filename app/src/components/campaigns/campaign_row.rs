use leptos::prelude::*;
use leptos_router::components::A;
use shared::{
    campaign::CampaignAction,
    campaign_list::CampaignListItem,
    label::Label,
    sync::{LastRun, last_sync_parts},
};

use crate::{
    api::StatusAction,
    components::{
        campaigns::{RowAction, RunMenu, RunNotice},
        layout::LocalTime,
    },
    contexts::session_context::use_session,
    lazy_pages::prefetch_wizard,
};

/// One campaign in the list, with the actions its status allows.
#[component]
pub fn CampaignRow(
    campaign: CampaignListItem,
    /// Every label, to name the campaign's label ids.
    #[prop(into)]
    labels: Signal<Vec<Label>>,
    /// Runs an action on this campaign.
    on_action: Callback<(i64, RowAction)>,
    /// What came of "Run now" or "Dry run" (id, name, outcome).
    on_run: Callback<(i64, String, RunNotice)>,
) -> impl IntoView {
    let c = campaign;
    let id = c.id;
    let name = c.name.clone();
    // The server computed the schedule's text and the next run; the browser shows the instants
    // in the viewer's zone (the next run on the campaign's clock too).
    let columns = c.list_columns.clone();
    let next_run = match (columns.next_run_at.clone(), c.schedule.clone()) {
        (Some(at), Some(s)) => view! { <LocalTime at=at campaign_zone=s.time_zone /> }.into_any(),
        _ => columns.next_run.clone().into_any(),
    };
    let last_sync = c.last_run.as_ref().map_or_else(
        || "—".into_any(),
        |last| {
            let (state, finished, counts) = last_sync_parts(last);
            let finished = finished.map(|at| view! { " " <LocalTime at=at.to_owned() /> });
            view! { {state} {finished} {counts} }.into_any()
        },
    );
    let label_ids = c.labels.clone();
    let label_names = move || {
        labels.with(|all| {
            label_ids
                .iter()
                .filter_map(|id| all.iter().find(|l| l.id == *id))
                .map(|l| l.name.clone())
                .collect::<Vec<_>>()
        })
    };
    // Viewers see no actions at all (the server would refuse them with 403).
    let can_edit = use_session().can_edit();
    let allows = move |a: CampaignAction| can_edit && c.status.allows(a);
    let button = move |action: RowAction, text: &'static str| {
        let aria = format!("{text} {name}");
        view! {
            <button type="button" class="button button--small" aria-label=aria
                on:click=move |_| on_action.run((id, action))>{text}</button>
        }
    };
    let stats_label = format!("View stats of {}", c.name);
    // "Run now" and "Dry run", as on the stats page, for those who may edit.
    let run_menu = allows(CampaignAction::DryRun).then(|| {
        let name = c.name.clone();
        let on_notice = Callback::new(move |notice| on_run.run((id, name.clone(), notice)));
        view! {
            <RunMenu campaign_id=id name=c.name.clone() run_now=allows(CampaignAction::RunNow)
                busy=c.last_run.as_ref().is_some_and(LastRun::in_flight) on_notice=on_notice />
        }
    });
    let audience_size = c
        .last_run
        .as_ref()
        .and_then(|r| r.audience_size)
        .and_then(|n| u64::try_from(n).ok())
        .map_or_else(|| "—".to_owned(), shared::stats::format_count);
    let edit_step = if c.status.allows(CampaignAction::Publish) {
        "when"
    } else {
        "overview"
    };
    view! {
        <tr>
            <th scope="row" class="campaigns__name">
                {if allows(CampaignAction::Edit) {
                    view! {
                        <A href=format!("/campaigns/{id}/edit/{edit_step}")
                            on:pointerenter=|_| prefetch_wizard() on:focus=|_| prefetch_wizard()>
                            {c.name.clone()}
                        </A>
                    }.into_any()
                } else {
                    view! { <span>{c.name.clone()}</span> }.into_any()
                }}
            </th>
            <td data-label="Status"><span class=format!("status status--{}", crate::api::status_param(c.status))>{c.status.label()}</span></td>
            <td data-label="Schedule">{columns.schedule}</td>
            <td data-label="Next run" data-testid="next-run">{next_run}</td>
            <td data-label="Labels">
                <ul class="label-list">
                    {move || label_names().into_iter().map(|n| view! { <li class="label-chip">{n}</li> }).collect_view()}
                </ul>
            </td>
            // The latest sync run: the audience size after the last success, and how it ended.
            <td class="campaigns__number" data-label="Audience size" data-testid="audience-size">{audience_size}</td>
            <td class="campaigns__sync" data-label="Last sync" data-testid="last-sync">{last_sync}</td>
            <td class="campaigns__actions">
                {allows(CampaignAction::ViewStats).then(|| view! {
                    <A href=format!("/campaigns/{id}/stats") attr:class="button button--small"
                        attr:aria-label=stats_label>"View stats"</A>
                })}
                {run_menu}
                {allows(CampaignAction::Pause).then(|| button(RowAction::Status(StatusAction::Pause), "Pause"))}
                {allows(CampaignAction::Resume).then(|| button(RowAction::Status(StatusAction::Resume), "Resume"))}
                {allows(CampaignAction::Stop).then(|| button(RowAction::Stop, "Stop"))}
                {allows(CampaignAction::Duplicate).then(|| button(RowAction::Duplicate, "Duplicate"))}
                {allows(CampaignAction::Delete).then(|| button(RowAction::Delete, "Delete"))}
            </td>
        </tr>
    }
}
