use leptos::{prelude::*, task::spawn_local};
use shared::saved_segment::SavedSegmentInput;

use crate::{api, contexts::editor_context::use_editor};

/// "Save as segment": keeps the audience being edited as a named saved segment, reusable in
/// other campaigns and segments.
#[component]
pub fn SaveAsSegment() -> impl IntoView {
    let editor = use_editor();
    let name = RwSignal::new(String::new());
    let message = RwSignal::new(None::<Result<String, String>>);
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(definition) = editor.draft.with_untracked(|d| d.audience.clone()) else {
            message.set(Some(Err("Add a condition first.".into())));
            return;
        };
        let input = SavedSegmentInput {
            name: name.get_untracked(),
            description: String::new(),
            definition,
        };
        spawn_local(async move {
            let answer = api::create_segment(input).await;
            message.set(Some(match answer {
                Ok(s) => Ok(format!("Saved as \u{201c}{}\u{201d}.", s.name)),
                Err(err) => Err(err
                    .fields()
                    .first()
                    .map_or_else(|| err.to_string(), |f| f.message.clone())),
            }));
        });
    };
    view! {
        <form class="save-as-segment" on:submit=save>
            <div class="field">
                <label for="save-as-segment-name">"Save this audience as a segment"</label>
                <input id="save-as-segment-name" type="text" placeholder="Segment name"
                    prop:value=move || name.get()
                    on:input=move |ev| name.set(event_target_value(&ev)) />
            </div>
            <button type="submit" class="button">"Save as segment"</button>
            {move || message.get().map(|m| match m {
                Ok(text) => view! { <p class="notice" role="status">{text}</p> }.into_any(),
                Err(text) => view! { <p class="notice notice--error" role="alert">{text}</p> }.into_any(),
            })}
        </form>
    }
}
