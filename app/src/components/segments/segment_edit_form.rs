use leptos::{ev::SubmitEvent, prelude::*, task::spawn_local};
use shared::{
    error::{ErrorCode, FieldError},
    saved_segment::{SavedSegment, SavedSegmentInput, validate_saved_segment},
    segment::Segment,
};

use crate::{
    api,
    components::wizard::{SegmentEstimate, SegmentGroup, provide_catalog},
    contexts::editor_context::Editor,
};

/// Edits a saved segment: its name, description and definition. The definition is edited with
/// the wizard's Who-step builder and live estimate, through an editor that saves nothing; this
/// form sends `PUT /api/segments/{id}` itself. The rules are `shared`'s, checked as the user
/// types; the server's 422 is shown on the same fields, anything else in words above the buttons.
#[component]
pub fn SegmentEditForm(
    segment: SavedSegment,
    /// Called with the segment as the server saved it.
    on_saved: Callback<SavedSegment>,
    on_cancel: Callback<()>,
) -> impl IntoView {
    let editor = Editor::detached(segment.definition.clone());
    provide_context(editor);
    provide_catalog();
    let id = segment.id;
    let heading = format!("Edit \u{201c}{}\u{201d}", segment.name);
    let name = RwSignal::new(segment.name);
    let description = RwSignal::new(segment.description);
    // The server's verdict on the name and description (the definition's goes to the editor).
    let server_fields = RwSignal::new(Vec::<FieldError>::new());
    let failure = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let input = move || SavedSegmentInput {
        name: name.get(),
        description: description.get(),
        definition: editor
            .draft
            .with(|d| d.audience.clone().unwrap_or_else(Segment::empty)),
    };
    let local_errors = Memo::new(move |_| validate_saved_segment(&input()));
    let message_at = move |path: &'static str| {
        move || {
            local_errors
                .get()
                .into_iter()
                .chain(server_fields.get())
                .find(|e| e.path == path)
                .map(|e| e.message)
        }
    };
    let save = move |ev: SubmitEvent| {
        ev.prevent_default();
        let body = SavedSegmentInput {
            name: name.get_untracked(),
            description: description.get_untracked(),
            definition: editor
                .draft
                .with_untracked(|d| d.audience.clone().unwrap_or_else(Segment::empty)),
        };
        if !validate_saved_segment(&body).is_empty() {
            failure.set(Some(
                "The segment was not saved: fix the problems marked below.".into(),
            ));
            return;
        }
        busy.set(true);
        failure.set(None);
        spawn_local(async move {
            let answer = api::update_segment(id, body).await;
            busy.try_set(false);
            match answer {
                Ok(saved) => on_saved.run(saved),
                Err(err) => {
                    let (definition, other): (Vec<FieldError>, Vec<FieldError>) = err
                        .fields()
                        .into_iter()
                        .partition(|f| f.path.starts_with("definition"));
                    // The builder shows its problems under the paths of a campaign audience.
                    editor.server_errors.try_set(
                        definition
                            .into_iter()
                            .map(|f| FieldError {
                                path: f.path.replacen("definition", "audience", 1),
                                ..f
                            })
                            .collect(),
                    );
                    server_fields.try_set(other);
                    failure.try_set(Some(match err.code() {
                        Some(ErrorCode::ValidationFailed) => {
                            "The segment was not saved: fix the problems marked below.".into()
                        }
                        Some(ErrorCode::NotFound) => {
                            "The segment was not saved: it no longer exists (it may have been deleted)."
                                .into()
                        }
                        _ => format!("The segment was not saved: {err}"),
                    }));
                }
            }
        });
    };
    let name_error = message_at("name");
    let description_error = message_at("description");
    view! {
        <form class="segment-edit" aria-labelledby="segment-edit-heading" on:submit=save>
            <h2 id="segment-edit-heading">{heading}</h2>
            <div class="field">
                <label for="segment-name">"Name"</label>
                <input id="segment-name" type="text" aria-describedby="segment-name-error"
                    aria-invalid=move || name_error().is_some().to_string()
                    prop:value=move || name.get()
                    on:input=move |ev| {
                        server_fields.update(|f| f.retain(|e| e.path != "name"));
                        name.set(event_target_value(&ev));
                    } />
                <p id="segment-name-error" class="field-errors__message" aria-live="polite">{name_error}</p>
            </div>
            <div class="field">
                <label for="segment-description">"Description"</label>
                <textarea id="segment-description" rows="2" aria-describedby="segment-description-error"
                    aria-invalid=move || description_error().is_some().to_string()
                    prop:value=move || description.get()
                    on:input=move |ev| {
                        server_fields.update(|f| f.retain(|e| e.path != "description"));
                        description.set(event_target_value(&ev));
                    }></textarea>
                <p id="segment-description-error" class="field-errors__message" aria-live="polite">{description_error}</p>
            </div>
            <SegmentGroup path=Vec::new() />
            <SegmentEstimate />
            <p class="notice notice--error" role="alert" hidden=move || failure.get().is_none()>{move || failure.get()}</p>
            <div class="segment-edit__actions">
                <button type="submit" class="button button--primary" disabled=move || busy.get()>"Save segment"</button>
                <button type="button" class="button" on:click=move |_| on_cancel.run(())>"Cancel"</button>
            </div>
        </form>
    }
}
