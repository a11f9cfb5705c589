use leptos::{prelude::*, task::spawn_local};
use shared::{
    campaign_list::CampaignListItem,
    profile_view::{ExplainSubject, MembershipExplanation},
    saved_segment::SavedSegment,
};

use super::ExplanationTree;
use crate::{
    api::{self, CampaignFilter},
    local_time,
};

/// "Why in / why not?": the person's membership of a chosen campaign's audience or saved
/// segment, evaluated now or at one of the campaign's runs (its segment's instant), as a tree of
/// every rule's verdict and the figure behind it. The support question every audience tool gets.
#[component]
pub fn MembershipExplainer(identity: String) -> impl IntoView {
    let subjects = RwSignal::new((Vec::<CampaignListItem>::new(), Vec::<SavedSegment>::new()));
    let choice = RwSignal::new(String::new());
    let answer = RwSignal::new(None::<Result<MembershipExplanation, String>>);
    // A campaign's runs, newest first: "as of" one of them evaluates at its instant.
    let runs = RwSignal::new(Vec::<shared::sync::RunRow>::new());
    let at = RwSignal::new(String::new());
    let choose = move |value: String| {
        at.set(String::new());
        runs.set(Vec::new());
        if let Some(id) = value
            .strip_prefix("c:")
            .and_then(|id| id.parse::<i64>().ok())
        {
            spawn_local(async move {
                let list = api::runs::list_runs(id).await.unwrap_or_default();
                runs.try_set(
                    list.into_iter()
                        .filter(|r| r.trigger != "dry_run" && r.state == "succeeded")
                        .collect(),
                );
            });
        }
        choice.set(value);
    };
    spawn_local(async move {
        let campaigns = api::list_campaigns(CampaignFilter::default())
            .await
            .unwrap_or_default();
        let segments = api::list_segments().await.unwrap_or_default();
        subjects.try_set((campaigns, segments));
    });
    let form_label = format!("Explain for {identity}");
    let select_label = format!("Why is {identity} in (or not in)…");
    let who = identity;
    let explain = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let subject = match choice.get_untracked().split_once(':') {
            Some(("c", id)) => id.parse().ok().map(ExplainSubject::Campaign),
            Some(("s", id)) => id.parse().ok().map(ExplainSubject::SavedSegment),
            _ => None,
        };
        let Some(subject) = subject else {
            answer.set(Some(Err("Choose a campaign or a saved segment.".into())));
            return;
        };
        let identity = who.clone();
        let at = Some(at.get_untracked()).filter(|a| !a.is_empty());
        spawn_local(async move {
            let result = api::explain_profile(identity, subject, at)
                .await
                .map_err(|e| e.to_string());
            answer.try_set(Some(result));
        });
    };
    let options = move || {
        let (campaigns, segments) = subjects.get();
        view! {
            <option value="">"Choose a campaign or saved segment"</option>
            <optgroup label="Campaigns">
                {campaigns
                    .into_iter()
                    .map(|c| view! { <option value=format!("c:{}", c.id)>{c.name}</option> })
                    .collect_view()}
            </optgroup>
            <optgroup label="Saved segments">
                {segments
                    .into_iter()
                    .map(|s| view! { <option value=format!("s:{}", s.id)>{s.name}</option> })
                    .collect_view()}
            </optgroup>
        }
    };
    let verdict = move || {
        answer.get().map(|r| match r {
            Err(e) => view! { <p class="notice notice--error" role="alert">{e}</p> }.into_any(),
            Ok(why) => {
                let when = match at.get_untracked() {
                    a if a.is_empty() => "now".to_owned(),
                    a => format!("as of the run of {}", local_time::instant(&a)),
                };
                let headline = format!(
                    "{} {} {} {when}.",
                    why.identity,
                    if why.member { "is in" } else { "is not in" },
                    why.subject
                );
                view! {
                    <section class="why" aria-label="Explanation">
                        <p class="why__verdict" role="status">{headline}</p>
                        <ExplanationTree node=why.explanation />
                    </section>
                }
                .into_any()
            }
        })
    };
    view! {
        <form class="why-form" on:submit=explain aria-label=form_label>
            <div class="field">
                <label for="why-subject">{select_label}</label>
                <select id="why-subject" on:change=move |ev| choose(event_target_value(&ev))>
                    {options}
                </select>
            </div>
            {move || (!runs.with(Vec::is_empty)).then(|| view! {
                <div class="field">
                    <label for="why-at">"As of"</label>
                    <select id="why-at" on:change=move |ev| at.set(event_target_value(&ev))>
                        <option value="">"Now"</option>
                        {runs.get().into_iter().map(|r| {
                            let text = format!("The run of {}", local_time::instant(&r.run_at));
                            view! { <option value=r.run_at>{text}</option> }
                        }).collect_view()}
                    </select>
                </div>
            })}
            <button type="submit" class="button button--primary">"Explain"</button>
        </form>
        {verdict}
    }
}
