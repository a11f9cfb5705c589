use leptos::prelude::*;
use shared::sync::RunStarted;

use crate::api::{self, load::Act};

/// What "Run now" or "Dry run" came to.
#[derive(Debug, Clone, PartialEq)]
pub enum RunOutcome {
    /// A run is queued; the run history follows it.
    Queued,
    /// A dry run's counts and sample; nothing was sent.
    Dry(RunStarted),
    /// The server refused or failed: why, in its words ("… cannot run now. Resume it first.").
    Failed(String),
}

/// "Run now" and "Dry run" for a campaign, on its stats page and in the campaign list: they
/// send the request and report what came of it; the caller shows it. Only for those who may
/// edit: the caller does not render them for viewers.
#[component]
pub fn RunButtons(
    campaign_id: i64,
    /// Names the campaign in the buttons' accessible names, where several campaigns have them.
    #[prop(optional, into)]
    campaign_name: Option<String>,
    /// Leaves "Run now" out (the campaign's status does not allow it).
    #[prop(optional)]
    no_run_now: bool,
    /// A run is queued or under way: "Run now" waits for it (the server would refuse).
    #[prop(into)]
    busy: Signal<bool>,
    on_outcome: Callback<RunOutcome>,
) -> impl IntoView {
    let start = Act::new(move |dry: bool| async move {
        let answer = api::runs::start_run(campaign_id, dry).await;
        match answer {
            Ok(run) if dry => RunOutcome::Dry(run),
            Ok(_) => RunOutcome::Queued,
            Err(e) if dry => RunOutcome::Failed(format!("The dry run could not be done: {e}")),
            Err(e) => RunOutcome::Failed(format!("The run could not be started: {e}")),
        }
    });
    // Every answer, even one equal to the last (the same refusal twice).
    Effect::new(move |_| {
        if start.version().get() > 0
            && let Some(outcome) = start.value().get_untracked()
        {
            on_outcome.run(outcome);
        }
    });
    let (run_label, dry_label) = match campaign_name {
        Some(n) => (Some(format!("Run now {n}")), Some(format!("Dry run {n}"))),
        None => (None, None),
    };
    view! {
        {(!no_run_now).then(|| view! {
            <button type="button" class="button" aria-label=run_label
                disabled=move || busy.get() || start.pending()
                on:click=move |_| { start.dispatch(false); }>"Run now"</button>
        })}
        <button type="button" class="button" aria-label=dry_label disabled=move || start.pending()
            on:click=move |_| { start.dispatch(true); }>"Dry run"</button>
    }
}
