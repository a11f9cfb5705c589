use jiff::Timestamp;
use leptos::{prelude::*, task::spawn_local};
use leptos_router::{components::A, hooks::use_navigate};
use shared::{
    campaign::{Campaign, CampaignAction, CampaignStatus, Step, validate_for_publish_in},
    holdout::describe_holdout,
    saved_segment::validate_references,
    schedule::{ScheduleKind, next_run_after_in},
};

use crate::{
    api::{
        self, StatusAction,
        facebook::{self, FbItem},
        load::Load,
    },
    components::wizard::{StepHeading, describe_segment},
    contexts::{
        editor_context::{Editor, use_editor},
        toast_context::use_toasts,
    },
    local_time::schedule_instant,
};

/// Step 5, Overview: every step in plain words with a link back to it, what still stops
/// publishing (or, for a live campaign, saving), and the buttons to save the draft or schedule
/// the campaign. Each outcome is confirmed by a toast on the list the user lands on.
#[component]
pub fn OverviewStep() -> impl IntoView {
    let editor = use_editor();
    let navigate = use_navigate();
    let toasts = use_toasts();
    let labels = Load::new(api::list_labels);
    let names = target_names(editor);
    // To name the saved segments the audience refers to that no longer exist.
    let saved = Load::new(api::list_segments);
    let busy = RwSignal::new(false);
    let message = RwSignal::new(None::<String>);
    let edit_link = move |slug: &str| format!("/campaigns/{}/edit/{slug}", editor.url_id());
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
    // The ad set, campaign and ad account by the names the pickers showed; their ids in small
    // print (and alone while the names load, or if Facebook cannot be asked).
    let what = move || {
        editor.draft.with(|d| {
            let goal = d
                .conversion_goal
                .as_ref()
                .map(|g| format!(" Conversion goal: {}.", g.event));
            let goal = goal.unwrap_or_default();
            let Some(t) = d.target.as_ref().filter(|t| !t.ad_set_id.is_empty()) else {
                return (format!("Not chosen yet.{goal}"), None);
            };
            let ids = format!(
                "Ad account {} · campaign {} · ad set {}",
                t.ad_account_id, t.campaign_id, t.ad_set_id
            );
            let text = match names.get().flatten() {
                Some([account, campaign, ad_set]) => format!(
                    "Ad set \u{201c}{}\u{201d} of the Facebook campaign \u{201c}{}\u{201d} in the ad account \u{201c}{}\u{201d}.",
                    ad_set.unwrap_or_else(|| t.ad_set_id.clone()),
                    campaign.unwrap_or_else(|| t.campaign_id.clone()),
                    account.unwrap_or_else(|| t.ad_account_id.clone()),
                ),
                None => format!(
                    "Ad set {} of Facebook campaign {} in ad account {}.",
                    t.ad_set_id, t.campaign_id, t.ad_account_id
                ),
            };
            (text + &goal, Some(ids))
        })
    };
    // Consent filtering (Settings → Ads consent) and what the last real run held back for it.
    let consent = Load::new(api::settings::get_consent);
    let runs = Load::new(move || api::runs::list_runs(editor.id_untracked()));
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
            let mut result = editor.flush().await.map(|()| None);
            if result.is_ok() && publish {
                result = api::change_status(editor.id_untracked(), StatusAction::Publish)
                    .await
                    .map(|c| {
                        editor.status.set(c.status);
                        Some(c)
                    });
                if let Err(err) = &result {
                    editor.fail(err);
                }
            }
            busy.set(false);
            match result {
                Ok(published) => {
                    toasts.show(confirmation(editor, published.as_ref()));
                    navigate("/campaigns", Default::default());
                }
                Err(err) => message.set(Some(err.to_string())),
            }
        });
    };
    let finish2 = finish.clone();
    let can_publish = move || editor.status.get().allows(CampaignAction::Publish);
    let live = move || editor.status.get() != CampaignStatus::Draft;
    let edit = move |slug: &'static str, title: &'static str| {
        view! { " " <A href=move || edit_link(slug) attr:aria-label=format!("Edit {title}")>"Edit"</A> }
    };
    view! {
        <StepHeading title="Overview" />
        <p class="notice notice--info" hidden=move || !live()>
            {move || format!(
                "This campaign is live ({}). Your changes are saved as you make them and apply from its next run.",
                editor.status.get().label().to_lowercase()
            )}
        </p>
        <dl class="overview">
            <div class="overview__item"><dt>"When"</dt><dd>{when}{edit("when", "When")}</dd></div>
            <div class="overview__item"><dt>"Who"</dt><dd>{who}{edit("who", "Who")}</dd></div>
            <div class="overview__item">
                <dt>"What"</dt>
                <dd>
                    {move || what().0}
                    {edit("what", "What")}
                    <small class="overview__ids" hidden=move || what().1.is_none()>{move || what().1}</small>
                </dd>
            </div>
            <div class="overview__item"><dt>"Labels"</dt><dd>{label_names}{edit("labels", "Labels")}</dd></div>
        </dl>
        {move || consent_line().map(|line| view! { <p class="notice" role="note">{line}</p> })}
        <section class="overview__problems" aria-labelledby="problems-heading">
            <h3 id="problems-heading">
                {move || if live() { "Before your changes can be saved" } else { "Before you can schedule" }}
            </h3>
            <Show when=move || !problems.get().is_empty() fallback=|| view! { <p class="notice notice--ok">"Everything is ready."</p> }>
                <ul>
                    <For each=move || problems.get() key=|e| (e.path.clone(), e.message.clone()) let:e>
                        {
                            let slug = match Step::of_path(&e.path) {
                                Some(Step::When) => "when", Some(Step::Who) => "who",
                                Some(Step::What) => "what", Some(Step::Labels) => "labels", None => "overview",
                            };
                            view! { <li><A href=move || edit_link(slug)>{e.message.clone()}</A></li> }
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

/// The names of the campaign's ad account, Facebook campaign and ad set, as the What step's
/// pickers list them (each `None` when it is not in its list); `None` while they load or when
/// no ad set is chosen.
fn target_names(editor: Editor) -> Load<Option<[Option<String>; 3]>> {
    let target = Memo::new(move |_| editor.draft.with(|d| d.target.clone()));
    Load::new(move || {
        let target = target.get().filter(|t| !t.ad_set_id.is_empty());
        async move {
            let t = target?;
            let name = |list: Result<Vec<FbItem>, api::ClientError>, id: &str| {
                list.ok()?.into_iter().find(|i| i.id == id).map(|i| i.name)
            };
            Some([
                name(facebook::list_ad_accounts().await, &t.ad_account_id),
                name(
                    facebook::list_campaigns(t.ad_account_id.clone()).await,
                    &t.campaign_id,
                ),
                name(
                    facebook::list_ad_sets(t.campaign_id.clone()).await,
                    &t.ad_set_id,
                ),
            ])
        }
    })
}

/// What the toast says once the Overview's button did its work: the campaign scheduled, with
/// its first run by `shared`'s schedule math in the schedule's zone; or the draft or the
/// changes saved.
fn confirmation(editor: Editor, published: Option<&Campaign>) -> String {
    let name = editor.draft.with_untracked(|d| d.name.trim().to_owned());
    let Some(c) = published else {
        return match editor.status.get_untracked() {
            CampaignStatus::Draft => format!("Draft \u{201c}{name}\u{201d} saved."),
            _ => format!("Changes to \u{201c}{name}\u{201d} saved."),
        };
    };
    let first = c.schedule.as_ref().and_then(|s| {
        if matches!(s.kind, ScheduleKind::Now) {
            return Some("it runs now".to_owned());
        }
        let run = editor
            .zones
            .with_untracked(|z| next_run_after_in(s, c.published_at?, None, z))?;
        // In the viewer's zone, and on the schedule's clock when that reads differently.
        let (viewer, campaign) = schedule_instant(&run.utc.to_string(), &s.time_zone);
        Some(match campaign {
            Some(campaign) => format!("first run {viewer} ({campaign})"),
            None => format!("first run {viewer}"),
        })
    });
    match first {
        Some(first) => format!("Campaign \u{201c}{name}\u{201d} scheduled \u{2014} {first}."),
        None => format!("Campaign \u{201c}{name}\u{201d} scheduled."),
    }
}
