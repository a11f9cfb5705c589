use leptos::prelude::*;
use shared::segment::{SavedSegmentMode, SavedSegmentRule, Segment};

use crate::{
    api::{self, load::Load},
    components::wizard::{
        FieldErrors, error_id,
        segment_path::{dom_id, field_path, node_at, node_at_mut},
    },
    contexts::editor_context::use_editor,
};

/// A saved-segment condition: include or exclude the members of a saved segment, picked from
/// the saved segments with their sizes.
#[component]
pub fn SavedSegmentFields(path: Vec<usize>) -> impl IntoView {
    let editor = use_editor();
    let id = dom_id(&path);
    let fp = field_path(&path);
    let p = StoredValue::new(path);
    let saved = Load::new(api::list_segments);
    let rule = Memo::new(move |_| {
        editor.draft.with(|d| {
            match d
                .audience
                .as_ref()
                .and_then(|r| p.with_value(|p| node_at(r, p).cloned()))
            {
                Some(Segment::SavedSegment(s)) => Some(s),
                _ => None,
            }
        })
    });
    let edit = move |f: Box<dyn FnOnce(&mut SavedSegmentRule)>| {
        let path = p.get_value();
        editor.edit_audience(|root| {
            if let Some(Segment::SavedSegment(s)) = node_at_mut(root, &path) {
                f(s)
            }
        })
    };
    let options = move || {
        saved
            .get()
            .and_then(Result::ok)
            .unwrap_or_default()
            .into_iter()
            .map(|s| {
                let size = s
                    .last_size
                    .map_or_else(String::new, |n| format!(" ({n} users)"));
                (s.id, format!("{}{size}", s.name))
            })
            .collect::<Vec<_>>()
    };
    let chosen = move || rule.get().map_or(0, |r| r.segment_id);
    // A rule may name a segment deleted since it was chosen: it stays selected, marked as gone,
    // until another is picked (the server refuses to save or publish it as it is).
    let missing = move || {
        let id = chosen();
        let list = saved.get()?.ok()?;
        (id > 0 && !list.iter().any(|s| s.id == id)).then_some(id)
    };
    view! {
        <div class="rule-fields">
            <div class="field">
                <label for=format!("{id}-mode")>"Users who are"</label>
                <select id=format!("{id}-mode") on:change=move |ev| {
                    let mode = if event_target_value(&ev) == "exclude" { SavedSegmentMode::Exclude } else { SavedSegmentMode::Include };
                    edit(Box::new(move |s: &mut SavedSegmentRule| s.mode = mode))
                }>
                    <option value="include" prop:selected=move || rule.get().is_some_and(|r| r.mode == SavedSegmentMode::Include)>"in"</option>
                    <option value="exclude" prop:selected=move || rule.get().is_some_and(|r| r.mode == SavedSegmentMode::Exclude)>"not in"</option>
                </select>
            </div>
            <div class="field">
                <label for=format!("{id}-segment")>"Saved segment"</label>
                <select id=format!("{id}-segment") aria-describedby=error_id(&format!("{fp}.segment_id"))
                    on:change=move |ev| {
                        let v = event_target_value(&ev).parse().unwrap_or(0);
                        edit(Box::new(move |s: &mut SavedSegmentRule| s.segment_id = v))
                    }>
                    <option value="0" prop:selected=move || chosen() == 0>"Choose a saved segment"</option>
                    {move || missing().map(|id| view! {
                        <option value=id.to_string() selected>{format!("Deleted segment {id} (no longer exists)")}</option>
                    })}
                    <For each=options key=|o| o.clone() let:o>
                        <option value=o.0.to_string() prop:selected=move || chosen() == o.0>{o.1.clone()}</option>
                    </For>
                </select>
                <FieldErrors path=format!("{fp}.segment_id") />
            </div>
        </div>
    }
}
