use super::*;

fn day(s: &str) -> Date {
    s.parse().unwrap()
}

fn row(ad: &str, d: &str, impressions: u64, clicks: u64, spend_minor: i64) -> AdDay {
    AdDay {
        ad_id: ad.into(),
        ad_name: format!("Ad {ad}"),
        day: day(d),
        impressions,
        // Each row's people saw its ad twice on average.
        reach: impressions / 2,
        clicks,
        spend_minor,
    }
}

fn reach(ad: Option<&str>, since: &str, until: &str, reach: u64) -> RangeReach {
    RangeReach {
        ad_id: ad.map(str::to_owned),
        since: day(since),
        until: day(until),
        reach,
    }
}

#[test]
fn query_parses_and_reports_every_problem() {
    let q = StatsQuery::parse(Some("2026-11-01"), Some("2026-11-07"), Some("12, 34,12")).unwrap();
    assert_eq!(q.from, Some(day("2026-11-01")));
    assert_eq!(q.ads, vec!["12", "34"], "trimmed and deduplicated");
    assert_eq!(
        q.to_query_string(),
        "from=2026-11-01&to=2026-11-07&ads=12,34"
    );
    assert_eq!(
        StatsQuery::parse(None, Some(""), None).unwrap(),
        StatsQuery::default()
    );

    let errs = StatsQuery::parse(Some("1/11/2026"), Some("2026-13-01"), Some("ab")).unwrap_err();
    let paths: Vec<&str> = errs.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, ["from", "to", "ads"]);
    let errs = StatsQuery::parse(Some("2026-11-08"), Some("2026-11-07"), None).unwrap_err();
    assert_eq!(
        errs[0].message,
        "The end date must be on or after the start date."
    );
    assert!(StatsQuery::parse(Some("2020-01-01"), Some("2026-01-01"), None).is_err());
    let many: Vec<String> = (0..51).map(|i| i.to_string()).collect();
    assert!(StatsQuery::parse(None, None, Some(&many.join(","))).is_err());

    let life = StatsQuery::parse_view(None, Some("2026-11-07"), None, Some("lifetime")).unwrap();
    assert!(life.lifetime);
    assert_eq!(life.to_query_string(), "to=2026-11-07&range=lifetime");
    let errs =
        StatsQuery::parse_view(Some("2026-11-01"), None, None, Some("lifetime")).unwrap_err();
    assert_eq!(errs[0].path, "range", "lifetime has no start of its own");
    let errs = StatsQuery::parse_view(None, None, None, Some("forever")).unwrap_err();
    assert_eq!(errs[0].path, "range");
}

#[test]
fn derived_metrics_use_exact_integer_money() {
    let m = Metrics::derive(3000, 45, 1234);
    assert_eq!(m.ctr, Some(1.5));
    assert_eq!(m.cpc_minor, Some(27), "12.34 / 45 = 0.274 → 27 cents");
    assert_eq!(
        m.cpm_minor,
        Some(411),
        "12.34 × 1000 / 3000 = 4.113 → 411 cents"
    );
    let none = Metrics::derive(0, 0, 0);
    assert_eq!(
        (none.ctr, none.cpc_minor, none.cpm_minor),
        (None, None, None)
    );
    // Half rounds away from zero.
    assert_eq!(Metrics::derive(1, 2, 1).cpc_minor, Some(1));
}

#[test]
fn summaries_filter_by_range_and_ads_but_list_every_ad() {
    let rows = vec![
        row("1", "2026-11-01", 100, 10, 500),
        row("2", "2026-11-01", 200, 5, 700),
        row("1", "2026-11-02", 300, 3, 100),
        row("2", "2026-11-03", 400, 4, 900),
    ];
    let all = StatsQuery::default();
    let (totals, daily, ads) = summarize(&rows, &all, &ReachFigures::default());
    assert_eq!(
        (totals.impressions, totals.clicks, totals.spend_minor),
        (1000, 22, 2200)
    );
    assert_eq!(daily.len(), 3);
    assert_eq!(daily[0].metrics.impressions, 300);
    assert_eq!(ads.len(), 2);

    let one = StatsQuery {
        from: Some(day("2026-11-01")),
        to: Some(day("2026-11-02")),
        ads: vec!["1".into()],
        lifetime: false,
    };
    let (totals, daily, ads) = summarize(&rows, &one, &ReachFigures::default());
    assert_eq!((totals.impressions, totals.spend_minor), (400, 600));
    assert_eq!(
        daily.iter().map(|d| d.day).collect::<Vec<_>>(),
        [day("2026-11-01"), day("2026-11-02")]
    );
    assert_eq!(
        ads.iter()
            .map(|a| (a.ad_id.as_str(), a.selected))
            .collect::<Vec<_>>(),
        [("1", true), ("2", false)]
    );
    assert_eq!(
        ads[1].metrics.impressions, 200,
        "unselected ads keep their own figures"
    );
}

