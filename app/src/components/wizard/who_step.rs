use leptos::prelude::*;

use crate::components::wizard::{CatalogLists, SaveAsSegment, SegmentEstimate, SegmentGroup};

/// Step 2, Who: an ad-hoc segment of users by their properties and past behaviour, with its
/// estimated reach as it is edited.
#[component]
pub fn WhoStep() -> impl IntoView {
    view! {
        <h2>"Who"</h2>
        <p class="step-intro">
            "Build the audience from user properties and past behaviour. Groups combine their "
            "conditions with all of (AND) or any of (OR)."
        </p>
        <CatalogLists />
        <SegmentGroup path=Vec::new() />
        <SegmentEstimate />
        <SaveAsSegment />
    }
}
