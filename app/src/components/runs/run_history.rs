use std::time::Duration;

use leptos::{prelude::*, task::spawn_local};
use shared::sync::{RunRow, RunStarted};

use super::{DryRunResult, RunButtons, RunItem, RunOutcome};
use crate::{api, contexts::session_context::use_session};

/// How often the history is read again while a run is queued or under way (the progress bar)…
const POLL: Duration = Duration::from_secs(1);
/// …and otherwise: a scheduled run (or a "Now" campaign just published) starts by itself, and
/// the page should show it without a reload.
const IDLE_POLL: Duration = Duration::from_secs(5);

type Runs = RwSignal<Option<Result<Vec<RunRow>, String>>>;

/// The handles a poll needs; all `Copy`, so a timer can carry them.
#[derive(Clone, Copy)]
struct Poller {
    campaign_id: i64,
    runs: Runs,
    /// A timer is already waiting to read again: a second chain would double the requests.
    armed: StoredValue<bool>,
    /// The newest real run (id, state) at the last read; `None` before the first read. When it
    /// changes to a finished run, a sync has just ended and the figures are stale.
    newest: StoredValue<Option<Option<(i64, String)>>>,
    on_synced: Option<Callback<()>>,
}

impl Poller {
    /// Reads the history, and again after [`POLL`] while a run is in flight, [`IDLE_POLL`]
    /// otherwise. The component may be gone by the time a reply or timer arrives: the `try_`
    /// accessors then stop the chain instead of panicking on a disposed signal.
    fn load(self) {
        spawn_local(async move {
            let answer = api::runs::list_runs(self.campaign_id).await;
            let busy = matches!(&answer, Ok(list) if list.iter().any(RunRow::in_flight));
            let newest = answer.as_ref().ok().map(|list| {
                list.iter()
                    .find(|r| r.trigger != "dry_run")
                    .map(|r| (r.id, r.state.clone()))
            });
            if self
                .runs
                .try_set(Some(answer.map_err(|e| e.to_string())))
                .is_some()
            {
                return;
            }
            let Some(before) = self.newest.try_get_value() else {
                return;
            };
            if let Some(now) = newest {
                let ended = before.is_some()
                    && before.as_ref() != Some(&now)
                    && now.as_ref().is_some_and(|(_, state)| {
                        !matches!(state.as_str(), "queued" | "running" | "retrying")
                    });
                self.newest.set_value(Some(now));
                if ended && let Some(cb) = self.on_synced {
                    cb.run(());
                }
            }
            if self.armed.try_get_value() == Some(false) {
                self.armed.set_value(true);
                set_timeout(
                    move || {
                        if self.armed.try_set_value(false).is_none() {
                            self.load();
                        }
                    },
                    if busy { POLL } else { IDLE_POLL },
                );
            }
        });
    }
}

/// The campaign's audience sync runs, newest first, with a live progress bar for the run in
/// flight, and "Run now" / "Dry run" for those who may edit.
#[component]
pub fn RunHistory(
    campaign_id: i64,
    /// Called when a run in flight finishes, e.g. to reread the sync figures.
    #[prop(optional)]
    on_synced: Option<Callback<()>>,
) -> impl IntoView {
    let runs: Runs = RwSignal::new(None);
    let poller = Poller {
        campaign_id,
        runs,
        armed: StoredValue::new(false),
        newest: StoredValue::new(None),
        on_synced,
    };
    poller.load();
    let dry_result = RwSignal::new(None::<RunStarted>);
    let start_error = RwSignal::new(None::<String>);
    let on_outcome = Callback::new(move |outcome: RunOutcome| {
        match outcome {
            RunOutcome::Dry(run) => {
                dry_result.set(Some(run));
                start_error.set(None);
            }
            RunOutcome::Queued => {
                dry_result.set(None);
                start_error.set(None);
            }
            RunOutcome::Failed(message) => start_error.set(Some(message)),
        }
        poller.load();
    });
    let session = use_session();
    let busy = Signal::derive(move || {
        runs.with(|r| matches!(r, Some(Ok(list)) if list.iter().any(RunRow::in_flight)))
    });
    let list = move || {
        match runs.get() {
        None => view! { <p class="loading">"Loading the runs…"</p> }.into_any(),
        Some(Err(e)) => view! {
            <p class="notice notice--error" role="alert">{format!("The runs could not be loaded: {e}")}</p>
        }
        .into_any(),
        Some(Ok(list)) if list.is_empty() => view! {
            <p class="muted">"No runs yet. A published campaign runs on its schedule; “Run now” runs it at once."</p>
        }
        .into_any(),
        Some(Ok(list)) => view! {
            <ol class="runs__list">
                {list.into_iter().map(|run| view! { <RunItem run=run /> }).collect_view()}
            </ol>
        }
        .into_any(),
    }
    };
    view! {
        <section class="runs" aria-labelledby="runs-heading">
            <div class="runs__header">
                <h2 id="runs-heading">"Sync runs"</h2>
                <Show when=move || session.can_edit()>
                    <div class="runs__actions">
                        <RunButtons campaign_id=campaign_id busy=busy on_outcome=on_outcome />
                    </div>
                </Show>
            </div>
            <p class="notice notice--error" role="alert" hidden=move || start_error.with(Option::is_none)>{move || start_error.get()}</p>
            {move || dry_result.get().map(|run| view! { <DryRunResult run=run /> })}
            {list}
        </section>
    }
}
