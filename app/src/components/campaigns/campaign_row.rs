use leptos::prelude::*;
use leptos_router::components::A;
use shared::{
    campaign::{Campaign, CampaignAction},
    label::Label,
    schedule::{Weekday, hhmm, short_date, time_zone},
};

use crate::{api::StatusAction, components::campaigns::RowAction};

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
    let next_run = next_run_text(&c);
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
    let allows = move |a: CampaignAction| c.status.allows(a);
    let button = move |action: RowAction, text: &'static str| {
        let aria = format!("{text} {name}");
        view! {
            <button type="button" class="button button--small" aria-label=aria
                on:click=move |_| on_action.run((id, action))>{text}</button>
        }
    };
    let stats_label = format!("View stats of {}", c.name);
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

/// "Mon 7 Apr 2027, 09:00 Asia/Kolkata", in the schedule's own zone.
fn next_run_text(c: &Campaign) -> String {
    let (Some(at), Some(schedule)) = (c.next_run_at, c.schedule.as_ref()) else {
        return "—".into();
    };
    match time_zone(&schedule.time_zone) {
        Ok(tz) => {
            let local = at.to_zoned(tz).datetime();
            format!(
                "{} {}, {} {}",
                Weekday::from_jiff(local.date().weekday()).short_name(),
                short_date(local.date()),
                hhmm(local.time()),
                schedule.time_zone
            )
        }
        Err(_) => at.to_string(),
    }
}
