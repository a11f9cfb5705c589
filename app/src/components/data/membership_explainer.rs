use leptos::{prelude::*, task::spawn_local};
use shared::{
    campaign_list::CampaignListItem,
    profile_view::{ExplainSubject, MembershipExplanation},
    saved_segment::SavedSegment,
};

use super::ExplanationTree;
use crate::api::{self, CampaignFilter};

/// "Why in / why not?": the person's membership of a chosen campaign's audience or saved
/// segment, evaluated now, as a tree of every rule's verdict and the figure behind it. The
/// support question every audience tool gets.
#[component]
pub fn MembershipExplainer(identity: String) -> impl IntoView {
    let subjects = RwSignal::new((Vec::<CampaignListItem>::new(), Vec::<SavedSegment>::new()));
    let choice = RwSignal::new(String::new());
    let answer = RwSignal::new(None::<Result<MembershipExplanation, String>>);
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
        spawn_local(async move {
            let result = api::explain_profile(identity, subject)
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
                let headline = format!(
                    "{} is {} {} now.",
                    why.identity,
                    if why.member { "in" } else { "not in" },
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
                <select id="why-subject" on:change=move |ev| choice.set(event_target_value(&ev))>
                    {options}
                </select>
            </div>
            <button type="submit" class="button button--primary">"Explain"</button>
        </form>
        {verdict}
    }
}
