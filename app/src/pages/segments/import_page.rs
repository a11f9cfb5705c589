use leptos::{prelude::*, task::spawn_local};
use leptos_meta::Title;
use shared::csv_import::{
    ImportKind, RowError, import_summary, is_ndjson, records_from_csv, records_from_ndjson,
};
use wasm_bindgen::JsCast;

use crate::api;

/// Rows sent per request: small enough for the progress bar to move, far under the 1000 limit.
const BATCH: usize = 250;

/// Where an import stands, for the status line.
#[derive(Clone, Copy, PartialEq)]
struct Progress {
    /// What a CSV file holds; `None` for NDJSON (profiles and events mixed).
    kind: Option<ImportKind>,
    /// Data rows in the file (every line after a CSV header, every NDJSON line).
    rows: usize,
    /// Rows that became records, and how many of those were sent so far.
    to_send: usize,
    sent: usize,
    imported: usize,
    failed: usize,
    finished: bool,
}

impl Progress {
    fn text(&self) -> String {
        if self.finished {
            import_summary(self.kind, self.rows, self.imported, self.failed)
        } else {
            format!("Sending {} of {} rows…", self.sent, self.to_send)
        }
    }
}

/// `/segments/import`: profiles or events from a CSV file, or upload records as NDJSON, for
/// marketers without engineers. The file is parsed in the browser, sent in batches with a
/// progress bar, and every line that could not be imported is listed with its number and the
/// reason, in the file's own column names.
#[component]
pub fn ImportPage() -> impl IntoView {
    let kind = RwSignal::new(ImportKind::Profiles);
    let progress = RwSignal::new(None::<Progress>);
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
        progress.set(None);
        let kind = kind.get_untracked();
        spawn_local(async move {
            let text = match wasm_bindgen_futures::JsFuture::from(file.text()).await {
                Ok(v) => v.as_string().unwrap_or_default(),
                Err(_) => {
                    failure.set(Some("The file could not be read.".into()));
                    return;
                }
            };
            let ndjson = is_ndjson(&file.name(), &text);
            let parsed = if ndjson {
                records_from_ndjson(&text)
            } else {
                records_from_csv(&text, kind)
            };
            let mut report = parsed.errors;
            let mut state = Progress {
                kind: (!ndjson).then_some(kind),
                rows: parsed.rows,
                to_send: parsed.records.len(),
                sent: 0,
                imported: 0,
                failed: report.len(),
                finished: false,
            };
            progress.set(Some(state));
            for batch in parsed.records.chunks(BATCH) {
                let records = batch.iter().map(|r| r.record.clone()).collect();
                match api::import_profiles(records).await {
                    Ok(answer) => {
                        state.imported += answer.processed;
                        report.extend(answer.unprocessed.into_iter().filter_map(|f| {
                            batch.get(f.index).map(|r| RowError {
                                line: r.line,
                                message: parsed.columns.explain(&f.error),
                            })
                        }));
                    }
                    Err(err) => {
                        failure.set(Some(format!(
                            "The import stopped after {} of {} rows: {err}",
                            state.sent, state.to_send
                        )));
                        break;
                    }
                }
                state.sent += batch.len();
                state.failed = report.len();
                progress.set(Some(state));
            }
            state.failed = report.len();
            state.finished = true;
            progress.set(Some(state));
            report.sort_by_key(|e| e.line);
            errors.set(report);
        });
    };
    let status = move || {
        progress.get().map(|p| {
            view! {
                <progress max=p.to_send.max(1).to_string() value=p.sent.to_string() aria-label="Import progress"></progress>
                <p role="status">{p.text()}</p>
            }
        })
    };
    let kind_radio = move |value: ImportKind, label: &'static str, hint: &'static str| {
        view! {
            <label class="choice">
                <input
                    type="radio"
                    name="import-kind"
                    prop:checked=move || kind.get() == value
                    on:change=move |_| kind.set(value)
                />
                <span>{label}</span>
                <span class="field__hint">{hint}</span>
            </label>
        }
    };
    view! {
        <Title text="Import data" />
        <div class="page-header">
            <h1>"Import data"</h1>
        </div>
        <p class="step-intro">
            "Choose a CSV file whose first line names the columns, or an NDJSON file of upload API records (one JSON record a line). Every CSV file needs an "
            <code>"identity"</code>
            " column; the other columns become properties of the profile or the event."
        </p>
        <fieldset class="field choice-group">
            <legend>"What does the CSV file hold?"</legend>
            {kind_radio(ImportKind::Profiles, "Profiles", "One person a row: Email, Phone in +E.164 form, City…")}
            {kind_radio(ImportKind::Events, "Events", "One event a row: an event column (its name) and a timestamp column (2026-12-01T09:30:00Z, or epoch seconds)")}
        </fieldset>
        <div class="field">
            <label for="csv-file">"File"</label>
            <input id="csv-file" type="file" accept=".csv,text/csv,.ndjson,.jsonl,application/x-ndjson" on:change=on_file />
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
