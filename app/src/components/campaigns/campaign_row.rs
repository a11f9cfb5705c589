use jiff::Timestamp;
use leptos::prelude::*;
use leptos_router::components::A;
use shared::{
    campaign::{Campaign, CampaignAction, CampaignStatus},
    label::Label,
    schedule::{Weekday, hhmm, next_run_after_in, short_date},
};

use crate::{
    api::StatusAction,
    components::campaigns::RowAction,
    contexts::{
        session_context::use_session,
        time_zones_context::{TimeZoneStore, use_time_zones},
    },
};

/// One campaign in the list, with the actions its status allows.
#[component]
pub fn CampaignRow(
    campaign: Campaign,
    /// Every label, to name the campaign's label ids.
    #[prop(into)]
    labels: Signal<Vec<Label>>,
    /// Runs an action on this campaign.
    on_action: Callback<(i64, RowAction)>,
) -> impl IntoView {
    let c = campaign;
    let id = c.id;
    let name = c.name.clone();
    let summary = c
        .schedule
        .as_ref()
        .map_or_else(|| "No schedule yet".to_owned(), |s| s.summary());
    let zones = use_time_zones();
    let next_run = {
        let c = c.clone();
        move || next_run_text(&c, zones)
    };
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
    let audience_size = c
        .last_run
        .as_ref()
        .and_then(|r| r.audience_size)
        .and_then(|n| u64::try_from(n).ok())
        .map_or_else(|| "—".to_owned(), shared::stats::format_count);
    let last_sync = c
        .last_run
        .as_ref()
        .map_or_else(|| "—".to_owned(), shared::sync::last_sync_text);
    let edit_step = if c.status.allows(CampaignAction::Publish) {
        "when"
    } else {
        "overview"
    };
    view! {
        <tr>
            <th scope="row" class="campaigns__name">
                {if allows(CampaignAction::Edit) {
                    view! { <A href=format!("/campaigns/{id}/edit/{edit_step}")>{c.name.clone()}</A> }.into_any()
                } else {
                    view! { <span>{c.name.clone()}</span> }.into_any()
                }}
            </th>
            <td><span class=format!("status status--{}", crate::api::status_param(c.status))>{c.status.label()}</span></td>
            <td>{summary}</td>
            <td>{next_run}</td>
            <td>
                <ul class="label-list">
                    {move || label_names().into_iter().map(|n| view! { <li class="label-chip">{n}</li> }).collect_view()}
                </ul>
            </td>
            // The latest sync run: the audience size after the last success, and how it ended.
            <td class="campaigns__number" data-testid="audience-size">{audience_size}</td>
            <td class="campaigns__sync" data-testid="last-sync">{last_sync}</td>
            <td class="campaigns__actions">
                {allows(CampaignAction::ViewStats).then(|| view! {
                    <A href=format!("/campaigns/{id}/stats") attr:class="button button--small"
                        attr:aria-label=stats_label>"View stats"</A>
                })}
                {allows(CampaignAction::Pause).then(|| button(RowAction::Status(StatusAction::Pause), "Pause"))}
                {allows(CampaignAction::Resume).then(|| button(RowAction::Status(StatusAction::Resume), "Resume"))}
                {allows(CampaignAction::Stop).then(|| button(RowAction::Stop, "Stop"))}
                {allows(CampaignAction::Duplicate).then(|| button(RowAction::Duplicate, "Duplicate"))}
                {allows(CampaignAction::Delete).then(|| button(RowAction::Delete, "Delete"))}
            </td>
        </tr>
    }
}

/// The next run, "Mon 7 Apr 2027, 09:00 Asia/Kolkata", computed in the browser by the shared
/// schedule rules from the publish instant, in the schedule's own zone. "—" when the campaign
/// will not run (a draft, paused, finished). Until the zone's rules have loaded, the server's
/// `next_run_at` in UTC.
fn next_run_text(c: &Campaign, zones: TimeZoneStore) -> String {
    let runs = c.status.may_run() || c.status == CampaignStatus::Running;
    let (Some(schedule), Some(published), true) = (c.schedule.as_ref(), c.published_at, runs)
    else {
        return "—".into();
    };
    if zones.get(&schedule.time_zone).is_none() {
        zones.ensure(&schedule.time_zone);
        return c.next_run_at.map_or_else(|| "—".into(), |t| t.to_string());
    }
    // A scheduled campaign has not run yet: its first run is next, even if it is just due.
    let after = (c.status != CampaignStatus::Scheduled).then(Timestamp::now);
    let next = zones.with(|z| next_run_after_in(schedule, published, after, z));
    match next {
        Some(run) => format!(
            "{} {}, {} {}",
            Weekday::from_jiff(run.local.date().weekday()).short_name(),
            short_date(run.local.date()),
            hhmm(run.local.time()),
            schedule.time_zone
        ),
        None => "No more runs".into(),
    }
}
