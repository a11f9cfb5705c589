use leptos::prelude::*;

use crate::local_time::{instant, schedule_instant};

/// An instant as people read it: in the viewer's time zone, named ("Mon 7 Dec 2026, 15:21 CET"),
/// in a `<time>` whose `datetime` is the exact instant. For a time a schedule is about, pass the
/// campaign's zone: its reading follows when it differs ("(09:00 in Asia/Kolkata)").
#[component]
pub fn LocalTime(
    /// The instant, RFC 3339 (as the API sends it).
    #[prop(into)]
    at: String,
    /// The campaign's time zone, for next runs and other times of its schedule.
    #[prop(optional, into)]
    campaign_zone: Option<String>,
) -> impl IntoView {
    let (text, campaign) = match campaign_zone {
        Some(zone) => schedule_instant(&at, &zone),
        None => (instant(&at), None),
    };
    view! {
        <time datetime=at>{text}</time>
        {campaign.map(|c| view! { " " <span class="local-time__campaign">{format!("({c})")}</span> })}
    }
}
