use leptos::prelude::*;
use shared::segment::{Aggregate, Comparison, EventRule, Measure, Segment, Window};

use crate::{
    components::wizard::{
        CatalogCombobox, FieldErrors,
        catalog_lists::use_catalog,
        error_id,
        segment_path::{dom_id, field_path, node_at, node_at_mut},
    },
    contexts::editor_context::use_editor,
    number_text::parse_number,
};

/// A past-behaviour condition: did or did not do an event, how often, in the last N days.
#[component]
pub fn EventRuleFields(path: Vec<usize>) -> impl IntoView {
    let editor = use_editor();
    let catalog = use_catalog();
    let id = dom_id(&path);
    let fp = field_path(&path);
    let p = StoredValue::new(path);
    let rule = Memo::new(move |_| {
        editor.draft.with(|d| {
            match d
                .audience
                .as_ref()
                .and_then(|r| p.with_value(|p| node_at(r, p).cloned()))
            {
                Some(Segment::Event(e)) => Some(e),
                _ => None,
            }
        })
    });
    let edit = move |f: Box<dyn FnOnce(&mut EventRule)>| {
        let path = p.get_value();
        editor.edit_audience(|root| {
            if let Some(Segment::Event(e)) = node_at_mut(root, &path) {
                f(e)
            }
        })
    };
    let how_often = move || match rule.get().and_then(|r| r.aggregate) {
        Some(Aggregate {
            op: Comparison::AtLeast,
            ..
        }) => "at_least",
        Some(Aggregate {
            op: Comparison::AtMost,
            ..
        }) => "at_most",
        Some(Aggregate {
            op: Comparison::Exactly,
            ..
        }) => "exactly",
        None => "any",
    };
    let count = move || {
        rule.get()
            .and_then(|r| r.aggregate)
            .map(|a| a.value.to_string())
            .unwrap_or_default()
    };
    let days = move || match rule.get().map(|r| r.window) {
        Some(Window::LastDays { days }) => days.to_string(),
        _ => String::new(),
    };
    // The conditional fields below are re-created when shown, so they take copies of their ids.
    let often_id = StoredValue::new(format!("{id}-often"));
    let count_id = StoredValue::new(format!("{id}-count"));
    let count_path = StoredValue::new(format!("{fp}.aggregate.value"));
    view! {
        <div class="rule-fields">
            <div class="field">
                <label for=format!("{id}-did")>"Users who"</label>
                <select id=format!("{id}-did") on:change=move |ev| {
                    let did = event_target_value(&ev) == "did";
                    // A count only makes sense with "did" (shared rule); drop it for "did not".
                    edit(Box::new(move |e: &mut EventRule| { e.did = did; if !did { e.aggregate = None } }))
                }>
                    <option value="did" prop:selected=move || rule.get().is_some_and(|r| r.did)>"did"</option>
                    <option value="did_not" prop:selected=move || rule.get().is_some_and(|r| !r.did)>"did not do"</option>
                </select>
            </div>
            <div class="field">
                <label for=format!("{id}-event")>"Event name"</label>
                <CatalogCombobox id=format!("{id}-event") described_by=error_id(&format!("{fp}.event"))
                    options=catalog.events
                    value=Signal::derive(move || rule.get().map(|r| r.event).unwrap_or_default())
                    on_input=Callback::new(move |v: String| edit(Box::new(move |e: &mut EventRule| e.event = v))) />
                <FieldErrors path=format!("{fp}.event") />
            </div>
            <Show when=move || rule.get().is_some_and(|r| r.did)>
                <div class="field">
                    <label for=often_id.get_value()>"How often"</label>
                    <select id=often_id.get_value() on:change=move |ev| {
                        let op = match event_target_value(&ev).as_str() {
                            "at_least" => Some(Comparison::AtLeast),
                            "at_most" => Some(Comparison::AtMost),
                            "exactly" => Some(Comparison::Exactly),
                            _ => None,
                        };
                        edit(Box::new(move |e: &mut EventRule| {
                            let value = e.aggregate.as_ref().map_or(1.0, |a| a.value);
                            e.aggregate = op.map(|op| Aggregate { measure: Measure::Count, op, value, include_never_did: false });
                        }))
                    }>
                        <option value="any" prop:selected=move || how_often() == "any">"at least once"</option>
                        <option value="at_least" prop:selected=move || how_often() == "at_least">"at least N times"</option>
                        <option value="at_most" prop:selected=move || how_often() == "at_most">"at most N times"</option>
                        <option value="exactly" prop:selected=move || how_often() == "exactly">"exactly N times"</option>
                    </select>
                </div>
                <Show when=move || how_often() != "any">
                    <div class="field">
                        <label for=count_id.get_value()>"Times (N)"</label>
                        <input id=count_id.get_value() type="number" min="0" class="input--short"
                            aria-describedby=error_id(&count_path.get_value())
                            prop:value=count
                            on:input=move |ev| {
                                let v = parse_number(&event_target_value(&ev)).unwrap_or(f64::NAN);
                                edit(Box::new(move |e: &mut EventRule| if let Some(a) = e.aggregate.as_mut() { a.value = v }))
                            } />
                        <FieldErrors path=count_path.get_value() />
                    </div>
                </Show>
            </Show>
            <div class="field">
                <label for=format!("{id}-days")>"In the last (days)"</label>
                <input id=format!("{id}-days") type="number" min="1" max="1095" class="input--short"
                    aria-describedby=error_id(&format!("{fp}.window.days"))
                    prop:value=days
                    on:input=move |ev| { if let Ok(days) = event_target_value(&ev).parse::<u32>() {
                        edit(Box::new(move |e: &mut EventRule| e.window = Window::LastDays { days }))
                    } } />
                <FieldErrors path=format!("{fp}.window.days") />
            </div>
        </div>
    }
}
