use leptos::prelude::*;
use shared::segment::eval::explain::Explanation;

/// A segment explained for one person: each rule with a ✓ or ✗ and the figure behind it, saved
/// segments opened up underneath their rule.
#[component]
pub fn ExplanationTree(node: Explanation) -> impl IntoView {
    view! { <ul class="why-tree">{branch(node)}</ul> }
}

fn branch(node: Explanation) -> AnyView {
    let (mark, class, label) = if node.matched {
        ("✓", "why-tree__mark why-tree__mark--yes", "true")
    } else {
        ("✗", "why-tree__mark why-tree__mark--no", "false")
    };
    let children = (!node.children.is_empty()).then(|| {
        view! { <ul>{node.children.into_iter().map(branch).collect_view()}</ul> }
    });
    view! {
        <li>
            <span class=class aria-label=label>{mark}</span>
            " "
            <span>{node.text}</span>
            {children}
        </li>
    }
    .into_any()
}
