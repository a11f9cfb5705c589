use leptos::prelude::*;
use leptos_router::components::A;

use crate::components::runs::RunOutcome;

/// What came of "Run now" or "Dry run" in the list, in words. The Sync menu's lazily loaded
/// code words it ([`RunNotice::of`]), so reading a dry run's answer stays out of the list's
/// first download.
#[derive(Debug, Clone, PartialEq)]
pub struct RunNotice {
    /// Done (a status), or refused (an alert).
    pub ok: bool,
    /// What follows the campaign's quoted name (" is queued to run now. ").
    pub text: String,
    /// The link to the campaign's sync runs, when there is something to see there.
    pub link: Option<&'static str>,
}

impl RunNotice {
    pub fn of(outcome: RunOutcome) -> Self {
        match outcome {
            RunOutcome::Queued => Self {
                ok: true,
                text: " is queued to run now. ".to_owned(),
                link: Some("Follow it in its sync runs"),
            },
            RunOutcome::Dry(run) => Self {
                ok: true,
                text: format!(
                    ": {}{} Nothing was sent to Facebook. ",
                    run.dry_run_summary(),
                    run.held_note().map(|h| format!(" {h}")).unwrap_or_default()
                ),
                link: Some("See it in its sync runs"),
            },
            RunOutcome::Failed(message) => Self {
                ok: false,
                text: format!(": {message}"),
                link: None,
            },
        }
    }
}

/// What came of "Run now" or "Dry run" in the list, above it, with the way to the run history.
#[component]
pub fn RunFeedback(
    campaign_id: i64,
    name: String,
    notice: RunNotice,
    on_dismiss: Callback<()>,
) -> impl IntoView {
    let (class, role) = if notice.ok {
        ("notice notice--ok", "status")
    } else {
        ("notice notice--error", "alert")
    };
    let link = notice
        .link
        .map(|text| view! { <A href=format!("/campaigns/{campaign_id}/stats")>{text}</A> });
    view! {
        <div class=format!("{class} run-feedback") role=role data-testid="run-feedback">
            "“" {name} "”" {notice.text}
            {link}
            " "
            <button type="button" class="link-button" on:click=move |_| on_dismiss.run(())>"Dismiss"</button>
        </div>
    }
}
