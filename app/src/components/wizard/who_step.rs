use leptos::prelude::*;

use crate::components::wizard::{
    HoldoutField, SaveAsSegment, SegmentEstimate, SegmentGroup, StepHeading, provide_catalog,
};

/// Step 2, Who: an ad-hoc segment of users by their properties and past behaviour, with its
/// estimated reach as it is edited, and an optional holdout to measure the campaign's lift.
#[component]
pub fn WhoStep() -> impl IntoView {
    provide_catalog();
    view! {
        <StepHeading title="Who" />
        <p class="step-intro">
            "Build the audience from user properties and past behaviour. Groups combine their "
            "conditions with all of (AND) or any of (OR)."
        </p>
        <SegmentGroup path=Vec::new() />
        <SegmentEstimate />
        <SaveAsSegment />
        <HoldoutField />
    }
}
