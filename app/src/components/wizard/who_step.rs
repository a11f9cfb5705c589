use leptos::prelude::*;

use crate::components::wizard::SegmentGroup;

/// Step 2, Who: an ad-hoc segment of users by their properties and past behaviour.
#[component]
pub fn WhoStep() -> impl IntoView {
    view! {
        <h2>"Who"</h2>
        <p class="step-intro">
            "Build the audience from user properties and past behaviour. Groups combine their "
            "conditions with all of (AND) or any of (OR)."
        </p>
        <SegmentGroup path=Vec::new() />
        <aside class="estimate" aria-labelledby="estimate-heading">
            <h3 id="estimate-heading">"Estimated audience size"</h3>
            // No estimate endpoint exists yet; a made-up number would mislead the marketer.
            <p class="field__hint">"Not available yet: the estimate will appear here once the server can compute it."</p>
        </aside>
    }
}
