use leptos::prelude::*;
use leptos_meta::Title;

/// `/segments`: saved segments, reusable in campaigns.
#[component]
pub fn SegmentsPage() -> impl IntoView {
    view! {
        <Title text="Segments" />
        <div class="page-header">
            <h1>"Segments"</h1>
        </div>
        <section class="empty-state" aria-labelledby="no-segments">
            <h2 id="no-segments">"No saved segments yet"</h2>
            <p>
                "A segment picks users by what they did (events) and who they are (profile "
                "properties). Save one here to reuse it across campaigns."
            </p>
        </section>
    }
}
