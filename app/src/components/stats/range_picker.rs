use jiff::civil::Date;
use leptos::prelude::*;
use shared::stats::{QueryRange, RangePreset, StatsQuery};

/// Date-range presets (since the first sync, the default; last 7 days; last 30 days; lifetime)
/// and a custom range.
#[component]
pub fn RangePicker(
    /// The view's range (what the buttons show as pressed).
    from: Option<Date>,
    to: Option<Date>,
    /// Whether the view is the ad set's lifetime.
    lifetime: bool,
    /// Today in the ad account's time zone (the presets end today).
    today: Date,
    /// Whether the campaign has synced yet: before, "Since first sync" would be the lifetime.
    synced: bool,
    on_change: Callback<QueryRange>,
) -> impl IntoView {
    let query = StatsQuery {
        from,
        to,
        lifetime,
        ..StatsQuery::default()
    };
    let current = RangePreset::matching(&query, today);
    let custom_open = RwSignal::new(current.is_none());
    let preset = move |p: RangePreset| {
        let pressed = current == Some(p) && !custom_open.get_untracked();
        let title = match p {
            RangePreset::SinceFirstSync if !synced => {
                "The campaign has not synced yet: every day of the ad set so far"
            }
            RangePreset::SinceFirstSync => "From the day of the campaign's first audience sync",
            RangePreset::Lifetime => "Every day of the ad set, also before this campaign",
            _ => "",
        };
        view! {
            <button type="button" class="button button--small" aria-pressed=pressed.to_string()
                title=title
                on:click=move |_| {
                    custom_open.set(false);
                    on_change.run(p.range(today));
                }>{p.label()}</button>
        }
    };
    let custom_from = RwSignal::new(query.from.map(|d| d.to_string()).unwrap_or_default());
    let custom_to = RwSignal::new(query.to.map(|d| d.to_string()).unwrap_or_default());
    let apply = move |_| {
        let f = custom_from.get_untracked().parse::<Date>().ok();
        let t = custom_to.get_untracked().parse::<Date>().ok();
        if let (Some(f), Some(t)) = (f, t)
            && f <= t
        {
            on_change.run((Some(f), Some(t), false));
        }
    };
    view! {
        <div class="range-picker" role="group" aria-label="Date range">
            {RangePreset::ALL.into_iter().map(preset).collect_view()}
            <button type="button" class="button button--small"
                aria-pressed=move || custom_open.get().to_string()
                on:click=move |_| custom_open.set(true)>"Custom"</button>
            <span class="range-picker__custom" hidden=move || !custom_open.get()>
                <label>"From " <input type="date" bind:value=custom_from /></label>
                <label>"To " <input type="date" bind:value=custom_to /></label>
                <button type="button" class="button button--small" on:click=apply>"Apply"</button>
            </span>
        </div>
    }
}
