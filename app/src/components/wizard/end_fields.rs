use jiff::{ToSpan, civil::Date};
use leptos::prelude::*;
use shared::schedule::{End, ScheduleKind};

use crate::{
    components::wizard::{FieldErrors, error_id},
    contexts::editor_context::use_editor,
};

/// When a recurring schedule stops: never, on a date, or after a number of runs.
#[component]
pub fn EndFields() -> impl IntoView {
    let editor = use_editor();
    let end = Memo::new(move |_| {
        editor
            .draft
            .with(|d| match d.schedule.as_ref().map(|s| &s.kind) {
                Some(ScheduleKind::Recurring {
                    end, start_date, ..
                }) => (end.clone(), *start_date),
                _ => (End::Never, jiff::civil::date(2000, 1, 1)),
            })
    });
    let set_end = move |e: End| {
        editor.edit_schedule(|s| {
            if let ScheduleKind::Recurring { end, .. } = &mut s.kind {
                *end = e;
            }
        })
    };
    let kind = move || match end.get().0 {
        End::Never => "never",
        End::OnDate { .. } => "on_date",
        End::AfterRuns { .. } => "after_runs",
    };
    // A radio choice: shown at once, saved once the user settles (`Editor::choose`).
    let choose = move |k: &str| {
        let start = end.get_untracked().1;
        let e = match k {
            "on_date" => End::OnDate {
                date: start.checked_add(1.month()).unwrap_or(start),
            },
            "after_runs" => End::AfterRuns { runs: 10 },
            _ => End::Never,
        };
        editor.choose(|d| {
            if let Some(ScheduleKind::Recurring { end, .. }) =
                d.schedule.as_mut().map(|s| &mut s.kind)
            {
                *end = e;
            }
        })
    };
    let radio = move |value: &'static str, text: &'static str| {
        view! {
            <label class="choice">
                <input type="radio" name="schedule-end" value=value
                    prop:checked=move || kind() == value on:change=move |_| choose(value) />
                {text}
            </label>
        }
    };
    view! {
        <fieldset class="field choice-group">
            <legend>"Ends"</legend>
            {radio("never", "Never")}
            {radio("on_date", "On a date")}
            {radio("after_runs", "After a number of runs")}
        </fieldset>
        <Show when=move || kind() == "on_date">
            <div class="field">
                <label for="end-date">"End date"</label>
                <input id="end-date" type="date" aria-describedby=error_id("schedule.end.date")
                    prop:value=move || match end.get().0 { End::OnDate { date } => date.to_string(), _ => String::new() }
                    on:input=move |ev| { if let Ok(date) = event_target_value(&ev).parse::<Date>() {
                        set_end(End::OnDate { date })
                    } }
                />
                <FieldErrors path="schedule.end.date" />
            </div>
        </Show>
        <Show when=move || kind() == "after_runs">
            <div class="field">
                <label for="end-runs">"Number of runs"</label>
                <input id="end-runs" type="number" min="1" max="1000" class="input--short"
                    aria-describedby=error_id("schedule.end.runs")
                    prop:value=move || match end.get().0 { End::AfterRuns { runs } => runs.to_string(), _ => String::new() }
                    on:input=move |ev| { if let Ok(runs) = event_target_value(&ev).parse::<u32>() {
                        set_end(End::AfterRuns { runs })
                    } }
                />
                <FieldErrors path="schedule.end.runs" />
            </div>
        </Show>
    }
}
