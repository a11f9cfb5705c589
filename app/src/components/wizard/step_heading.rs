use leptos::{html::H2, prelude::*};

/// A step's heading, which takes the focus when the step opens (from "+ Campaign", the rail,
/// Next or Back): keyboard and screen reader users start at the step's top instead of the
/// page's navigation.
#[component]
pub fn StepHeading(title: &'static str) -> impl IntoView {
    let heading = NodeRef::<H2>::new();
    Effect::new(move |_| {
        if let Some(h) = heading.get() {
            let _ = h.focus();
        }
    });
    view! { <h2 class="wizard__heading" tabindex="-1" node_ref=heading>{title}</h2> }
}
