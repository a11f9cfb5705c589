use leptos::{prelude::*, task::spawn_local};
use shared::label::{LabelInput, is_duplicate_name, validate_label};

use crate::{
    api::{self, load::Load},
    components::wizard::{FieldErrors, StepHeading},
    contexts::editor_context::use_editor,
};

/// Step 4, Labels: tick existing labels, or create one and add it in one go.
#[component]
pub fn LabelsStep() -> impl IntoView {
    let editor = use_editor();
    let labels = Load::new(api::list_labels);
    let new_name = RwSignal::new(String::new());
    let create_error = RwSignal::new(None::<String>);
    let known = move || labels.get().and_then(Result::ok).unwrap_or_default();
    let has = move |id: i64| editor.draft.with(|d| d.labels.contains(&id));
    let toggle = move |id: i64| {
        editor.edit(|d| match d.labels.iter().position(|l| *l == id) {
            Some(pos) => {
                d.labels.remove(pos);
            }
            None => d.labels.push(id),
        })
    };
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let input = LabelInput {
            name: new_name.get_untracked().trim().to_owned(),
            color: None,
        };
        // The same checks the server makes, so most mistakes never leave the browser.
        if let Some(e) = validate_label(&input).into_iter().next() {
            create_error.set(Some(e.message));
            return;
        }
        if is_duplicate_name(&known(), &input.name, None) {
            create_error.set(Some(
                "A label with this name already exists: tick it above.".into(),
            ));
            return;
        }
        spawn_local(async move {
            match api::create_label(input).await {
                Ok(label) => {
                    new_name.set(String::new());
                    create_error.set(None);
                    editor.edit(|d| d.labels.push(label.id));
                    labels.refetch();
                }
                Err(err) => create_error.set(Some(
                    err.fields()
                        .into_iter()
                        .next()
                        .map_or_else(|| err.to_string(), |f| f.message),
                )),
            }
        });
    };
    view! {
        <StepHeading title="Labels" />
        <p class="step-intro">"Labels group campaigns so you can filter the list by them. They are optional."</p>
        <fieldset class="field choice-group">
            <legend>"Labels on this campaign"</legend>
            {move || match labels.get() {
                None => view! { <p class="loading">"Loading labels…"</p> }.into_any(),
                Some(Err(err)) => view! { <p class="notice notice--error" role="alert">{err.to_string()}</p> }.into_any(),
                Some(Ok(list)) if list.is_empty() => view! { <p class="field__hint">"No labels yet: create the first one below."</p> }.into_any(),
                Some(Ok(list)) => view! {
                    <For each=move || list.clone() key=|l| l.id let:label>
                        {
                            let id = label.id;
                            view! {
                                <label class="choice">
                                    <input type="checkbox" prop:checked=move || has(id) on:change=move |_| toggle(id) />
                                    {label.name}
                                </label>
                            }
                        }
                    </For>
                }.into_any(),
            }}
        </fieldset>
        <FieldErrors path="labels" />
        <form class="inline-form" on:submit=create>
            <div class="field">
                <label for="new-label">"New label"</label>
                <input id="new-label" type="text" maxlength="40" aria-describedby="new-label-error"
                    prop:value=move || new_name.get()
                    on:input=move |ev| new_name.set(event_target_value(&ev)) />
            </div>
            <button type="submit" class="button">"Create label"</button>
        </form>
        <p id="new-label-error" class="field-errors__message" aria-live="polite">{move || create_error.get()}</p>
    }
}
