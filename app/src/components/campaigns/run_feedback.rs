use leptos::prelude::*;
use leptos_router::components::A;

use crate::components::runs::RunOutcome;

/// What came of "Run now" or "Dry run" in the list, above it, with the way to the run history.
/// (An inline message until the app has toasts.)
#[component]
pub fn RunFeedback(
    campaign_id: i64,
    name: String,
    outcome: RunOutcome,
    on_dismiss: Callback<()>,
) -> impl IntoView {
    let runs_link = move |text: &'static str| {
        view! { <A href=format!("/campaigns/{campaign_id}/stats")>{text}</A> }
    };
    let (class, role, text, link) = match outcome {
        RunOutcome::Queued => (
            "notice notice--ok",
            "status",
            " is queued to run now. ".to_owned(),
            Some(runs_link("Follow it in its sync runs")),
        ),
        RunOutcome::Dry(run) => (
            "notice notice--ok",
            "status",
            format!(
                ": {}{} Nothing was sent to Facebook. ",
                run.dry_run_summary(),
                run.held_note().map(|h| format!(" {h}")).unwrap_or_default()
            ),
            Some(runs_link("See it in its sync runs")),
        ),
        RunOutcome::Failed(message) => (
            "notice notice--error",
            "alert",
            format!(": {message}"),
            None,
        ),
    };
    view! {
        <div class=format!("{class} run-feedback") role=role data-testid="run-feedback">
            "“" {name} "”" {text}
            {link}
            " "
            <button type="button" class="link-button" on:click=move |_| on_dismiss.run(())>"Dismiss"</button>
        </div>
    }
}
