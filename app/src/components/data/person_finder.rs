use leptos::{prelude::*, task::spawn_local};
use shared::profile_view::ProfileSummary;

use crate::api;

/// Find a person by identity, e-mail or phone; each one found links to their profile page
/// (properties, events, memberships, "why in / why not?", erase).
#[component]
pub fn PersonFinder() -> impl IntoView {
    let query = RwSignal::new(String::new());
    let found = RwSignal::new(None::<Result<Vec<ProfileSummary>, String>>);

    let search = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let q = query.get_untracked();
        spawn_local(async move {
            let result = api::search_profiles(q).await.map_err(|e| e.to_string());
            found.try_set(Some(result));
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
                            let href = profile_href(&p.identity);
                            let contact = [p.email, p.phone].into_iter().flatten().collect::<Vec<_>>().join(" · ");
                            view! {
                                <li>
                                    <a href=href>{p.identity}</a>
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
    }
}

/// The profile page of `identity` (any characters: percent-encoded in the path).
fn profile_href(identity: &str) -> String {
    format!(
        "/data/people/{}",
        String::from(js_sys::encode_uri_component(identity))
    )
}
