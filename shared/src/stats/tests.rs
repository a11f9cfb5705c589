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
        clicks,
        spend_minor,
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
    let (totals, daily, ads) = summarize(&rows, &all);
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
    };
    let (totals, daily, ads) = summarize(&rows, &one);
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
        "date,ad_id,ad_name,impressions,clicks,spend,currency"
    );
    assert_eq!(
        lines[1],
        "2026-11-02,1,\"'=HYPERLINK(\"\"x\"\"), now\",20,2,10.50,USD"
    );
    assert_eq!(lines[2], "2026-11-02,2,Ad 2,10,1,0.05,USD");
}

#[test]
fn presets_include_today() {
    let today = day("2026-11-28");
    assert_eq!(
        RangePreset::Last7Days.range(today),
        (Some(day("2026-11-22")), Some(today))
    );
    assert_eq!(
        RangePreset::matching(Some(day("2026-10-30")), Some(today), today),
        Some(RangePreset::Last30Days)
    );
    assert_eq!(
        RangePreset::matching(None, None, today),
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
