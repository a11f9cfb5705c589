use leptos::prelude::*;
use shared::{audience_data::PropertyType, data_overview::PropertyCoverage, stats::format_count};

/// Profile properties with their type, how many profiles have each, and the commonest values:
/// what a segment's user-property rules can use.
#[component]
pub fn PropertyTable(properties: Vec<PropertyCoverage>) -> impl IntoView {
    if properties.is_empty() {
        return view! { <p class="field__hint">"No profile properties yet."</p> }.into_any();
    }
    view! {
        <table class="campaigns data-table table--cards">
            <caption>"Profile properties"</caption>
            <thead>
                <tr>
                    <th scope="col">"Property"</th>
                    <th scope="col">"Type"</th>
                    <th scope="col" class="num">"Profiles"</th>
                    <th scope="col">"Most frequent values"</th>
                </tr>
            </thead>
            <tbody>
                {properties
                    .into_iter()
                    .map(|p| {
                        let top = p
                            .top_values
                            .iter()
                            .map(|v| format!("{} ({})", v.value, format_count(v.count)))
                            .collect::<Vec<_>>()
                            .join(", ");
                        view! {
                            <tr>
                                <th scope="row" class="data-table__name">{p.name}</th>
                                <td data-label="Type">{type_label(p.kind)}</td>
                                <td class="num" data-label="Profiles">{format_count(p.profiles)}</td>
                                <td class="data-table__wide" data-label="Most frequent values">{top}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

fn type_label(kind: PropertyType) -> &'static str {
    match kind {
        PropertyType::Text => "Text",
        PropertyType::Number => "Number",
        PropertyType::Boolean => "Yes/no",
        PropertyType::Date => "Date",
        PropertyType::List => "List",
    }
}
