use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_params_map};

use crate::{
    api::{load::Load, profiles as api},
    components::data::{
        EraseProfileButton, EventTimeline, MembershipExplainer, ProfileMemberships,
        ProfileProperties,
    },
    contexts::session_context::use_session,
};

/// `/data/people/{identity}`: one person — properties with their types, match keys (masked),
/// the saved segments and campaign audiences they are in, "why in / why not?", their events
/// newest first, and (admins) erasing them.
#[component]
pub fn ProfilePage() -> impl IntoView {
    let params = use_params_map();
    let identity = Memo::new(move |_| params.with(|p| p.get("identity").unwrap_or_default()));
    let profile = Load::new(move || {
        let identity = identity.get();
        api::get_profile(identity)
    });
    let session = use_session();
    view! {
        <Title text="Person" />
        <p class="breadcrumb"><A href="/data">"Data"</A></p>
        {move || match profile.get() {
            None => view! { <p class="loading">"Loading the profile…"</p> }.into_any(),
            Some(Err(err)) => view! {
                <div class="page-header"><h1>{identity.get()}</h1></div>
                <p class="notice notice--error" role="alert">{format!("The profile could not be loaded: {err}")}</p>
            }.into_any(),
            Some(Ok(p)) => {
                let meta = format!(
                    "First seen {}; last updated {}.",
                    crate::local_time::instant(&p.created_at.to_string()),
                    crate::local_time::instant(&p.updated_at.to_string())
                );
                let erase = session
                    .is_admin()
                    .then(|| view! { <EraseProfileButton identity=p.identity.clone() /> });
                view! {
                    <div class="page-header">
                        <h1>{p.identity.clone()}</h1>
                        <div class="page-header__actions">{erase}</div>
                    </div>
                    <p class="profile-meta">{meta}</p>
                    <section class="data-section" aria-labelledby="person-props">
                        <h2 id="person-props">"Profile"</h2>
                        <ProfileProperties properties=p.properties match_keys=p.match_keys />
                    </section>
                    <section class="data-section" aria-labelledby="person-in">
                        <h2 id="person-in">"Segments and audiences"</h2>
                        <ProfileMemberships segments=p.segments campaigns=p.campaigns />
                    </section>
                    <section class="data-section" aria-labelledby="person-why">
                        <h2 id="person-why">"Why in / why not?"</h2>
                        <MembershipExplainer identity=p.identity.clone() />
                    </section>
                    <section class="data-section" aria-labelledby="person-events">
                        <h2 id="person-events">"Events"</h2>
                        <EventTimeline identity=p.identity first=p.events />
                    </section>
                }.into_any()
            }
        }}
    }
}
