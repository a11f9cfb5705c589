use leptos::{prelude::*, task::spawn_local};
use leptos_meta::Title;
use shared::csv_import::{RowError, profiles_from_csv};
use wasm_bindgen::JsCast;

use crate::api;

/// Rows sent per request: small enough for the progress bar to move, far under the 1000 limit.
const BATCH: usize = 250;

/// `/segments/import`: profiles from a CSV file, for marketers without engineers. The file is
/// parsed in the browser, sent in batches with a progress bar, and every line that could not be
/// imported is listed with its number and the reason.
#[component]
pub fn ImportPage() -> impl IntoView {
    let progress = RwSignal::new(None::<(usize, usize)>);
    let imported = RwSignal::new(0usize);
    let errors = RwSignal::new(Vec::<RowError>::new());
    let failure = RwSignal::new(None::<String>);
    let on_file = move |ev: leptos::ev::Event| {
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        let Some(file) = input.files().and_then(|f| f.get(0)) else {
            return;
        };
        errors.set(Vec::new());
        failure.set(None);
        imported.set(0);
        spawn_local(async move {
            let text = match wasm_bindgen_futures::JsFuture::from(file.text()).await {
                Ok(v) => v.as_string().unwrap_or_default(),
                Err(_) => {
                    failure.set(Some("The file could not be read.".into()));
                    return;
                }
            };
            let parsed = profiles_from_csv(&text);
            let mut report = parsed.errors;
            let total = parsed.records.len();
            progress.set(Some((0, total)));
            for batch in parsed.records.chunks(BATCH) {
                let records = batch.iter().map(|(_, r)| r.clone()).collect();
                match api::import_profiles(records).await {
                    Ok(answer) => {
                        imported.update(|n| *n += answer.processed);
                        report.extend(answer.unprocessed.into_iter().filter_map(|f| {
                            batch.get(f.index).map(|(line, _)| RowError {
                                line: *line,
                                message: f.error,
                            })
                        }));
                    }
                    Err(err) => {
                        failure.set(Some(format!("The import stopped: {err}")));
                        break;
                    }
                }
                progress.update(|p| {
                    if let Some((done, _)) = p {
                        *done += batch.len();
                    }
                });
            }
            report.sort_by_key(|e| e.line);
            errors.set(report);
        });
    };
    let status = move || {
        progress.get().map(|(done, total)| {
            view! {
                <progress max=total.to_string() value=done.to_string() aria-label="Import progress"></progress>
                <p role="status">{move || format!("{done} of {total} rows sent; {} profiles imported.", imported.get())}</p>
            }
        })
    };
    view! {
        <Title text="Import profiles" />
        <div class="page-header">
            <h1>"Import profiles"</h1>
        </div>
        <p class="step-intro">
            "Choose a CSV file whose first line names the columns. One column must be "
            <code>"identity"</code>
            "; the others become profile properties (Email, Phone in +E.164 form, City…)."
        </p>
        <div class="field">
            <label for="csv-file">"CSV file"</label>
            <input id="csv-file" type="file" accept=".csv,text/csv" on:change=on_file />
        </div>
        {status}
        <p class="notice notice--error" role="alert" hidden=move || failure.get().is_none()>{move || failure.get()}</p>
        <Show when=move || !errors.get().is_empty()>
            <table class="campaigns import-errors">
                <caption>"Rows not imported"</caption>
                <thead>
                    <tr><th scope="col">"Line"</th><th scope="col">"Problem"</th></tr>
                </thead>
                <tbody>
                    <For each=move || errors.get() key=|e| (e.line, e.message.clone()) let:e>
                        <tr><td>{e.line}</td><td>{e.message}</td></tr>
                    </For>
                </tbody>
            </table>
        </Show>
        <p><a href="/segments">"Back to segments"</a></p>
    }
}