#[test]
fn reach_is_facebooks_count_over_the_range_never_a_sum() {
    let rows = vec![
        row("1", "2026-11-01", 100, 1, 5),
        row("2", "2026-11-01", 200, 2, 7),
        row("1", "2026-11-02", 300, 3, 1),
        row("2", "2026-11-02", 400, 4, 9),
    ];
    let figures = ReachFigures {
        extent: Some((day("2026-11-01"), day("2026-11-02"))),
        ranges: vec![
            // Whole range: fewer people than the days' 50 + 100 + 150 + 200.
            reach(None, "2026-11-01", "2026-11-02", 400),
            reach(None, "2026-11-01", "2026-11-01", 140),
            reach(None, "2026-11-02", "2026-11-02", 330),
            reach(Some("1"), "2026-11-01", "2026-11-02", 180),
            reach(Some("2"), "2026-11-01", "2026-11-02", 260),
        ],
    };
    // Open ends close at the fetched days, so the default query finds the range's figure.
    let (totals, daily, ads) = summarize(&rows, &StatsQuery::default(), &figures);
    assert_eq!(totals.reach, Some(400));
    assert_eq!(totals.frequency, Some(1000.0 / 400.0));
    assert_eq!(format_hundredths(totals.frequency).unwrap(), "2.50");
    assert_eq!(daily[0].metrics.reach, Some(140), "the ad set's day");
    assert_eq!(
        (ads[0].metrics.reach, ads[1].metrics.reach),
        (Some(180), Some(260))
    );

    // One ad: its own range figure, and its own days.
    let one = StatsQuery::parse(None, None, Some("2")).unwrap();
    let (totals, daily, _) = summarize(&rows, &one, &figures);
    assert_eq!(totals.reach, Some(260));
    assert_eq!(daily[1].metrics.reach, Some(200));
    assert_eq!(daily[1].metrics.frequency, Some(2.0));

    // A range Facebook was not asked for has no reach rather than a wrong sum.
    let day_one = StatsQuery::parse(Some("2026-11-01"), Some("2026-11-01"), Some("1")).unwrap();
    let (totals, _, ads) = summarize(&rows, &day_one, &figures);
    assert_eq!((totals.reach, totals.frequency), (None, None));
    assert_eq!(ChartMetric::Reach.format(&totals, "USD"), "—");
    assert_eq!(ads[0].metrics.reach, None);
    // Nor does a choice of several ads out of more.
    let rows3 = [rows, vec![row("3", "2026-11-01", 10, 1, 1)]].concat();
    let two = StatsQuery::parse(None, None, Some("1,2")).unwrap();
    assert_eq!(summarize(&rows3, &two, &figures).0.reach, None);
    assert_eq!(
        ChartMetric::Frequency.format(&Metrics::derive(284, 1, 1).with_reach(Some(200)), "USD"),
        "1.42"
    );
}

#[test]
fn money_is_parsed_exactly_and_formatted_per_currency() {
    assert_eq!(parse_money("100.50", "USD"), Some(10050));
    assert_eq!(parse_money("0.1", "USD"), Some(10));
    assert_eq!(parse_money("12", "INR"), Some(1200));
    assert_eq!(parse_money("1234", "JPY"), Some(1234));
    assert_eq!(parse_money("0.105", "USD"), Some(11));
    assert_eq!(
        parse_money("0.29", "USD"),
        Some(29),
        "no binary float rounding"
    );
    assert_eq!(parse_money("abc", "USD"), None);
    assert_eq!(parse_money("", "USD"), None);
    assert_eq!(money_decimal(10050, "USD"), "100.50");
    assert_eq!(money_decimal(5, "USD"), "0.05");
    assert_eq!(format_money(123_456_789, "USD"), "$1,234,567.89");
    assert_eq!(format_money(8300, "INR"), "₹83.00");
    assert_eq!(format_money(1234, "JPY"), "1,234 JPY");
    assert_eq!(format_count(1_000), "1,000");
    assert_eq!(format_count(999), "999");
}

#[test]
fn csv_has_one_row_per_ad_per_day_and_defuses_formulas() {
    let mut rows = vec![
        row("2", "2026-11-02", 10, 1, 5),
        row("1", "2026-11-02", 20, 2, 1050),
    ];
    rows[1].ad_name = "=HYPERLINK(\"x\"), now".into();
    let csv = to_csv(&rows, &StatsQuery::default(), "USD");
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert_eq!(
        lines[0],
        "date,ad_id,ad_name,impressions,reach,frequency,clicks,spend,currency"
    );
    assert_eq!(
        lines[1],
        "2026-11-02,1,\"'=HYPERLINK(\"\"x\"\"), now\",20,10,2.00,2,10.50,USD"
    );
    assert_eq!(lines[2], "2026-11-02,2,Ad 2,10,5,2.00,1,0.05,USD");
}

