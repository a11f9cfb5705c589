use leptos::prelude::*;
use shared::segment::{
    BooleanCondition, Condition, NumberCondition, PropertyFilter, Segment, TextCondition,
};

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

/// Operators offered per property type: (slug, words).
const TEXT_OPS: [(&str, &str); 7] = [
    ("equals", "equals"),
    ("not_equals", "does not equal"),
    ("contains", "contains"),
    ("does_not_contain", "does not contain"),
    ("starts_with", "starts with"),
    ("exists", "has any value"),
    ("does_not_exist", "has no value"),
];
const NUMBER_OPS: [(&str, &str); 6] = [
    ("equals", "="),
    ("not_equals", "≠"),
    ("less_than", "<"),
    ("at_most", "≤"),
    ("greater_than", ">"),
    ("at_least", "≥"),
];
const BOOL_OPS: [(&str, &str); 2] = [("is_true", "is true"), ("is_false", "is false")];

/// A user-property condition: property name, a typed operator and a value.
#[component]
pub fn PropertyRuleFields(path: Vec<usize>) -> impl IntoView {
    let editor = use_editor();
    let catalog = use_catalog();
    let id = dom_id(&path);
    let fp = field_path(&path);
    let p = StoredValue::new(path);
    let filter = Memo::new(move |_| {
        editor.draft.with(|d| {
            match d
                .audience
                .as_ref()
                .and_then(|r| p.with_value(|p| node_at(r, p).cloned()))
            {
                Some(Segment::UserProperty(f)) => Some(f),
                _ => None,
            }
        })
    });
    let edit = move |f: Box<dyn FnOnce(&mut PropertyFilter)>| {
        let path = p.get_value();
        editor.edit_audience(|root| {
            if let Some(Segment::UserProperty(pf)) = node_at_mut(root, &path) {
                f(pf)
            }
        })
    };
    let parts = move || {
        filter
            .get()
            .map(|f| describe(&f.condition))
            .unwrap_or(("text", "equals", String::new()))
    };
    let set_condition = move |ty: String, op: String, value: String| {
        edit(Box::new(move |f: &mut PropertyFilter| {
            f.condition = build(&ty, &op, &value)
        }));
    };
    let ops = move || match parts().0 {
        "number" => NUMBER_OPS.to_vec(),
        "boolean" => BOOL_OPS.to_vec(),
        _ => TEXT_OPS.to_vec(),
    };
    let needs_value = move || {
        !matches!(
            parts().1,
            "exists" | "does_not_exist" | "is_true" | "is_false"
        )
    };
    view! {
        <div class="rule-fields">
            <div class="field">
                <label for=format!("{id}-property")>"User property"</label>
                <CatalogCombobox id=format!("{id}-property") described_by=error_id(&format!("{fp}.property"))
                    options=catalog.profile_properties
                    value=Signal::derive(move || filter.get().map(|f| f.property).unwrap_or_default())
                    on_input=Callback::new(move |v: String| edit(Box::new(move |f: &mut PropertyFilter| f.property = v))) />
                <FieldErrors path=format!("{fp}.property") />
            </div>
            <div class="field">
                <label for=format!("{id}-type")>"Type"</label>
                <select id=format!("{id}-type") on:change=move |ev| {
                    let ty = event_target_value(&ev);
                    let op = if ty == "boolean" { "is_true" } else { "equals" };
                    set_condition(ty, op.into(), String::new())
                }>
                    {["text", "number", "boolean"].into_iter().map(|t| view! {
                        <option value=t prop:selected=move || parts().0 == t>{t}</option>
                    }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for=format!("{id}-op")>"Condition"</label>
                <select id=format!("{id}-op") on:change=move |ev| {
                    let (ty, _, value) = parts();
                    set_condition(ty.into(), event_target_value(&ev), value)
                }>
                    {move || ops().into_iter().map(|(slug, words)| view! {
                        <option value=slug prop:selected=move || parts().1 == slug>{words}</option>
                    }).collect_view()}
                </select>
            </div>
            <Show when=needs_value>
                <div class="field">
                    <label for=format!("{id}-value")>"Value"</label>
                    <input id=format!("{id}-value") type=move || if parts().0 == "number" { "number" } else { "text" }
                        aria-describedby=error_id(&format!("{fp}.condition.value"))
                        prop:value=move || parts().2
                        on:input=move |ev| { let (ty, op, _) = parts(); set_condition(ty.into(), op.into(), event_target_value(&ev)) } />
                    <FieldErrors path=format!("{fp}.condition.value") />
                </div>
            </Show>
        </div>
    }
}

/// (type, op, value as typed) of a condition the form can show.
fn describe(c: &Condition) -> (&'static str, &'static str, String) {
    use TextCondition as T;
    match c {
        Condition::Number(n) => {
            let (op, v) = match n {
                NumberCondition::Equals { value } => ("equals", value),
                NumberCondition::NotEquals { value } => ("not_equals", value),
                NumberCondition::LessThan { value } => ("less_than", value),
                NumberCondition::AtMost { value } => ("at_most", value),
                NumberCondition::GreaterThan { value } => ("greater_than", value),
                NumberCondition::AtLeast { value }
                | NumberCondition::Between { from: value, .. } => ("at_least", value),
            };
            ("number", op, v.to_string())
        }
        Condition::Boolean(BooleanCondition::IsTrue) => ("boolean", "is_true", String::new()),
        Condition::Boolean(BooleanCondition::IsFalse) => ("boolean", "is_false", String::new()),
        Condition::Text(t) => match t {
            T::Equals { value } => ("text", "equals", value.clone()),
            T::NotEquals { value } => ("text", "not_equals", value.clone()),
            T::Contains { value } => ("text", "contains", value.clone()),
            T::DoesNotContain { value } => ("text", "does_not_contain", value.clone()),
            T::StartsWith { value } => ("text", "starts_with", value.clone()),
            T::InList { values } | T::NotInList { values } => ("text", "equals", values.join(",")),
            T::Exists => ("text", "exists", String::new()),
            T::DoesNotExist => ("text", "does_not_exist", String::new()),
        },
        // Built elsewhere (API); shown as the closest text condition until the form covers them.
        Condition::Date(_) | Condition::List(_) => ("text", "exists", String::new()),
    }
}

fn build(ty: &str, op: &str, value: &str) -> Condition {
    let value = value.to_owned();
    match ty {
        "number" => {
            // An unparsable number becomes NaN, which the shared validation reports.
            let v = parse_number(&value).unwrap_or(f64::NAN);
            Condition::Number(match op {
                "not_equals" => NumberCondition::NotEquals { value: v },
                "less_than" => NumberCondition::LessThan { value: v },
                "at_most" => NumberCondition::AtMost { value: v },
                "greater_than" => NumberCondition::GreaterThan { value: v },
                "at_least" => NumberCondition::AtLeast { value: v },
                _ => NumberCondition::Equals { value: v },
            })
        }
        "boolean" => Condition::Boolean(if op == "is_false" {
            BooleanCondition::IsFalse
        } else {
            BooleanCondition::IsTrue
        }),
        _ => Condition::Text(match op {
            "not_equals" => TextCondition::NotEquals { value },
            "contains" => TextCondition::Contains { value },
            "does_not_contain" => TextCondition::DoesNotContain { value },
            "starts_with" => TextCondition::StartsWith { value },
            "exists" => TextCondition::Exists,
            "does_not_exist" => TextCondition::DoesNotExist,
            _ => TextCondition::Equals { value },
        }),
    }
}
