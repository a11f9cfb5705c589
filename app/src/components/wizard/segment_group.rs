use leptos::prelude::*;
use shared::segment::{
    Combine, Condition, EventRule, Group, MAX_DEPTH, PropertyFilter, SavedSegmentMode,
    SavedSegmentRule, Segment, TextCondition, Window,
};

use crate::{
    components::wizard::{
        FieldErrors, SegmentRule,
        segment_path::{dom_id, field_path, node_at, node_at_mut},
    },
    contexts::editor_context::use_editor,
};

/// A group of conditions (all of / any of) at `path`, with buttons to add more.
#[component]
pub fn SegmentGroup(
    /// Indices from the root group to this one; empty for the root.
    path: Vec<usize>,
) -> impl IntoView {
    let editor = use_editor();
    let p = StoredValue::new(path);
    let path = p.get_value();
    let group = Memo::new(move |_| {
        editor.draft.with(|d| {
            let root = d.audience.clone().unwrap_or_else(Segment::empty);
            p.with_value(|p| match node_at(&root, p) {
                Some(Segment::Group(g)) => Some((g.combine, g.rules.len())),
                _ => None,
            })
        })
    });
    let edit_group = move |f: Box<dyn FnOnce(&mut Group)>| {
        let path = p.get_value();
        editor.edit_audience(|root| {
            if let Some(Segment::Group(g)) = node_at_mut(root, &path) {
                f(g);
            }
        })
    };
    let add = move |rule: Segment| edit_group(Box::new(move |g: &mut Group| g.rules.push(rule)));
    let level = path.len() + 1;
    let id = dom_id(&path);
    let heading = if path.is_empty() {
        "Users who match".to_owned()
    } else {
        "Nested group".to_owned()
    };
    let remove_self = {
        let path = path.clone();
        move |_| {
            let Some((last, parent)) = path.split_last() else {
                return;
            };
            let (last, parent) = (*last, parent.to_vec());
            editor.edit_audience(|root| {
                if let Some(Segment::Group(g)) = node_at_mut(root, &parent)
                    && last < g.rules.len()
                {
                    g.rules.remove(last);
                }
            })
        }
    };
    view! {
        <fieldset class=format!("segment-group segment-group--level-{level}")>
            <legend>{heading}</legend>
            <div class="field field--inline">
                <label for=format!("{id}-combine")>"Match"</label>
                <select id=format!("{id}-combine") on:change=move |ev| {
                    let combine = if event_target_value(&ev) == "any_of" { Combine::AnyOf } else { Combine::AllOf };
                    edit_group(Box::new(move |g: &mut Group| g.combine = combine));
                }>
                    <option value="all_of" prop:selected=move || group.get().map(|g| g.0) == Some(Combine::AllOf)>"all of these conditions"</option>
                    <option value="any_of" prop:selected=move || group.get().map(|g| g.0) == Some(Combine::AnyOf)>"any of these conditions"</option>
                </select>
            </div>
            <FieldErrors path=field_path(&path) />
            <FieldErrors path=format!("{}.rules", field_path(&path)) />
            <ol class="segment-group__rules">
                <For each=move || 0..group.get().map_or(0, |g| g.1) key=|i| *i let:i>
                    {
                        let mut child = p.get_value();
                        child.push(i);
                        view! { <li><SegmentRule path=child /></li> }
                    }
                </For>
            </ol>
            <div class="segment-group__actions">
                <button type="button" class="button" on:click=move |_| add(property_rule())>"Add user property condition"</button>
                <button type="button" class="button" on:click=move |_| add(event_rule())>"Add past behaviour condition"</button>
                <button type="button" class="button" on:click=move |_| add(Segment::SavedSegment(SavedSegmentRule { segment_id: 0, mode: SavedSegmentMode::Include }))>"Add saved segment"</button>
                <Show when=move || level < MAX_DEPTH>
                    <button type="button" class="button" on:click=move |_| add(Segment::Group(Group { combine: Combine::AnyOf, rules: Vec::new() }))>
                        "Add group"
                    </button>
                </Show>
                <Show when={let root = path.is_empty(); move || !root}>
                    <button type="button" class="button button--quiet" on:click=remove_self.clone()>"Remove group"</button>
                </Show>
            </div>
        </fieldset>
    }
}

fn property_rule() -> Segment {
    Segment::UserProperty(PropertyFilter {
        property: String::new(),
        condition: Condition::Text(TextCondition::Equals {
            value: String::new(),
        }),
    })
}

fn event_rule() -> Segment {
    Segment::Event(EventRule {
        did: true,
        event: String::new(),
        filters: Vec::new(),
        aggregate: None,
        window: Window::LastDays { days: 30 },
        occurrence: Default::default(),
    })
}
