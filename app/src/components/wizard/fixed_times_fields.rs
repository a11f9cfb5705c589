use jiff::{ToSpan, civil::DateTime};
use leptos::prelude::*;
use shared::schedule::{ScheduleKind, hhmm};

use crate::{
    components::wizard::{FieldErrors, error_id},
    contexts::editor_context::use_editor,
};

/// `datetime-local` inputs speak `2027-03-07T09:30`.
pub fn input_datetime(dt: DateTime) -> String {
    // Formatted by hand: jiff's strftime engine would add weight to the WASM for one format.
    format!("{}T{}", dt.date(), hhmm(dt.time()))
}

/// The date-times of a "once" or "multiple" schedule, one native input each.
#[component]
pub fn FixedTimesFields() -> impl IntoView {
    let editor = use_editor();
    let times = Memo::new(move |_| {
        editor
            .draft
            .with(|d| match d.schedule.as_ref().map(|s| &s.kind) {
                Some(ScheduleKind::Once { at }) => (false, vec![*at]),
                Some(ScheduleKind::Multiple { times }) => (true, times.clone()),
                _ => (false, Vec::new()),
            })
    });
    let multiple = move || times.with(|t| t.0);
    let set_time = move |i: usize, dt: DateTime| {
        editor.edit_schedule(|s| match &mut s.kind {
            ScheduleKind::Once { at } => *at = dt,
            ScheduleKind::Multiple { times } => {
                if let Some(t) = times.get_mut(i) {
                    *t = dt;
                }
            }
            _ => {}
        })
    };
    let add = move |_| {
        editor.edit_schedule(|s| {
            if let ScheduleKind::Multiple { times } = &mut s.kind {
                let next = times.last().and_then(|t| t.checked_add(1.day()).ok());
                times.extend(next);
            }
        })
    };
    let remove = move |i: usize| {
        editor.edit_schedule(|s| {
            if let ScheduleKind::Multiple { times } = &mut s.kind
                && i < times.len()
            {
                times.remove(i);
            }
        })
    };
    view! {
        <div class="field-group">
            // Keyed by position: the inputs read their value from the draft, so removing one
            // simply shows the following times one row up.
            <For each=move || 0..times.with(|t| t.1.len()) key=|i| *i let:i>
                {
                    let path = if multiple() { format!("schedule.times[{i}]") } else { "schedule.at".to_owned() };
                    let input_id = format!("schedule-time-{i}");
                    let label = if multiple() { format!("Date and time {}", i + 1) } else { "Date and time".to_owned() };
                    let value = move || times.with(|t| t.1.get(i).copied().map(input_datetime).unwrap_or_default());
                    view! {
                        <div class="field field--inline">
                            <label for=input_id.clone()>{label}</label>
                            <input
                                id=input_id
                                type="datetime-local"
                                aria-describedby=error_id(&path)
                                prop:value=value
                                on:input=move |ev| {
                                    if let Ok(dt) = event_target_value(&ev).parse::<DateTime>() {
                                        set_time(i, dt);
                                    }
                                }
                            />
                            <Show when=multiple>
                                <button type="button" class="button button--quiet" on:click=move |_| remove(i)>
                                    {format!("Remove time {}", i + 1)}
                                </button>
                            </Show>
                            <FieldErrors path=path.clone() />
                        </div>
                    }
                }
            </For>
            <Show when=multiple>
                <FieldErrors path="schedule.times" />
                <button type="button" class="button" on:click=add>"Add a date and time"</button>
            </Show>
        </div>
    }
}
