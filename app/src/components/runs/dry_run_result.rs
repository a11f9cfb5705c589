use leptos::prelude::*;
use shared::sync::{DryRunSample, RunStarted};

/// What a dry run found: who would be added and removed now. Nothing was sent to Facebook.
#[component]
pub fn DryRunResult(run: RunStarted) -> impl IntoView {
    let summary = run.dry_run_summary();
    let held = run.held_note();
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
