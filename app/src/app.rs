//! The app shell (top bar, navigation, footer) and the route table.

use leptos::prelude::*;
use leptos_meta::{Title, provide_meta_context};
use leptos_router::{
    Lazy,
    components::{ParentRoute, Redirect, Route, Router, Routes},
    path,
};

use crate::{
    components::{
        layout::{ServerFooter, SideNav, TopBar},
        toast::ToastRegion,
    },
    contexts::{session_context::provide_session_context, toast_context::provide_toasts},
    lazy_pages::{
        ApiKeysPageRoute, AuditPageRoute, CampaignEditPageRoute, CampaignStatsPageRoute,
        DataPageRoute, ImportPageRoute, LabelsStepRoute, LoginPageRoute, OverviewStepRoute,
        ProfilePageRoute, SegmentsPageRoute, SettingsPageRoute, SetupPageRoute, SharePageRoute,
        UsersPageRoute, WhatStepRoute, WhenStepRoute, WhoStepRoute,
    },
    pages::{campaigns::CampaignsPage, not_found_page::NotFoundPage},
};

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // A share link's page stands alone: no shell, so nothing leads from it into the app.
    if is_share_link() {
        return view! {
            <Router>
                <Routes fallback=NotFoundPage>
                    <Route path=path!("/share/:token") view={Lazy::<SharePageRoute>::new()} />
                </Routes>
            </Router>
        }
        .into_any();
    }
    // Only the app proper has a session (a share link's viewer has none).
    provide_session_context();
    provide_toasts();
    // The navigation's menu on narrow screens: the top bar opens it, choosing a page closes it.
    let menu_open = RwSignal::new(false);
    view! {
        <Title formatter=|page: String| {
            if page.is_empty() { "Facebook Audiences".to_owned() } else { format!("{page} · Facebook Audiences") }
        } />
        <Router>
            <a class="skip-link" href="#main">"Skip to content"</a>
            <div class="shell">
                <TopBar menu_open=menu_open />
                <SideNav open=menu_open />
                <main id="main" class="shell__main" tabindex="-1">
                    <Routes fallback=NotFoundPage>
                        <Route path=path!("/") view=|| view! { <Redirect path="/campaigns" /> } />
                        <Route path=path!("/campaigns") view=CampaignsPage />
                        // The wizard stays mounted across its steps; each step is a child route
                        // so back, forward and reload land on the same step.
                        <ParentRoute path=path!("/campaigns/:id/edit") view={Lazy::<CampaignEditPageRoute>::new()}>
                            <Route path=path!("") view=|| view! { <Redirect path="when" /> } />
                            <Route path=path!("when") view={Lazy::<WhenStepRoute>::new()} />
                            <Route path=path!("who") view={Lazy::<WhoStepRoute>::new()} />
                            <Route path=path!("what") view={Lazy::<WhatStepRoute>::new()} />
                            <Route path=path!("labels") view={Lazy::<LabelsStepRoute>::new()} />
                            <Route path=path!("overview") view={Lazy::<OverviewStepRoute>::new()} />
                        </ParentRoute>
                        <Route path=path!("/campaigns/:id/stats") view={Lazy::<CampaignStatsPageRoute>::new()} />
                        <Route path=path!("/segments") view={Lazy::<SegmentsPageRoute>::new()} />
                        <Route path=path!("/segments/import") view={Lazy::<ImportPageRoute>::new()} />
                        <Route path=path!("/data") view={Lazy::<DataPageRoute>::new()} />
                        <Route path=path!("/data/people/:identity") view={Lazy::<ProfilePageRoute>::new()} />
                        <Route path=path!("/settings") view={Lazy::<SettingsPageRoute>::new()} />
                        <Route path=path!("/login") view={Lazy::<LoginPageRoute>::new()} />
                        <Route path=path!("/setup") view={Lazy::<SetupPageRoute>::new()} />
                        <Route path=path!("/users") view={Lazy::<UsersPageRoute>::new()} />
                        <Route path=path!("/api-keys") view={Lazy::<ApiKeysPageRoute>::new()} />
                        <Route path=path!("/audit") view={Lazy::<AuditPageRoute>::new()} />
                    </Routes>
                </main>
                <ServerFooter />
            </div>
            <ToastRegion />
        </Router>
    }
    .into_any()
}

fn is_share_link() -> bool {
    web_sys::window()
        .and_then(|w| w.location().pathname().ok())
        .is_some_and(|path| path.starts_with("/share/"))
}
