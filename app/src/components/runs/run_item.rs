use leptos::prelude::*;
use shared::sync::{RunRow, duration_label};

use crate::components::layout::LocalTime;

/// One run in the history: how it started, its state, a progress bar while it is in flight, and
/// what it did (or what went wrong, and what to do about it).
#[component]
pub fn RunItem(run: RunRow) -> impl IntoView {
    let title = run.trigger_label();
    let state_class = format!("run__state run__state--{}", run.state);
    let when = run.started_at.clone().unwrap_or_else(|| run.run_at.clone());
    let duration = run.duration_ms.map(duration_label);
    let late = run.late.then(|| {
        if run.missed_slots > 0 {
            format!(
                "Ran late (the server was down); {} missed run(s) folded in",
                run.missed_slots
            )
        } else {
            "Ran late (the server was down)".to_owned()
        }
    });
    let progress = run.in_flight().then(|| {
        let text = match (run.phase.as_str(), run.percent_done()) {
            ("sending", Some(pct)) => format!(
                "Sending {} of {} people ({pct}%)",
                run.rows_done, run.rows_total
            ),
            ("computing", _) => "Computing the audience…".to_owned(),
            ("attaching", _) => "Attaching the audience to the ad set…".to_owned(),
            _ if run.state == "retrying" => "Waiting to retry…".to_owned(),
            _ => "Waiting for the worker…".to_owned(),
        };
        let max = run.rows_total.max(1).to_string();
        let value = run.rows_done.to_string();
        view! {
            <div class="run__progress">
                <progress max=max value=value aria-label="Run progress"></progress>
                <span role="status">{text}</span>
            </div>
        }
    });
    let counts: Vec<(&'static str, i64)> = [
        // With a holdout, `members` is who was sent; the held-out rest is counted apart.
        (
            if run.held_out.is_some() {
                "Sent to Facebook"
            } else {
                "In the segment"
            },
            run.members,
        ),
        ("Held out", run.held_out),
        ("Held back: no ads consent", run.consent_held),
        ("Added", run.added),
        ("Removed", run.removed),
        ("Removals held", run.held_removals.filter(|n| *n > 0)),
        ("Invalid", run.invalid_entries.filter(|n| *n > 0)),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v)))
    .collect();
    let size = match (
        run.approx_before_upper,
        run.approx_after_lower,
        run.approx_after_upper,
    ) {
        (Some(before), Some(lo), Some(hi)) => Some(format!(
            "Audience size on Facebook: about {before} before, {lo}–{hi} after"
        )),
        _ => None,
    };
    let invalid = run.invalid_sample_list();
    let invalid = (!invalid.is_empty())
        .then(|| format!("Examples of invalid entries: {}", invalid.join(", ")));
    let state_label = run.state_label();
    let RunRow {
        error,
        advice,
        notes,
        ..
    } = run;
    view! {
        <li class="run" data-testid="run">
            <div class="run__head">
                <strong>{title}</strong>
                <span class=state_class>{state_label}</span>
                <span class="muted"><LocalTime at=when /></span>
                {duration.map(|d| view! { <span class="muted">{format!("took {d}")}</span> })}
            </div>
            {late.map(|l| view! { <p class="run__late">{l}</p> })}
            {progress}
            {(!counts.is_empty()).then(|| view! {
                <dl class="run__counts">
                    {counts.into_iter().map(|(k, v)| view! { <div><dt>{k}</dt><dd>{v.to_string()}</dd></div> }).collect_view()}
                </dl>
            })}
            {size.map(|s| view! { <p class="muted">{s}</p> })}
            {invalid.map(|s| view! { <p class="muted">{s}</p> })}
            {error.map(|e| view! { <p class="notice notice--error">{e}</p> })}
            {advice.map(|a| view! { <p class="field__hint">{a}</p> })}
            {notes.map(|n| n.lines().map(|line| view! { <p class="notice notice--warning">{line.to_owned()}</p> }).collect_view())}
        </li>
    }
}
