use leptos::prelude::*;

use crate::contexts::editor_context::use_editor;

/// The id of the error text of the field at `path`, for `aria-describedby`.
pub fn error_id(path: &str) -> String {
    let slug: String = path
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("err-{slug}")
}

/// The problems with the field at `path` (ours and the server's), shown under it as the user
/// types.
#[component]
pub fn FieldErrors(
    /// The field's path in the campaign body, such as `schedule.end.date`.
    #[prop(into)]
    path: String,
) -> impl IntoView {
    let editor = use_editor();
    let id = error_id(&path);
    let messages = Memo::new(move |_| editor.errors_at(&path));
    view! {
        <div id=id class="field-errors" aria-live="polite">
            <For each=move || messages.get() key=|m| m.clone() let:message>
                <p class="field-errors__message">{message}</p>
            </For>
        </div>
    }
}
