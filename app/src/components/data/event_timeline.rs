use leptos::{prelude::*, task::spawn_local};
use shared::{
    profile_view::{EventPage, TimelineEvent},
    stats::format_count,
};

use crate::api::profiles as api;

/// The person's events, newest first, with their properties; "Show more" reads the next page.
#[component]
pub fn EventTimeline(identity: String, first: EventPage) -> impl IntoView {
    let total = first.total;
    let events = RwSignal::new(first.events);
    let next = RwSignal::new(first.next_offset);
    let error = RwSignal::new(None::<String>);
    let more = move |_| {
        let Some(offset) = next.get_untracked() else {
            return;
        };
        let identity = identity.clone();
        spawn_local(async move {
            match api::profile_events(identity, offset).await {
                Ok(page) => {
                    events.try_update(|e| e.extend(page.events));
                    next.try_set(page.next_offset);
                    error.try_set(None);
                }
                Err(e) => {
                    error.try_set(Some(format!("More events could not be loaded: {e}")));
                }
            }
        });
    };
    if total == 0 {
        return view! { <p class="field__hint">"No events."</p> }.into_any();
    }
    view! {
        <p class="field__hint" role="status">
            {move || format!("Showing {} of {} events, newest first.", events.with(Vec::len), format_count(total))}
        </p>
        <ol class="timeline" aria-label="Events">
            {move || events.get().into_iter().map(item).collect_view()}
        </ol>
        {move || error.get().map(|e| view! { <p class="notice notice--error" role="alert">{e}</p> })}
        {move || next.get().is_some().then(|| view! {
            <button type="button" class="button" on:click=more.clone()>"Show more events"</button>
        })}
    }
    .into_any()
}

fn item(e: TimelineEvent) -> impl IntoView {
    let when = crate::local_time::instant(&e.at.to_string());
    let props = (!e.properties.is_empty()).then(|| {
        view! {
            <dl class="timeline__props">
                {e.properties
                    .into_iter()
                    .map(|p| view! { <dt>{p.key}</dt><dd>{p.value}</dd> })
                    .collect_view()}
            </dl>
        }
    });
    view! {
        <li class="timeline__event">
            <span class="timeline__name">{e.name}</span>
            " "
            <time class="field__hint" datetime=e.at.to_string()>{when}</time>
            {props}
        </li>
    }
}
