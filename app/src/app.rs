//! The app shell (top bar, navigation, footer) and the route table.

use leptos::prelude::*;
use leptos_meta::{Title, provide_meta_context};
use leptos_router::{
    components::{Redirect, Route, Router, Routes},
    path,
};

use crate::{
    components::layout::{ServerFooter, SideNav, TopBar},
    pages::{
        campaigns::CampaignsPage, not_found_page::NotFoundPage, segments::SegmentsPage,
        settings::SettingsPage,
    },
};

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
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
                        <Route path=path!("/segments") view=SegmentsPage />
                        <Route path=path!("/settings") view=SettingsPage />
                    </Routes>
                </main>
                <ServerFooter />
            </div>
        </Router>
    }
}
