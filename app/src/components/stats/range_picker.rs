use jiff::civil::Date;
use leptos::prelude::*;
use shared::stats::RangePreset;

type Range = (Option<Date>, Option<Date>);

/// Date-range presets (last 7 days, last 30 days, lifetime) and a custom range.
#[component]
pub fn RangePicker(
    from: Option<Date>,
    to: Option<Date>,
    /// Today in the ad account's time zone (the presets end today).
    today: Date,
    on_change: Callback<Range>,
) -> impl IntoView {
    let current = RangePreset::matching(from, to, today);
    let custom_open = RwSignal::new(current.is_none());
    let preset = move |p: RangePreset, text: &'static str| {
        let pressed = current == Some(p) && !custom_open.get_untracked();
        view! {
            <button type="button" class="button button--small" aria-pressed=pressed.to_string()
                on:click=move |_| {
                    custom_open.set(false);
                    on_change.run(p.range(today));
                }>{text}</button>
        }
    };
    let custom_from = RwSignal::new(from.map(|d| d.to_string()).unwrap_or_default());
    let custom_to = RwSignal::new(to.map(|d| d.to_string()).unwrap_or_default());
    let apply = move |_| {
        let f = custom_from.get_untracked().parse::<Date>().ok();
        let t = custom_to.get_untracked().parse::<Date>().ok();
        if let (Some(f), Some(t)) = (f, t)
            && f <= t
        {
            on_change.run((Some(f), Some(t)));
        }
    };
    view! {
        <div class="range-picker" role="group" aria-label="Date range">
            {preset(RangePreset::Last7Days, "Last 7 days")}
            {preset(RangePreset::Last30Days, "Last 30 days")}
            {preset(RangePreset::Lifetime, "Lifetime")}
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
