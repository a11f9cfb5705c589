use leptos::prelude::*;

use crate::{
    api::facebook::FbItem,
    components::wizard::{FieldErrors, error_id},
};

/// A searchable list of Facebook objects (ad accounts, campaigns or ad sets) as radio buttons,
/// with each one's id and status. Radio buttons, not a custom listbox: arrow keys, labels and
/// screen readers work without extra code.
#[component]
pub fn FbPicker(
    /// The group's name, e.g. "Ad account"; also names its radio group.
    legend: &'static str,
    /// What the search box finds, e.g. "ad accounts".
    plural: &'static str,
    /// `None` while loading, or the list, or why it could not be loaded.
    #[prop(into)]
    items: Signal<Option<Result<Vec<FbItem>, String>>>,
    /// Shown instead of the list while an earlier choice is missing.
    #[prop(into)]
    waiting: Signal<Option<&'static str>>,
    /// The chosen id.
    #[prop(into)]
    selected: Signal<String>,
    on_select: Callback<String>,
    on_retry: Callback<()>,
    /// The field's path, for its errors (`target.ad_set_id`).
    path: &'static str,
) -> impl IntoView {
    let search = RwSignal::new(String::new());
    let slug = legend.to_lowercase().replace(' ', "-");
    let search_id = format!("{slug}-search");
    let shown = move || {
        let needle = search.get().trim().to_lowercase();
        items.get().map(|r| {
            r.map(|list| {
                list.into_iter()
                    .filter(|i| {
                        needle.is_empty()
                            || i.name.to_lowercase().contains(&needle)
                            || i.id.contains(&needle)
                    })
                    .collect::<Vec<_>>()
            })
        })
    };
    let list = {
        move || {
            if let Some(text) = waiting.get() {
                return view! { <p class="field__hint">{text}</p> }.into_any();
            }
            match shown() {
                None => view! { <p class="loading">{format!("Loading {plural}…")}</p> }.into_any(),
                Some(Err(err)) => view! {
                    <p class="notice notice--error" role="alert">
                        {format!("The {plural} could not be loaded: {err}")} " "
                        <button type="button" class="link-button" on:click=move |_| on_retry.run(())>"Retry"</button>
                    </p>
                }
                .into_any(),
                Some(Ok(list)) if list.is_empty() => view! {
                    <p class="field__hint">{format!("No {plural} match.")}</p>
                }
                .into_any(),
                Some(Ok(list)) => {
                    let slug = slug.clone();
                    view! {
                        <div class="picker__options">
                            {list
                                .into_iter()
                                .map(|item| {
                                    let id = item.id.clone();
                                    let checked = id.clone();
                                    let meta = format!("{} · {}", item.id, item.status);
                                    view! {
                                        <label class="choice picker__option">
                                            <input type="radio" name=slug.clone() value=id.clone()
                                                aria-describedby=error_id(path)
                                                prop:checked=move || selected.get() == checked
                                                on:change=move |_| on_select.run(id.clone()) />
                                            <span class="picker__name">{item.name}</span>
                                            <span class="picker__meta">{meta}</span>
                                        </label>
                                    }
                                })
                                .collect_view()}
                        </div>
                    }
                    .into_any()
                }
            }
        }
    };
    view! {
        <fieldset class="field picker">
            <legend>{legend}</legend>
            <label class="visually-hidden" for=search_id.clone()>{format!("Search {plural}")}</label>
            <input id=search_id type="search" class="picker__search" placeholder=format!("Search {plural}")
                hidden=move || waiting.get().is_some()
                prop:value=move || search.get() on:input=move |ev| search.set(event_target_value(&ev)) />
            {list}
            <FieldErrors path=path />
        </fieldset>
    }
}
