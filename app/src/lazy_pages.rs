//! The pages that are not part of the first download. Each is compiled into its own WASM chunk
//! (with what only it uses), which the router fetches the first time it matches the page's
//! route; the first visit downloads only the shell and the campaign list.
//! `cargo xtask build` cuts the module at these split points (`xtask/src/build.rs`, `split`);
//! any other build, such as `cargo test`, calls the functions directly.

use leptos::{prelude::*, wasm_split::SplitLoaderError};
use leptos_router::LazyRoute;

use crate::{
    components::{
        campaigns::{RunMenuItems, RunNotice},
        layout::PageLoadError,
        wizard::{LabelsStep, OverviewStep, WhatStep, WhenStep, WhoStep},
    },
    pages::{
        account::{LoginPage, SetupPage},
        admin::{ApiKeysPage, AuditPage, UsersPage},
        campaigns::CampaignEditPage,
        data::{DataPage, ProfilePage},
        segments::{ImportPage, SegmentsPage},
        settings::SettingsPage,
        stats::{CampaignStatsPage, SharePage},
    },
};

/// For each page: a route type for `Lazy::<…>` and a function, the split point, that renders
/// the page. Pages used together share a module (`in admin`): its pages' code is fetched at
/// once. The splitter puts the code that several modules use into shared chunks, one per set of
/// modules that use it, and a module's loader fetches its chunks in parallel with it; fewer
/// modules keep those chunks few (each one more request, and one more wasm-opt run in the
/// build). `fallible` turns a failed download into an error instead of a panic, which would
/// abort the whole app.
///
/// Each module added multiplies the shared chunks: one module per wizard step (13 modules in
/// all) cut the code into 230 modules, up to 105 files for one page and a 25-minute build
/// (docs/payload.md). A module named `<parent>_<name>` would hold child routes of the pages of
/// `<parent>`: `cargo xtask size` counts the two together against a page's budget.
macro_rules! lazy_pages {
    ($($route:ident => $page:ident as $split:ident in $chunk:ident;)*) => {$(
        pub struct $route;

        #[leptos::wasm_split::wasm_split($chunk, wasm_split_path = ::leptos::wasm_split, fallible)]
        fn $split() -> Result<AnyView, SplitLoaderError> {
            Ok(view! { <$page /> }.into_any())
        }

        impl LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            async fn view(_: Self) -> AnyView {
                $split()
                    .await
                    .unwrap_or_else(|_| view! { <PageLoadError /> }.into_any())
            }
        }
    )*};
}

/// Starts downloading the wizard's code when the user shows the intent to open it (pointer over,
/// or focus on, "+ Campaign" or a campaign's name), so that it is there, or on its way, at the
/// click. Once loaded, later calls do nothing; a failure is left to the wizard's own load to
/// report.
pub fn prefetch_wizard() {
    leptos::task::spawn_local(async {
        let _ = __wasm_split_preload_campaign_edit_page().await;
    });
}

/// A part of a page whose code is downloaded when it is first needed (`load`, a split point):
/// "Loading…" until it is here, and a way out if the download fails.
pub fn lazy_view(
    load: impl Future<Output = Result<AnyView, SplitLoaderError>> + 'static,
) -> impl IntoView {
    let slot = StoredValue::new_local(None::<AnyView>);
    let ready = RwSignal::new(false);
    leptos::task::spawn_local(async move {
        let view = load
            .await
            .unwrap_or_else(|_| view! { <PageLoadError /> }.into_any());
        slot.try_set_value(Some(view));
        ready.try_set(true);
    });
    move || {
        if ready.get() {
            slot.try_update_value(Option::take).flatten()
        } else {
            Some(view! { <p class="loading" role="status">"Loading…"</p> }.into_any())
        }
    }
}

/// What a campaign row's Sync menu needs to render its items ([`run_menu_items`]).
pub struct RunMenuArgs {
    pub campaign_id: i64,
    pub name: String,
    pub run_now: bool,
    pub busy: bool,
    pub on_notice: Callback<RunNotice>,
}

/// The items of a campaign row's Sync menu ("Run now", "Dry run" and the reading of their
/// answers): the list is the first download, and most visits open no menu. They come with the
/// stats page's module, which has the same buttons: in a module of their own (tried 2026-12-07)
/// they cost the first visit as much less, but the code both use became a chunk of its own
/// (8.3 KB brotli, compressed apart from the rest) and the extra group cut every chunk shared
/// with it in more pieces: the stats page's download grew from 152.5 to 166.5 KB.
#[leptos::wasm_split::wasm_split(stats, wasm_split_path = ::leptos::wasm_split, fallible)]
pub fn run_menu_items(args: RunMenuArgs) -> Result<AnyView, SplitLoaderError> {
    let RunMenuArgs {
        campaign_id,
        name,
        run_now,
        busy,
        on_notice,
    } = args;
    Ok(view! {
        <RunMenuItems campaign_id=campaign_id name=name run_now=run_now busy=busy on_notice=on_notice />
    }
    .into_any())
}

/// Starts downloading the Sync menu's items (the stats page's module) when the user points at,
/// or focuses, a "Sync" button, as [`prefetch_wizard`] does for the wizard.
pub fn prefetch_run_menu() {
    leptos::task::spawn_local(async {
        let _ = __wasm_split_preload_run_menu_items().await;
    });
}

lazy_pages! {
    CampaignEditPageRoute => CampaignEditPage as campaign_edit_page in wizard;
    WhenStepRoute => WhenStep as when_step in wizard;
    WhoStepRoute => WhoStep as who_step in wizard;
    WhatStepRoute => WhatStep as what_step in wizard;
    LabelsStepRoute => LabelsStep as labels_step in wizard;
    OverviewStepRoute => OverviewStep as overview_step in wizard;
    CampaignStatsPageRoute => CampaignStatsPage as campaign_stats_page in stats;
    SharePageRoute => SharePage as share_page in stats;
    SegmentsPageRoute => SegmentsPage as segments_page in segments;
    // Importing (CSV and NDJSON parsing, linked from Data and Segments) is a page of its own:
    // with Segments it made that group 23 KB heavier, with Data 50 KB (docs/payload.md).
    ImportPageRoute => ImportPage as import_page in import;
    // Signed-in users, who open the list day after day, never need these two.
    LoginPageRoute => LoginPage as login_page in account;
    SetupPageRoute => SetupPage as setup_page in account;
    DataPageRoute => DataPage as data_page in data;
    ProfilePageRoute => ProfilePage as profile_page in data;
    SettingsPageRoute => SettingsPage as settings_page in settings;
    UsersPageRoute => UsersPage as users_page in admin;
    ApiKeysPageRoute => ApiKeysPage as api_keys_page in admin;
    AuditPageRoute => AuditPage as audit_page in admin;
}
