use leptos::{prelude::*, task::spawn_local};
use shared::{
    campaign_list::CampaignListItem, profile_view::ExplainSubject,
    profile_view::MembershipExplanation, profile_view::ProfileSummary, saved_segment::SavedSegment,
};

use super::ExplanationTree;
use crate::api::{self, CampaignFilter};

/// Find a person by identity, e-mail or phone, then ask why they are (or are not) in a
/// campaign's audience or a saved segment right now: the support question every audience tool
/// gets.
#[component]
pub fn PersonFinder() -> impl IntoView {
    let query = RwSignal::new(String::new());
    let found = RwSignal::new(None::<Result<Vec<ProfileSummary>, String>>);
    let person = RwSignal::new(None::<String>);
    let subjects = RwSignal::new((Vec::<CampaignListItem>::new(), Vec::<SavedSegment>::new()));
    let choice = RwSignal::new(String::new());
    let answer = RwSignal::new(None::<Result<MembershipExplanation, String>>);

    let search = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let q = query.get_untracked();
        person.set(None);
        answer.set(None);
        spawn_local(async move {
            let result = api::search_profiles(q).await.map_err(|e| e.to_string());
            found.set(Some(result));
        });
    };
    let pick = move |identity: String| {
        person.set(Some(identity));
        answer.set(None);
        // The list is drawn anew for the new person: nothing is chosen in it yet.
        choice.set(String::new());
        spawn_local(async move {
            let campaigns = api::list_campaigns(CampaignFilter::default())
                .await
                .unwrap_or_default();
            let segments = api::list_segments().await.unwrap_or_default();
            subjects.set((campaigns, segments));
        });
    };
    let explain = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(identity) = person.get_untracked() else {
            return;
        };
        let subject = match choice.get_untracked().split_once(':') {
            Some(("c", id)) => id.parse().ok().map(ExplainSubject::Campaign),
            Some(("s", id)) => id.parse().ok().map(ExplainSubject::SavedSegment),
            _ => None,
        };
        let Some(subject) = subject else {
            answer.set(Some(Err("Choose a campaign or a saved segment.".into())));
            return;
        };
        spawn_local(async move {
            let result = api::explain_profile(identity, subject)
                .await
                .map_err(|e| e.to_string());
            answer.set(Some(result));
        });
    };

    let results = move || {
        found.get().map(|r| match r {
            Err(e) => view! { <p class="notice notice--error" role="alert">{e}</p> }.into_any(),
            Ok(list) if list.is_empty() => {
                view! { <p role="status">"Nobody has that identity, e-mail address or phone number."</p> }
                    .into_any()
            }
            Ok(list) => view! {
                <ul class="person-results" aria-label="People found">
                    {list
                        .into_iter()
                        .map(|p| {
                            let identity = p.identity.clone();
                            let contact = [p.email, p.phone].into_iter().flatten().collect::<Vec<_>>().join(" · ");
                            view! {
                                <li>
                                    <button type="button" class="button" on:click=move |_| pick(identity.clone())>
                                        {p.identity}
                                    </button>
                                    " "
                                    <span class="field__hint">{contact}</span>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            }
            .into_any(),
        })
    };
    let explainer = move || {
        person.get().map(|identity| {
            let (campaigns, segments) = subjects.get();
            view! {
                <form class="why-form" on:submit=explain aria-label=format!("Explain for {identity}")>
                    <div class="field">
                        <label for="why-subject">{format!("Why is {identity} in (or not in)…")}</label>
                        <select id="why-subject" on:change=move |ev| choice.set(event_target_value(&ev))>
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
                        </select>
                    </div>
                    <button type="submit" class="button button--primary">"Explain"</button>
                </form>
            }
        })
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
        <form class="person-search" role="search" on:submit=search>
            <div class="field">
                <label for="person-q">"Find a person"</label>
                <input
                    id="person-q"
                    type="search"
                    placeholder="Identity, e-mail or phone"
                    prop:value=move || query.get()
                    on:input=move |ev| query.set(event_target_value(&ev))
                />
            </div>
            <button type="submit" class="button">"Search"</button>
        </form>
        {results}
        {explainer}
        {verdict}
    }
}
