use std::time::Duration;

use leptos::{prelude::*, task::spawn_local};
use shared::{
    audience_data::{Estimate, EstimateRequest},
    segment::validate_segment,
};

use crate::{api, contexts::editor_context::use_editor};

/// Quiet time after the last edit before the reach is asked for.
const DEBOUNCE: Duration = Duration::from_millis(300);

/// The live estimated reach of the audience being edited, with a few sample members. Asked for
/// 300 ms after the last edit of a valid segment; an answer to an older version of the segment
/// is dropped, so a slow reply never overwrites a newer one.
#[component]
pub fn SegmentEstimate() -> impl IntoView {
    let editor = use_editor();
    let estimate = RwSignal::new(None::<Result<Estimate, String>>);
    let pending = RwSignal::new(false);
    // Bumped at every edit: a timer or a reply from an older generation does nothing.
    let generation = StoredValue::new(0u64);
    Effect::new(move |_| {
        let (segment, time_zone) = editor.draft.with(|d| {
            (
                d.audience.clone(),
                d.schedule.as_ref().map(|s| s.time_zone.clone()),
            )
        });
        let this = generation.get_value() + 1;
        generation.set_value(this);
        let Some(segment) = segment.filter(|s| validate_segment(s, "audience").is_empty()) else {
            pending.set(false);
            estimate.set(None);
            return;
        };
        pending.set(true);
        set_timeout(
            // The user may have left the step before the timer fires or the reply arrives: the
            // `try_` accessors treat a disposed component like a stale generation.
            move || {
                if generation.try_get_value() != Some(this) {
                    return;
                }
                spawn_local(async move {
                    let req = EstimateRequest {
                        segment,
                        time_zone,
                        at: None,
                    };
                    let answer = api::estimate_segment(req).await;
                    if generation.try_get_value() == Some(this) {
                        pending.try_set(false);
                        estimate.try_set(Some(answer.map_err(|e| e.to_string())));
                    }
                });
            },
            DEBOUNCE,
        );
    });
    let body = move || match estimate.get() {
        None => view! {
            <p class="field__hint">"Complete the conditions to see how many users match."</p>
        }
        .into_any(),
        Some(Err(err)) => view! {
            <p class="notice notice--error" role="alert">{format!("No estimate: {err}")}</p>
        }
        .into_any(),
        Some(Ok(e)) => {
            let sample: Vec<String> = e.sample.iter().map(|s| s.identity.clone()).collect();
            view! {
                <p class="estimate__reach" data-testid="estimated-reach">
                    <strong>{e.reach.to_string()}</strong>
                    {format!(" of {} users", e.total_profiles)}
                </p>
                <p class="field__hint" hidden=sample.is_empty()>
                    {format!("For example: {}", sample.join(", "))}
                </p>
            }
            .into_any()
        }
    };
    view! {
        <aside class="estimate" aria-labelledby="estimate-heading" aria-busy=move || pending.get().to_string()>
            <h3 id="estimate-heading">"Estimated audience size"</h3>
            {body}
        </aside>
    }
}