#[test]
fn presets_include_today() {
    let today = day("2026-11-28");
    assert_eq!(
        RangePreset::Last7Days.range(today),
        (Some(day("2026-11-22")), Some(today), false)
    );
    let q = StatsQuery::parse(Some("2026-10-30"), Some("2026-11-28"), None).unwrap();
    assert_eq!(
        RangePreset::matching(&q, today),
        Some(RangePreset::Last30Days)
    );
    assert_eq!(
        RangePreset::matching(&StatsQuery::default(), today),
        Some(RangePreset::SinceFirstSync),
        "the default range starts at the first sync"
    );
    let life = StatsQuery::parse_view(None, None, None, Some("lifetime")).unwrap();
    assert_eq!(
        RangePreset::matching(&life, today),
        Some(RangePreset::Lifetime)
    );
}

#[test]
fn percentages_and_instants_format_without_floats_or_strftime() {
    assert_eq!(format_pct(Some(1.5)), "1.50%");
    assert_eq!(format_pct(Some(12.345_6)), "12.35%");
    assert_eq!(format_pct(None), "—");
    let ts: Timestamp = "2026-11-28T21:05:09.123Z".parse().unwrap();
    assert_eq!(format_minute_utc(ts), "2026-11-28 21:05 UTC");
}

#[test]
fn share_links_expire_and_revoke() {
    let now: Timestamp = "2026-11-28T12:00:00Z".parse().unwrap();
    let past: Timestamp = "2026-11-28T11:00:00Z".parse().unwrap();
    assert_eq!(
        ShareLinkStatus::of(None, None, now),
        ShareLinkStatus::Active
    );
    assert_eq!(
        ShareLinkStatus::of(Some(past), None, now),
        ShareLinkStatus::Expired
    );
    assert_eq!(
        ShareLinkStatus::of(None, Some(past), now),
        ShareLinkStatus::Revoked
    );
    assert!(
        NewShareLink {
            expires_at: Some(past)
        }
        .validate(now)
        .is_err()
    );
    assert!(NewShareLink::default().validate(now).is_ok());
}

#[test]
fn cost_per_conversion_is_exact_and_undefined_without_conversions() {
    let on = |d: &str, n| DayConversions {
        day: day(d),
        conversions: n,
    };
    // $100.00 over 3 conversions is $33.333…: rounded to the cent, not a float.
    let c = ConversionStats::new(
        "Charged".into(),
        vec![on("2026-11-01", 2), on("2026-11-03", 1)],
        10_000,
    );
    assert_eq!(c.conversions, 3);
    assert_eq!(c.cost_per_conversion_minor, Some(3_333));
    assert_eq!(c.format_cost("USD"), "$33.33");
    // Half a cent rounds away from zero.
    assert_eq!(cost_per_conversion(5, 2), Some(3));
    let none = ConversionStats::new("Charged".into(), Vec::new(), 10_000);
    assert_eq!(none.cost_per_conversion_minor, None);
    assert_eq!(none.format_cost("USD"), "—");
    assert_eq!(none.format_count(), "0");
}

/// The browser reads the rows the server writes: every metric, flattened into the row, comes
/// back (a metric left out of `metrics_row!` would be lost on the stats page).
#[test]
fn day_and_ad_rows_read_back_what_was_written() {
    let metrics = Metrics {
        impressions: 1_200,
        reach: Some(800),
        frequency: Some(1.5),
        clicks: 36,
        spend_minor: 4_567,
        ctr: Some(3.0),
        cpc_minor: Some(127),
        cpm_minor: Some(3_806),
    };
    let day = DayStats {
        day: jiff::civil::date(2026, 12, 7),
        metrics,
    };
    let json = serde_json::to_string(&day).unwrap();
    assert!(json.contains(r#""spend_minor":4567"#), "flattened: {json}");
    assert_eq!(serde_json::from_str::<DayStats>(&json).unwrap(), day);
    let ad = AdStats {
        ad_id: "120210".into(),
        ad_name: "Festive carousel".into(),
        selected: true,
        metrics,
    };
    let json = serde_json::to_string(&ad).unwrap();
    assert_eq!(serde_json::from_str::<AdStats>(&json).unwrap(), ad);
    // Without the optional metrics, as an older server wrote them.
    let bare = r#"{"ad_id":"1","ad_name":"a","selected":false,"impressions":0,"clicks":0,"spend_minor":0,"ctr":null,"cpc_minor":null,"cpm_minor":null}"#;
    assert_eq!(
        serde_json::from_str::<AdStats>(bare).unwrap().metrics,
        Metrics::default()
    );
}
