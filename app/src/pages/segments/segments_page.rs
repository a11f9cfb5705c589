use leptos::prelude::*;
use leptos_meta::Title;

use crate::{api, components::segments::SegmentTable};

/// `/segments`: saved segments, reusable in campaigns and inside other segments.
#[component]
pub fn SegmentsPage() -> impl IntoView {
    let delete = Action::new_local(|&id: &i64| api::delete_segment(id));
    let on_delete = Callback::new(move |id: i64| {
        let sure = web_sys::window().is_some_and(|w| {
            w.confirm_with_message("Delete this saved segment? Campaigns that include it will match nobody through it.")
                .unwrap_or(false)
        });
        if sure {
            delete.dispatch(id);
        }
    });
    // Refetched after every delete: sizes and the list come from the server.
    let segments = LocalResource::new(move || {
        delete.version().get();
        api::list_segments()
    });
    let delete_error = move || match delete.value().get() {
        Some(Err(err)) => Some(err.to_string()),
        _ => None,
    };
    view! {
        <Title text="Segments" />
        <div class="page-header">
            <h1>"Segments"</h1>
            <a class="button" href="/segments/import">"Import profiles (CSV)"</a>
        </div>
        <p class="notice notice--error" role="alert" hidden=move || delete_error().is_none()>{delete_error}</p>
        <Transition fallback=|| view! { <p class="loading">"Loading segments…"</p> }>
            {move || Suspend::new(async move {
                match segments.await {
                    Err(err) => view! {
                        <div class="notice notice--error" role="alert">
                            {format!("The segments could not be loaded: {err}")}
                        </div>
                    }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <section class="empty-state" aria-labelledby="no-segments">
                            <h2 id="no-segments">"No saved segments yet"</h2>
                            <p>
                                "A segment picks users by what they did (events) and who they are (profile "
                                "properties). Save one to reuse it across campaigns."
                            </p>
                        </section>
                    }.into_any(),
                    Ok(list) => view! { <SegmentTable segments=list on_delete=on_delete /> }.into_any(),
                }
            })}
        </Transition>
    }
}
