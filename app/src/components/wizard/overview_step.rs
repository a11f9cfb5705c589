use jiff::Timestamp;
use leptos::{prelude::*, task::spawn_local};
use leptos_router::{components::A, hooks::use_navigate};
use shared::{
    campaign::{CampaignAction, Step, validate_for_publish_in},
    holdout::describe_holdout,
    saved_segment::validate_references,
};

use crate::{
    api::{self, StatusAction, load::Load},
    components::wizard::describe_segment,
    contexts::editor_context::use_editor,
};

/// Step 5, Overview: every step in plain words with a link back to it, what still stops
/// publishing, and the buttons to save the draft or schedule the campaign.
#[component]
pub fn OverviewStep() -> impl IntoView {
    let editor = use_editor();
    let navigate = use_navigate();
    let labels = Load::new(api::list_labels);
    // To name the saved segments the audience refers to that no longer exist.
    let saved = Load::new(api::list_segments);
    let busy = RwSignal::new(false);
    let message = RwSignal::new(None::<String>);
    let edit_link = move |slug: &str| format!("/campaigns/{}/edit/{slug}", editor.id);
    let problems = Memo::new(move |_| {
        let mut all = editor.draft.with(|d| {
            editor
                .zones
                .with(|z| validate_for_publish_in(d, Timestamp::now(), z))
        });
        if let Some(Ok(list)) = saved.get() {
            let gone = editor.draft.with(|d| {
                d.audience.as_ref().map_or_else(Vec::new, |a| {
                    validate_references(None, a, "audience", &|id| {
                        list.iter()
                            .find(|s| s.id == id)
                            .map(|s| s.definition.clone())
                    })
                })
            });
            for e in gone {
                if !all.contains(&e) {
                    all.push(e);
                }
            }
        }
        for e in editor.server_errors.get() {
            if !all.contains(&e) {
                all.push(e);
            }
        }
        all
    });
    let when = move || {
        editor.draft.with(|d| match &d.schedule {
            Some(s) => format!("{} ({})", s.summary(), s.time_zone),
            None => "Not chosen yet.".into(),
        })
    };
    let who = move || {
        editor.draft.with(|d| {
            let segment = d
                .audience
                .as_ref()
                .map_or_else(|| "Not chosen yet.".into(), describe_segment);
            format!("{segment} {}", describe_holdout(d.holdout_percent))
        })
    };
    let what = move || {
        editor.draft.with(|d| {
            let target = match &d.target {
                Some(t) if !t.ad_set_id.is_empty() => format!(
                    "Ad set {} of Facebook campaign {} in ad account {}.",
                    t.ad_set_id, t.campaign_id, t.ad_account_id
                ),
                _ => "Not chosen yet.".into(),
            };
            match &d.conversion_goal {
                Some(g) => format!("{target} Conversion goal: {}.", g.event),
                None => target,
            }
        })
    };
    // Consent filtering (Settings → Ads consent) and what the last real run held back for it.
    let consent = Load::new(api::settings::get_consent);
    let runs = Load::new(move || api::runs::list_runs(editor.id));
    let consent_line = move || {
        let settings = consent.get().and_then(Result::ok)?;
        let last_held = runs.get().and_then(Result::ok).and_then(|runs| {
            runs.into_iter()
                .find(|r| r.trigger != "dry_run" && r.state == "succeeded")
                .and_then(|r| r.consent_held)
        });
        shared::consent::overview_line(&settings, last_held)
    };
    let label_names = move || {
        let all = labels.get().and_then(Result::ok).unwrap_or_default();
        let names: Vec<String> = editor.draft.with(|d| {
            d.labels
                .iter()
                .filter_map(|id| all.iter().find(|l| l.id == *id).map(|l| l.name.clone()))
                .collect()
        });
        if names.is_empty() {
            "No labels.".to_owned()
        } else {
            names.join(", ")
        }
    };
    let finish = move |publish: bool| {
        let navigate = navigate.clone();
        busy.set(true);
        message.set(None);
        spawn_local(async move {
            let mut result = editor.flush().await;
            if result.is_ok() && publish {
                result = api::change_status(editor.id, StatusAction::Publish)
                    .await
                    .map(|c| editor.status.set(c.status));
                if let Err(err) = &result {
                    editor.fail(err);
                }
            }
            busy.set(false);
            match result {
                Ok(()) => navigate("/campaigns", Default::default()),
                Err(err) => message.set(Some(err.to_string())),
            }
        });
    };
    let finish2 = finish.clone();
    let can_publish = move || editor.status.get().allows(CampaignAction::Publish);
    let section = move |slug: &'static str,
                        title: &'static str,
                        text: Box<dyn Fn() -> String + Send + Sync>| {
        view! {
            <div class="overview__item">
                <dt>{title}</dt>
                <dd>{move || text()}" "<A href=edit_link(slug) attr:aria-label=format!("Edit {title}")>"Edit"</A></dd>
            </div>
        }
    };
    view! {
        <h2>"Overview"</h2>
        <dl class="overview">
            {section("when", "When", Box::new(when))}
            {section("who", "Who", Box::new(who))}
            {section("what", "What", Box::new(what))}
            {section("labels", "Labels", Box::new(label_names))}
        </dl>
        {move || consent_line().map(|line| view! { <p class="notice" role="note">{line}</p> })}
        <section class="overview__problems" aria-labelledby="problems-heading">
            <h3 id="problems-heading">"Before you can schedule"</h3>
            <Show when=move || !problems.get().is_empty() fallback=|| view! { <p class="notice notice--ok">"Everything is ready."</p> }>
                <ul>
                    <For each=move || problems.get() key=|e| (e.path.clone(), e.message.clone()) let:e>
                        {
                            let slug = match Step::of_path(&e.path) {
                                Some(Step::When) => "when", Some(Step::Who) => "who",
                                Some(Step::What) => "what", Some(Step::Labels) => "labels", None => "overview",
                            };
                            view! { <li><A href=edit_link(slug)>{e.message.clone()}</A></li> }
                        }
                    </For>
                </ul>
            </Show>
        </section>
        <p class="notice notice--error" role="alert" hidden=move || message.get().is_none()>{move || message.get()}</p>
        <div class="overview__actions">
            <button type="button" class="button" disabled=move || busy.get() on:click=move |_| finish(false)>
                {move || if can_publish() { "Save draft" } else { "Save changes" }}
            </button>
            <Show when=can_publish>
                <button type="button" class="button button--primary" disabled=move || busy.get()
                    on:click={let finish = finish2.clone(); move |_| finish(true)}>"Schedule"</button>
            </Show>
        </div>
    }
}
