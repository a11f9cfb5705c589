use leptos::prelude::*;
use leptos_meta::Title;

use super::{consent_section::ConsentSection, facebook_section::FacebookSection};

/// `/settings`: the Facebook connection, ads consent and the instance's configuration.
#[component]
pub fn SettingsPage() -> impl IntoView {
    view! {
        <Title text="Settings" />
        <div class="page-header">
            <h1>"Settings"</h1>
        </div>
        <FacebookSection />
        <ConsentSection />
    }
}
