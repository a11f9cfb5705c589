//! The app shell (top bar, navigation, footer) and the route table.

use leptos::prelude::*;
use leptos_meta::{Title, provide_meta_context};
use leptos_router::{
    components::{ParentRoute, Redirect, Route, Router, Routes},
    path,
};

use crate::{
    components::{
        layout::{ServerFooter, SideNav, TopBar},
        wizard::{LabelsStep, OverviewStep, WhatStep, WhenStep, WhoStep},
    },
    contexts::session_context::provide_session_context,
    contexts::time_zones_context::provide_time_zones,
    pages::{
        account::{LoginPage, SetupPage},
        admin::{ApiKeysPage, AuditPage, UsersPage},
        campaigns::{CampaignEditPage, CampaignsPage},
        not_found_page::NotFoundPage,
        segments::{ImportPage, SegmentsPage},
        settings::SettingsPage,
        stats::{CampaignStatsPage, SharePage},
    },
};

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // A share link's page stands alone: no shell, so nothing leads from it into the app.
    if is_share_link() {
        return view! {
            <Router>
                <Routes fallback=NotFoundPage>
                    <Route path=path!("/share/:token") view=SharePage />
                </Routes>
            </Router>
        }
        .into_any();
    }
    // Only the app proper has a session (a share link's viewer has none) and edits schedules.
    provide_session_context();
    provide_time_zones();
    view! {
        <Title formatter=|page: String| {
            if page.is_empty() { "Facebook Audiences".to_owned() } else { format!("{page} · Facebook Audiences") }
        } />
        <Router>
            <a class="skip-link" href="#main">"Skip to content"</a>
            <div class="shell">
                <TopBar />
                <SideNav />
                <main id="main" class="shell__main" tabindex="-1">
                    <Routes fallback=NotFoundPage>
                        <Route path=path!("/") view=|| view! { <Redirect path="/campaigns" /> } />
                        <Route path=path!("/campaigns") view=CampaignsPage />
                        // The wizard stays mounted across its steps; each step is a child route
                        // so back, forward and reload land on the same step.
                        <ParentRoute path=path!("/campaigns/:id/edit") view=CampaignEditPage>
                            <Route path=path!("") view=|| view! { <Redirect path="when" /> } />
                            <Route path=path!("when") view=WhenStep />
                            <Route path=path!("who") view=WhoStep />
                            <Route path=path!("what") view=WhatStep />
                            <Route path=path!("labels") view=LabelsStep />
                            <Route path=path!("overview") view=OverviewStep />
                        </ParentRoute>
                        <Route path=path!("/campaigns/:id/stats") view=CampaignStatsPage />
                        <Route path=path!("/segments") view=SegmentsPage />
                        <Route path=path!("/segments/import") view=ImportPage />
                        <Route path=path!("/settings") view=SettingsPage />
                        <Route path=path!("/login") view=LoginPage />
                        <Route path=path!("/setup") view=SetupPage />
                        <Route path=path!("/users") view=UsersPage />
                        <Route path=path!("/api-keys") view=ApiKeysPage />
                        <Route path=path!("/audit") view=AuditPage />
                    </Routes>
                </main>
                <ServerFooter />
            </div>
        </Router>
    }
    .into_any()
}

fn is_share_link() -> bool {
    web_sys::window()
        .and_then(|w| w.location().pathname().ok())
        .is_some_and(|path| path.starts_with("/share/"))
}
