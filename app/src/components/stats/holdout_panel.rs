use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use shared::{
    holdout::{GroupFigures, HoldoutStats, Verdict, format_per_thousand},
    stats::format_count,
};

use crate::{
    api::{holdout as api, load::Load},
    components::stats::view_query::ViewQuery,
};

/// The campaign's lift: conversions per 1,000 people of the audience and of the holdout over
/// the same days (the page's range), the difference with its 95 % interval, and a sentence
/// saying what may be concluded. Nothing at all for a campaign that never held anyone out.
/// `synced` is bumped when a run ends, to read the figures again.
#[component]
pub fn HoldoutPanel(campaign_id: i64, synced: RwSignal<u32>) -> impl IntoView {
    let query = use_query_map();
    let days = Memo::new(move |_| query.with(|q| ViewQuery::from_params(q).stats));
    let stats = Load::new(move || {
        let q = days.get();
        synced.get();
        async move { api::get_holdout_stats(campaign_id, q).await }
    });
    move || {
        match stats.get() {
        Some(Ok(s)) if s.percent.is_some() || s.from.is_some() => {
            view! { <HoldoutFigures stats=s /> }.into_any()
        }
        Some(Err(err)) => view! {
            <section class="holdout" aria-labelledby="holdout-heading">
                <h2 id="holdout-heading">"Holdout lift"</h2>
                <p class="notice notice--error">{format!("The holdout figures could not be loaded: {err}")}</p>
            </section>
        }
        .into_any(),
        _ => ().into_any(),
    }
    }
}

#[component]
fn HoldoutFigures(stats: HoldoutStats) -> impl IntoView {
    let intro = match stats.percent {
        Some(p) => {
            format!("{p} % of the segment is held out: never sent to Facebook, to compare with.")
        }
        None => "The campaign no longer holds anyone out; these figures cover the days it did."
            .to_owned(),
    };
    let days = match (stats.from, stats.to) {
        (Some(from), Some(to)) => {
            format!("Compared from {from} to {to}, the same days for both groups.")
        }
        (Some(from), None) => {
            format!("Compared from {from} to today, the same days for both groups.")
        }
        _ => "No run has held anyone out yet.".to_owned(),
    };
    let Some(event) = stats.event.clone() else {
        return view! {
            <section class="holdout" aria-labelledby="holdout-heading" data-testid="holdout-panel">
                <h2 id="holdout-heading">"Holdout lift"</h2>
                <p>{intro}</p>
                <p class="muted">"Choose a conversion goal in the What step to measure the lift."</p>
            </section>
        }
        .into_any();
    };
    let row = |name: &'static str, g: GroupFigures| {
        let rate = g
            .per_thousand()
            .map_or_else(|| "—".to_owned(), format_per_thousand);
        view! {
            <tr data-group=name.to_lowercase()>
                <th scope="row">{name}</th>
                <td class="num">{format_count(g.people)}</td>
                <td class="num">{format_count(g.converted)}</td>
                <td class="num" data-per-thousand="">{rate}</td>
                <td class="num">{format_count(g.conversions)}</td>
            </tr>
        }
    };
    let lift = stats.lift.map(|l| {
        let relative = l
            .relative
            .map(|r| format!(" ({:+.0} % relative to the holdout)", r * 100.0))
            .unwrap_or_default();
        format!(
            "Lift: {} per 1,000 people{relative}; 95 % confidence interval {} to {}.",
            signed(l.difference_per_thousand),
            signed(l.low_per_thousand),
            signed(l.high_per_thousand),
        )
    });
    let verdict = match stats.verdict {
        Verdict::TooSmall => "too_small",
        Verdict::NoClearDifference => "no_clear_difference",
        Verdict::Lift => "lift",
        Verdict::Negative => "negative",
    };
    let conclusion = stats.conclusion();
    let notice = if stats.verdict == Verdict::Lift {
        "notice notice--ok"
    } else {
        "notice"
    };
    view! {
        <section class="holdout" aria-labelledby="holdout-heading" data-testid="holdout-panel">
            <h2 id="holdout-heading">"Holdout lift"</h2>
            <p>{intro}" "<span class="muted">{days}</span></p>
            <table class="holdout__table">
                <caption class="muted">{format!("People who did \u{201c}{event}\u{201d} while in their group")}</caption>
                <thead>
                    <tr>
                        <th scope="col">"Group"</th>
                        <th scope="col" class="num">"People"</th>
                        <th scope="col" class="num">"Converted"</th>
                        <th scope="col" class="num">"Converted per 1,000"</th>
                        <th scope="col" class="num">"Conversions"</th>
                    </tr>
                </thead>
                <tbody>
                    {row("Audience", stats.audience)}
                    {row("Holdout", stats.holdout)}
                </tbody>
            </table>
            {lift.map(|l| view! { <p class="holdout__lift">{l}</p> })}
            <p class=notice role="status" data-verdict=verdict>{conclusion}</p>
        </section>
    }
    .into_any()
}

/// "+12.3" or "-0.4".
fn signed(v: f64) -> String {
    let text = format_per_thousand(v);
    if text.starts_with('-') || text == "0.0" {
        text
    } else {
        format!("+{text}")
    }
}
