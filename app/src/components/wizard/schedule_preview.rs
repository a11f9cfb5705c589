use jiff::Timestamp;
use leptos::prelude::*;
use shared::schedule::preview_in;

use crate::{components::layout::LocalTime, contexts::editor_context::use_editor};

/// The next five runs and why the first is when it is, recomputed in the browser on every
/// change with the same function the server uses. Each run is shown in the viewer's time zone,
/// and on the schedule's clock when that reads differently.
#[component]
pub fn SchedulePreview() -> impl IntoView {
    let editor = use_editor();
    let result = Memo::new(move |_| {
        editor.draft.with(|d| {
            d.schedule.as_ref().map(|s| {
                editor
                    .zones
                    .with(|z| preview_in(s, Timestamp::now(), None, 5, z))
                    .map_err(|_| ())
            })
        })
    });
    view! {
        <section class="schedule-preview" aria-labelledby="preview-heading" aria-live="polite">
            <h3 id="preview-heading">"Next runs"</h3>
            {move || match result.get() {
                Some(Ok(p)) => {
                    let zone = editor
                        .draft
                        .with_untracked(|d| d.schedule.as_ref().map(|s| s.time_zone.clone()))
                        .unwrap_or_default();
                    view! {
                        <p class="schedule-preview__explanation">{p.explanation}</p>
                        <ol class="schedule-preview__runs">
                            {p.runs
                                .into_iter()
                                .map(|run| view! {
                                    <li>
                                        {format!("Run {}: ", run.number)}
                                        <LocalTime at=run.utc.to_string() campaign_zone=zone.clone() />
                                    </li>
                                })
                                .collect_view()}
                        </ol>
                    }
                    .into_any()
                }
                _ => view! {
                    <p class="schedule-preview__empty">"Fix the schedule above to see when it runs."</p>
                }
                .into_any(),
            }}
        </section>
    }
}
