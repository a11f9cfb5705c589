use jiff::civil::{Date, Time};
use leptos::prelude::*;
use shared::schedule::{Repeat, ScheduleKind, Weekday, hhmm};

use crate::{
    components::wizard::{EndFields, FieldErrors, error_id},
    contexts::editor_context::use_editor,
};

/// A change to the parts of a recurring schedule this form edits.
type RecurringEdit = Box<dyn FnOnce(&mut Repeat, &mut Time, &mut Date)>;

/// The pattern of a recurring schedule: every N days, weeks (on weekdays) or months (on days of
/// the month), a time of day, a start date and an end.
#[component]
pub fn RecurringFields() -> impl IntoView {
    let editor = use_editor();
    let parts = Memo::new(move |_| {
        editor
            .draft
            .with(|d| match d.schedule.as_ref().map(|s| &s.kind) {
                Some(ScheduleKind::Recurring {
                    repeat,
                    time,
                    start_date,
                    ..
                }) => Some((repeat.clone(), *time, *start_date)),
                _ => None,
            })
    });
    let repeat = move || parts.get().map(|p| p.0);
    let edit_recurring = move |f: RecurringEdit| {
        editor.edit_schedule(|s| {
            if let ScheduleKind::Recurring {
                repeat,
                time,
                start_date,
                ..
            } = &mut s.kind
            {
                f(repeat, time, start_date);
            }
        })
    };
    let unit = move || match repeat() {
        Some(Repeat::Weeks { .. }) => "weeks",
        Some(Repeat::Months { .. }) => "months",
        _ => "days",
    };
    let interval = move || match repeat() {
        Some(
            Repeat::Days { interval }
            | Repeat::Weeks { interval, .. }
            | Repeat::Months { interval, .. },
        ) => interval,
        None => 1,
    };
    let set_unit = move |u: String| {
        let n = interval();
        edit_recurring(Box::new(
            move |r: &mut Repeat, _: &mut Time, start: &mut Date| {
                *r = match u.as_str() {
                    "weeks" => Repeat::Weeks {
                        interval: n,
                        weekdays: vec![Weekday::from_jiff(start.weekday())],
                    },
                    "months" => Repeat::Months {
                        interval: n,
                        days: vec![start.day() as u8],
                    },
                    _ => Repeat::Days { interval: n },
                }
            },
        ))
    };
    let set_interval = move |n: u32| {
        edit_recurring(Box::new(
            move |r: &mut Repeat, _: &mut Time, _: &mut Date| match r {
                Repeat::Days { interval }
                | Repeat::Weeks { interval, .. }
                | Repeat::Months { interval, .. } => *interval = n,
            },
        ))
    };
    let has_weekday = move |w: Weekday| matches!(repeat(), Some(Repeat::Weeks { weekdays, .. }) if weekdays.contains(&w));
    let toggle_weekday = move |w: Weekday| {
        edit_recurring(Box::new(
            move |r: &mut Repeat, _: &mut Time, _: &mut Date| {
                if let Repeat::Weeks { weekdays, .. } = r {
                    toggle(weekdays, w);
                    weekdays.sort();
                }
            },
        ))
    };
    let has_day =
        move |n: u8| matches!(repeat(), Some(Repeat::Months { days, .. }) if days.contains(&n));
    let toggle_day = move |n: u8| {
        edit_recurring(Box::new(
            move |r: &mut Repeat, _: &mut Time, _: &mut Date| {
                if let Repeat::Months { days, .. } = r {
                    toggle(days, n);
                    days.sort();
                }
            },
        ))
    };
    view! {
        <div class="field-row">
            <div class="field">
                <label for="repeat-interval">"Repeat every"</label>
                <input id="repeat-interval" type="number" min="1" class="input--short"
                    aria-describedby=error_id("schedule.repeat.interval")
                    prop:value=move || interval().to_string()
                    on:input=move |ev| { if let Ok(n) = event_target_value(&ev).parse::<u32>() { set_interval(n) } }
                />
            </div>
            <div class="field">
                <label for="repeat-unit">"Unit"</label>
                <select id="repeat-unit" on:change=move |ev| set_unit(event_target_value(&ev))>
                    <option value="days" prop:selected=move || unit() == "days">"days"</option>
                    <option value="weeks" prop:selected=move || unit() == "weeks">"weeks"</option>
                    <option value="months" prop:selected=move || unit() == "months">"months"</option>
                </select>
            </div>
        </div>
        <FieldErrors path="schedule.repeat.interval" />
        <Show when=move || unit() == "weeks">
            <fieldset class="field choice-group choice-group--row">
                <legend>"On these days of the week"</legend>
                {Weekday::ALL.into_iter().map(|w| view! {
                    <label class="choice">
                        <input type="checkbox" prop:checked=move || has_weekday(w) on:change=move |_| toggle_weekday(w) />
                        {w.name()}
                    </label>
                }).collect_view()}
            </fieldset>
            <FieldErrors path="schedule.repeat.weekdays" />
        </Show>
        <Show when=move || unit() == "months">
            <fieldset class="field choice-group month-days">
                <legend>"On these days of the month"</legend>
                {(1..=31u8).map(|n| view! {
                    <label class="choice">
                        <input type="checkbox" prop:checked=move || has_day(n) on:change=move |_| toggle_day(n) />
                        {n.to_string()}
                    </label>
                }).collect_view()}
            </fieldset>
            <FieldErrors path="schedule.repeat.days" />
        </Show>
        <div class="field-row">
            <div class="field">
                <label for="repeat-time">"Time of day"</label>
                <input id="repeat-time" type="time"
                    prop:value=move || parts.get().map(|p| hhmm(p.1)).unwrap_or_default()
                    on:input=move |ev| { if let Ok(t) = event_target_value(&ev).parse::<Time>() {
                        edit_recurring(Box::new(move |_: &mut Repeat, time: &mut Time, _: &mut Date| *time = t))
                    } }
                />
            </div>
            <div class="field">
                <label for="start-date">"Start date"</label>
                <input id="start-date" type="date" aria-describedby=error_id("schedule.start_date")
                    prop:value=move || parts.get().map(|p| p.2.to_string()).unwrap_or_default()
                    on:input=move |ev| { if let Ok(d) = event_target_value(&ev).parse::<Date>() {
                        edit_recurring(Box::new(move |_: &mut Repeat, _: &mut Time, start: &mut Date| *start = d))
                    } }
                />
                <FieldErrors path="schedule.start_date" />
            </div>
        </div>
        <EndFields />
    }
}

fn toggle<T: PartialEq>(items: &mut Vec<T>, item: T) {
    if let Some(pos) = items.iter().position(|x| *x == item) {
        items.remove(pos);
    } else {
        items.push(item);
    }
}
