use std::time::Duration;

use leptos::prelude::*;
use leptos_router::{
    NavigateOptions,
    hooks::{use_navigate, use_query_map},
};
use shared::label::Label;

use crate::{
    api::status_param,
    components::campaigns::list_query::{ListQuery, STATUSES},
};

/// How long typing in the search box must pause before the list is asked again.
const SEARCH_DELAY: Duration = Duration::from_millis(300);

/// Status and label filters, the name search and the sort order; each change rewrites the URL.
#[component]
pub fn CampaignFilters(
    /// The labels to filter by.
    #[prop(into)]
    labels: Signal<Vec<Label>>,
) -> impl IntoView {
    let query = use_query_map();
    let current = Memo::new(move |_| query.with(ListQuery::from_params));
    let navigate = use_navigate();
    let set = move |f: Box<dyn FnOnce(&mut ListQuery)>| {
        let mut q = current.get_untracked();
        f(&mut q);
        // Replace, not push: typing a search should not fill the back button with every letter.
        navigate(
            &q.to_url(),
            NavigateOptions {
                replace: true,
                ..Default::default()
            },
        );
    };
    // The search box shows what is typed at once; the URL (and so the request) follows after a
    // pause, and follows the URL again when it changes otherwise (back button, "Clear the filters").
    let text = RwSignal::new(String::new());
    let timer = StoredValue::new(None::<TimeoutHandle>);
    Effect::new(move |_| {
        let q = current.get().q;
        if timer.with_value(Option::is_none) {
            text.set(q);
        }
    });
    let set1 = set.clone();
    let on_search = move |ev: leptos::ev::Event| {
        let v = event_target_value(&ev);
        text.set(v.clone());
        if let Some(handle) = timer.get_value() {
            handle.clear();
        }
        let set = set1.clone();
        let handle = set_timeout_with_handle(
            move || {
                timer.set_value(None);
                set(Box::new(move |q: &mut ListQuery| q.q = v));
            },
            SEARCH_DELAY,
        )
        .ok();
        timer.set_value(handle);
    };
    let set2 = set.clone();
    let set3 = set.clone();
    let set4 = set;
    view! {
        <form class="filters" role="search" on:submit=|ev| ev.prevent_default()>
            <div class="field">
                <label for="filter-q">"Search by name"</label>
                <input id="filter-q" type="search" prop:value=move || text.get() on:input=on_search />
            </div>
            <div class="field">
                <label for="filter-status">"Status"</label>
                <select id="filter-status" on:change=move |ev| { let v = event_target_value(&ev); set2(Box::new(move |q: &mut ListQuery| q.status = v)) }>
                    <option value="" prop:selected=move || current.get().status.is_empty()>"Any status"</option>
                    {STATUSES.into_iter().map(|s| { let v = status_param(s); let v2 = v.clone(); view! {
                        <option value=v prop:selected=move || current.get().status == v2>{s.label()}</option>
                    }}).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="filter-label">"Label"</label>
                <select id="filter-label" on:change=move |ev| { let v = event_target_value(&ev); set3(Box::new(move |q: &mut ListQuery| q.label = v)) }>
                    <option value="" prop:selected=move || current.get().label.is_empty()>"Any label"</option>
                    <For each=move || labels.get() key=|l| l.id let:l>
                        {
                            let id = l.id.to_string();
                            view! { <option value=id.clone() prop:selected=move || current.get().label == id>{l.name}</option> }
                        }
                    </For>
                </select>
            </div>
            <div class="field">
                <label for="sort">"Sort by"</label>
                <select id="sort" on:change=move |ev| { let v = event_target_value(&ev); set4(Box::new(move |q: &mut ListQuery| q.sort = v)) }>
                    <option value="" prop:selected=move || current.get().sort.is_empty()>"Last updated"</option>
                    <option value="name" prop:selected=move || current.get().sort == "name">"Name"</option>
                    <option value="next_run" prop:selected=move || current.get().sort == "next_run">"Next run"</option>
                    <option value="status" prop:selected=move || current.get().sort == "status">"Status"</option>
                </select>
            </div>
        </form>
    }
}
