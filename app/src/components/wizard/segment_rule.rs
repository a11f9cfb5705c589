use leptos::prelude::*;
use shared::segment::Segment;

use crate::{
    components::wizard::{
        EventRuleFields, PropertyRuleFields, SavedSegmentFields, SegmentGroup,
        segment_path::{node_at, node_at_mut},
    },
    contexts::editor_context::use_editor,
};

/// One entry of a group: a condition or a nested group, chosen by the rule's kind.
#[component]
pub fn SegmentRule(
    /// Indices from the root group to this rule.
    path: Vec<usize>,
) -> AnyView {
    let editor = use_editor();
    let p = StoredValue::new(path);
    let kind = Memo::new(move |_| {
        editor.draft.with(|d| {
            d.audience.as_ref().and_then(|root| {
                p.with_value(|p| node_at(root, p)).map(|s| match s {
                    Segment::Group(_) => "group",
                    Segment::Event(_) => "event",
                    Segment::UserProperty(_) => "property",
                    Segment::SavedSegment(_) => "saved",
                })
            })
        })
    });
    let remove = move |_| {
        let path = p.get_value();
        let Some((last, parent)) = path.split_last() else {
            return;
        };
        editor.edit_audience(|root| {
            if let Some(Segment::Group(g)) = node_at_mut(root, parent)
                && *last < g.rules.len()
            {
                g.rules.remove(*last);
            }
        })
    };
    let number = p.with_value(|p| p.last().map_or(1, |i| i + 1));
    // The rule's kind decides the editor; it is re-created only when the kind changes.
    (move || match kind.get() {
        Some("group") => view! { <SegmentGroup path=p.get_value() /> }.into_any(),
        Some(k) => view! {
            <div class="segment-rule">
                {match k {
                    "event" => view! { <EventRuleFields path=p.get_value() /> }.into_any(),
                    "property" => view! { <PropertyRuleFields path=p.get_value() /> }.into_any(),
                    _ => view! { <SavedSegmentFields path=p.get_value() /> }.into_any(),
                }}
                <button type="button" class="button button--quiet" on:click=remove>
                    {format!("Remove condition {number}")}
                </button>
            </div>
        }
        .into_any(),
        None => ().into_any(),
    })
    .into_any()
}
