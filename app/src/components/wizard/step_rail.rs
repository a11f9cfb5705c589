use jiff::Timestamp;
use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_location};
use shared::campaign::{Step, StepState, step_rail_in};

use crate::contexts::editor_context::use_editor;

/// The wizard's steps in order: URL segment and title.
pub const STEPS: [(&str, &str); 5] = [
    ("when", "When"),
    ("who", "Who"),
    ("what", "What"),
    ("labels", "Labels"),
    ("overview", "Overview"),
];

/// The step at `STEPS[i]` as `shared` names it; `None` for the Overview.
pub fn step_at(i: usize) -> Option<Step> {
    [Step::When, Step::Who, Step::What, Step::Labels]
        .get(i)
        .copied()
}

/// The index in [`STEPS`] of the step the URL shows, if it shows one (reactive).
pub fn use_current_step() -> Memo<Option<usize>> {
    let location = use_location();
    Memo::new(move |_| {
        location.pathname.with(|path| {
            let last = path.trim_end_matches('/').rsplit('/').next().unwrap_or("");
            STEPS.iter().position(|(slug, _)| *slug == last)
        })
    })
}

/// The steps as links, each marked complete, incomplete or with errors by the shared rules. A
/// step's errors are said only once they are shown next to its fields (after the user left the
/// field or the step): until then a step being filled in is just incomplete.
#[component]
pub fn StepRail() -> impl IntoView {
    let editor = use_editor();
    let rail = Memo::new(move |_| {
        editor
            .draft
            .with(|d| editor.zones.with(|z| step_rail_in(d, Timestamp::now(), z)))
    });
    let state = move |i: usize| {
        let r = rail.get();
        let step = step_at(i)?;
        let state = match step {
            Step::When => r.when,
            Step::Who => r.who,
            Step::What => r.what,
            Step::Labels => r.labels,
        };
        Some(match state {
            StepState::HasErrors if !editor.shows_errors_of(step) => StepState::Incomplete,
            state => state,
        })
    };
    view! {
        <nav class="step-rail" aria-label="Campaign steps">
            <ol>
                {STEPS
                    .into_iter()
                    .enumerate()
                    .map(|(i, (slug, title))| {
                        let href = move || format!("/campaigns/{}/edit/{slug}", editor.url_id());
                        let label = move || match state(i) {
                            Some(StepState::Complete) => ("step-rail__state--complete", "complete"),
                            Some(StepState::Incomplete) => ("step-rail__state--incomplete", "incomplete"),
                            Some(StepState::HasErrors) => ("step-rail__state--errors", "has errors"),
                            None => ("", ""),
                        };
                        view! {
                            <li>
                                <A href=href>
                                    <span class="step-rail__title">{title}</span>
                                    <span class=move || format!("step-rail__state {}", label().0)>
                                        {move || label().1}
                                    </span>
                                </A>
                            </li>
                        }
                    })
                    .collect_view()}
            </ol>
        </nav>
    }
}
