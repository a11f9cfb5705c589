use leptos::prelude::*;
use shared::saved_segment::SavedSegment;

/// Saved segments as a table: name, size when last computed, description.
#[component]
pub fn SegmentTable(
    segments: Vec<SavedSegment>,
    /// Opens the segment in the edit form.
    on_edit: Callback<SavedSegment>,
    /// Deletes the segment with this id.
    on_delete: Callback<i64>,
) -> impl IntoView {
    view! {
        <table class="campaigns segments table--cards">
            <caption class="visually-hidden">"Saved segments"</caption>
            <thead>
                <tr>
                    <th scope="col">"Name"</th>
                    <th scope="col">"Size"</th>
                    <th scope="col">"Description"</th>
                    <th scope="col">"Actions"</th>
                </tr>
            </thead>
            <tbody>
                <For each=move || segments.clone() key=|s| (s.id, s.updated_at) let:s>
                    {
                        let id = s.id;
                        let size = s.last_size.map_or_else(|| "—".to_owned(), |n| n.to_string());
                        let aria = format!("Delete {}", s.name);
                        let edit_aria = format!("Edit {}", s.name);
                        let segment = s.clone();
                        view! {
                            <tr>
                                <th scope="row" class="campaigns__name">{s.name}</th>
                                <td data-label="Size">{size}</td>
                                <td data-label="Description">{s.description}</td>
                                <td class="campaigns__actions">
                                    <button type="button" class="button button--small" aria-label=edit_aria
                                        on:click=move |_| on_edit.run(segment.clone())>"Edit"</button>
                                    " "
                                    <button type="button" class="button button--small" aria-label=aria
                                        on:click=move |_| on_delete.run(id)>"Delete"</button>
                                </td>
                            </tr>
                        }
                    }
                </For>
            </tbody>
        </table>
    }
}
