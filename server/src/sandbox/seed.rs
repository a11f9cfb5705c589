//! The sandbox's deterministic starting data: two ad accounts (USD and INR), three campaigns each,
//! two ad sets per campaign (with targeting) and two ads per ad set.

use serde_json::json;

use super::{Kind, Node, SandboxState, obj};

pub const ACCOUNTS: [(&str, &str, &str, &str); 2] = [
    (
        "100000000000001",
        "Acme Store US",
        "USD",
        "America/Los_Angeles",
    ),
    ("100000000000002", "Acme Store India", "INR", "Asia/Kolkata"),
];

const CAMPAIGNS: [(&str, &str, &str); 3] = [
    ("Spring Sale", "OUTCOME_SALES", "ACTIVE"),
    ("Win-back", "OUTCOME_ENGAGEMENT", "ACTIVE"),
    ("Brand Awareness", "OUTCOME_AWARENESS", "PAUSED"),
];

pub fn seed(state: &mut SandboxState) {
    for (n, (account_id, name, currency, tz)) in ACCOUNTS.into_iter().enumerate() {
        let act = format!("act_{account_id}");
        let country = if currency == "INR" { "IN" } else { "US" };
        state.insert(
            act.clone(),
            Node {
                kind: Kind::Account,
                account: "me".into(),
                parent: None,
                fields: obj(vec![
                    ("id", json!(act)),
                    ("account_id", json!(account_id)),
                    ("name", json!(name)),
                    ("currency", json!(currency)),
                    ("timezone_name", json!(tz)),
                    ("account_status", json!(1)),
                    (
                        "business",
                        json!({ "id": super::BUSINESS_ID, "name": "Acme Inc." }),
                    ),
                    ("tos_accepted", json!({ "custom_audience_tos": 1 })),
                ]),
            },
        );
        for (c, (cname, objective, status)) in CAMPAIGNS.into_iter().enumerate() {
            let campaign = state.new_id();
            state.insert(
                campaign.clone(),
                Node {
                    kind: Kind::Campaign,
                    account: act.clone(),
                    parent: None,
                    fields: obj(vec![
                        ("id", json!(campaign)),
                        ("account_id", json!(account_id)),
                        ("name", json!(format!("{cname} ({country})"))),
                        ("objective", json!(objective)),
                        ("status", json!(status)),
                        ("effective_status", json!(status)),
                        ("buying_type", json!("AUCTION")),
                        ("created_time", json!("2026-09-01T10:00:00+0000")),
                    ]),
                },
            );
            for s in 0..2 {
                let adset = state.new_id();
                let targeting = json!({
                    "geo_locations": { "countries": [country], "location_types": ["home", "recent"] },
                    "age_min": 18 + 7 * s,
                    "age_max": 65,
                    "genders": if s == 0 { json!([1, 2]) } else { json!([2]) },
                    "publisher_platforms": ["facebook", "instagram"],
                    "targeting_automation": { "advantage_audience": 0 },
                });
                let effective = if status == "PAUSED" {
                    "CAMPAIGN_PAUSED"
                } else {
                    "ACTIVE"
                };
                state.insert(
                    adset.clone(),
                    Node {
                        kind: Kind::AdSet,
                        account: act.clone(),
                        parent: Some(campaign.clone()),
                        fields: obj(vec![
                            ("id", json!(adset)),
                            ("account_id", json!(account_id)),
                            ("campaign_id", json!(campaign)),
                            ("name", json!(format!("{cname} – set {}", s + 1))),
                            ("status", json!("ACTIVE")),
                            ("effective_status", json!(effective)),
                            (
                                "daily_budget",
                                json!(format!("{}", (2000 + 500 * (c + s)) * (1 + 79 * n))),
                            ),
                            ("billing_event", json!("IMPRESSIONS")),
                            ("optimization_goal", json!("REACH")),
                            ("start_time", json!("2026-09-01T10:00:00+0000")),
                            ("targeting", targeting),
                        ]),
                    },
                );
                for a in 0..2 {
                    let ad = state.new_id();
                    state.insert(
                        ad.clone(),
                        Node {
                            kind: Kind::Ad,
                            account: act.clone(),
                            parent: Some(adset.clone()),
                            fields: obj(vec![
                                ("id", json!(ad)),
                                ("account_id", json!(account_id)),
                                ("campaign_id", json!(campaign)),
                                ("adset_id", json!(adset)),
                                ("name", json!(format!("{cname} – ad {}", a + 1))),
                                ("status", json!("ACTIVE")),
                                ("effective_status", json!(effective)),
                            ]),
                        },
                    );
                }
            }
        }
    }
}
