use jiff::Timestamp;
use leptos::prelude::*;
use leptos_router::components::A;
use shared::campaign::{StepState, step_rail_in};

use crate::contexts::editor_context::use_editor;

/// The wizard's steps in order: URL segment and title.
pub const STEPS: [(&str, &str); 5] = [
    ("when", "When"),
    ("who", "Who"),
    ("what", "What"),
    ("labels", "Labels"),
    ("overview", "Overview"),
];

/// The steps as links, each marked complete, incomplete or with errors by the shared rules.
#[component]
pub fn StepRail() -> impl IntoView {
    let editor = use_editor();
    let rail = Memo::new(move |_| {
        editor
            .draft
            .with(|d| editor.zones.with(|z| step_rail_in(d, Timestamp::now(), z)))
    });
    let state = move |slug: &str| {
        let r = rail.get();
        match slug {
            "when" => Some(r.when),
            "who" => Some(r.who),
            "what" => Some(r.what),
            "labels" => Some(r.labels),
            _ => None,
        }
    };
    view! {
        <nav class="step-rail" aria-label="Campaign steps">
            <ol>
                {STEPS
                    .into_iter()
                    .map(|(slug, title)| {
                        let href = format!("/campaigns/{}/edit/{slug}", editor.id);
                        let label = move || match state(slug) {
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
