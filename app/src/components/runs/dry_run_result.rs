use leptos::prelude::*;
use shared::sync::{DryRunSample, RunRow};

/// What a dry run found: who would be added and removed now. Nothing was sent to Facebook.
#[component]
pub fn DryRunResult(run: RunRow) -> impl IntoView {
    let n = |v: Option<i64>| v.unwrap_or(0);
    let summary = format!(
        "Dry run: {} in the segment; {} would be added and {} removed.",
        n(run.members),
        n(run.added),
        n(run.removed)
    );
    let held = run.held_removals.filter(|h| *h > 0).map(|h| {
        format!("{h} removal(s) would be held back: the audience would fall under 100 people.")
    });
    let sample = run
        .sample
        .and_then(|s| serde_json::from_str::<DryRunSample>(&s).ok())
        .unwrap_or_default();
    let list = |label: &'static str, names: Vec<String>| {
        (!names.is_empty()).then(
            || view! { <p class="field__hint">{format!("{label}: {}", names.join(", "))}</p> },
        )
    };
    view! {
        <section class="run-dry" aria-labelledby="dry-run-heading" data-testid="dry-run-result">
            <h3 id="dry-run-heading">"Dry run result"</h3>
            <p role="status">{summary}</p>
            {held.map(|h| view! { <p class="field__hint">{h}</p> })}
            {list("Would add, for example", sample.add)}
            {list("Would remove, for example", sample.remove)}
            <p class="muted">"Nothing was sent to Facebook."</p>
        </section>
    }
}
