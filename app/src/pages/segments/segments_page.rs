use leptos::prelude::*;
use leptos_meta::Title;
use shared::saved_segment::SavedSegment;

use crate::{
    api::{
        self,
        load::{Act, Load},
    },
    components::segments::{SegmentEditForm, SegmentTable},
};

/// `/segments`: saved segments, reusable in campaigns and inside other segments; each can be
/// edited in place with the campaign wizard's segment builder.
#[component]
pub fn SegmentsPage() -> impl IntoView {
    let delete = Act::new(api::delete_segment);
    let on_delete = Callback::new(move |id: i64| {
        let sure = web_sys::window().is_some_and(|w| {
            w.confirm_with_message("Delete this saved segment? Draft campaigns that include it will have to choose another before they can be saved or scheduled.")
                .unwrap_or(false)
        });
        if sure {
            delete.dispatch(id);
        }
    });
    let editing = RwSignal::new(None::<SavedSegment>);
    let saved = RwSignal::new(0u32);
    let notice = RwSignal::new(None::<String>);
    let on_edit = Callback::new(move |s: SavedSegment| {
        notice.set(None);
        editing.set(Some(s));
    });
    let on_saved = Callback::new(move |s: SavedSegment| {
        notice.try_set(Some(format!("Saved \u{201c}{}\u{201d}.", s.name)));
        editing.try_set(None);
        saved.try_update(|n| *n += 1);
    });
    let on_cancel = Callback::new(move |()| editing.set(None));
    // Refetched after every delete and save: sizes and the list come from the server.
    let segments = Load::new(move || {
        delete.version().get();
        saved.get();
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
            <a class="button" href="/segments/import">"Import data (CSV or NDJSON)"</a>
        </div>
        <p class="notice notice--error" role="alert" hidden=move || delete_error().is_none()>{delete_error}</p>
        <p class="notice" role="status" hidden=move || notice.get().is_none()>{move || notice.get()}</p>
        {move || editing.get().map(|s| view! {
            <SegmentEditForm segment=s on_saved=on_saved on_cancel=on_cancel />
        })}
        {move || match segments.get() {
            None => view! { <p class="loading">"Loading segments…"</p> }.into_any(),
            Some(Err(err)) => view! {
                <div class="notice notice--error" role="alert">
                    {format!("The segments could not be loaded: {err}")}
                </div>
            }.into_any(),
            Some(Ok(list)) if list.is_empty() => view! {
                <section class="empty-state" aria-labelledby="no-segments">
                    <h2 id="no-segments">"No saved segments yet"</h2>
                    <p>
                        "A segment picks users by what they did (events) and who they are (profile "
                        "properties). Build one in a campaign's Who step and choose \u{201c}Save as segment\u{201d} "
                        "to reuse it across campaigns."
                    </p>
                    <p>"Segments need your users' data: see what has arrived on the Data page, or import a file."</p>
                    <div class="empty-state__actions">
                        <a class="button" href="/data">"See the data"</a>
                        <a class="button button--primary" href="/segments/import">"Import data"</a>
                    </div>
                </section>
            }.into_any(),
            Some(Ok(list)) => view! { <SegmentTable segments=list on_edit=on_edit on_delete=on_delete /> }.into_any(),
        }}
    }
}
