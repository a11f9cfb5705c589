//! Segment's HTTP Tracking API at `/v1/…`: what an application instrumented with Segment or
//! RudderStack sends, over HTTP with a write key, on both databases.

use std::io::Write as _;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, UPLOAD_KEY, error_body, spawn_app, with_pool};

/// A client with no session and no `Origin`, as a customer's server.
fn server_client() -> reqwest::Client {
    reqwest::Client::new()
}

async fn send(app: &TestApp, path: &str, body: &Value) -> reqwest::Response {
    server_client()
        .post(app.url(path))
        .basic_auth(UPLOAD_KEY, Some(""))
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn ok(app: &TestApp, path: &str, body: &Value) {
    let res = send(app, path, body).await;
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    assert_eq!(res.json::<Value>().await.unwrap(), json!({"success": true}));
}

/// `key → value as text` of a profile's properties (numbers as `n:<value>`).
async fn props(app: &TestApp, identity: &str) -> Vec<(String, String)> {
    let rows: Vec<(String, String, Option<String>, Option<f64>)> = with_pool!(&app.server.state.db, pool => sqlx::query_as(
            "select pp.key, pp.kind, pp.t, pp.n from profile_props pp \
             join profiles p on p.id = pp.profile_id where p.identity = $1 order by pp.key",
        )
        .bind(identity)
        .fetch_all(pool)
        .await
        .unwrap());
    rows.into_iter()
        .map(|(k, kind, t, n)| {
            let v = match (t, n) {
                (Some(t), _) => t,
                (None, Some(n)) => format!("{kind}:{n}"),
                _ => "-".into(),
            };
            (k, v)
        })
        .collect()
}

fn prop<'a>(props: &'a [(String, String)], key: &str) -> Option<&'a str> {
    props
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// `(email, phone, first_name, city, country)` of a profile, when it exists.
type Keys = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

async fn keys(app: &TestApp, identity: &str) -> Option<Keys> {
    with_pool!(&app.server.state.db, pool => sqlx::query_as(
        "select email, phone, first_name, city, country from profiles where identity = $1",
    )
    .bind(identity)
    .fetch_optional(pool)
    .await
    .unwrap())
}

/// `(event name, ts, props as JSON text)` of a profile's events, by time.
async fn events(app: &TestApp, identity: &str) -> Vec<(String, i64, Value)> {
    // Read from the tables, as the server's readers do: the staged events merged first.
    server::customer::writer::flush(&app.server.state.db)
        .await
        .unwrap();
    let rows: Vec<(String, i64, String)> = with_pool!(&app.server.state.db, pool => sqlx::query_as(
        "select n.name, e.ts, cast(e.props as text) from events e \
         join profiles p on p.id = e.profile_id join event_names n on n.id = e.name_id \
         where p.identity = $1 order by e.ts, n.name",
    )
    .bind(identity)
    .fetch_all(pool)
    .await
    .unwrap());
    rows.into_iter()
        .map(|(n, ts, p)| (n, ts, serde_json::from_str(&p).unwrap()))
        .collect()
}

async fn profile_count(app: &TestApp) -> i64 {
    let data: Value = app.get("/api/data").await.json().await.unwrap();
    data["profiles"].as_i64().unwrap()
}

fn epoch(iso: &str) -> i64 {
    iso.parse::<jiff::Timestamp>().unwrap().as_second()
}

#[tokio::test]
async fn the_write_key_is_the_basic_auth_user_name_of_an_api_key() {
    let app = spawn_app().await;
    let body = json!({"userId":"u1","event":"Signed Up"});
    let url = app.url("/v1/track");
    // No key, a wrong key, the key as the password, a session cookie: 401 naming the scheme.
    let res = server_client().post(&url).json(&body).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(error_body(res).await.error.message.contains("HTTP Basic"));
    let res = server_client()
        .post(&url)
        .basic_auth("wrong", Some(""))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = server_client()
        .post(&url)
        .basic_auth("", Some(UPLOAD_KEY))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = app.http.post(&url).json(&body).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(events(&app, "u1").await.is_empty());

    // UPLOAD_API_KEY, and a key an admin creates (the upload API's keys), without any Origin.
    ok(&app, "/v1/track", &body).await;
    let created: Value = app
        .post("/api/api-keys", &json!({"name": "Segment"}))
        .await
        .json()
        .await
        .unwrap();
    let secret = created["secret"].as_str().unwrap().to_owned();
    let res = server_client()
        .post(&url)
        .basic_auth(&secret, None::<&str>)
        .json(&json!({"userId":"u1","event":"Logged In"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let names: Vec<String> = events(&app, "u1").await.into_iter().map(|e| e.0).collect();
    assert_eq!(names.len(), 2, "{names:?}");
    // The same key still works for the upload API.
    let res = server_client()
        .post(app.url("/api/v1/upload"))
        .header("X-Api-Key", &secret)
        .json(&json!({"d":[{"type":"profile","identity":"u1","profileData":{"City":"Pune"}}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    app.stop().await;
}

#[tokio::test]
async fn segment_limits_are_enforced_and_named() {
    let app = spawn_app().await;
    let big = "x".repeat(33 * 1024);
    let res = send(
        &app,
        "/v1/track",
        &json!({"userId":"u1","event":"X","properties":{"p": big}}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        error_body(res)
            .await
            .error
            .message
            .contains("32 KB per call")
    );

    let batch: Vec<Value> = (0..20)
        .map(|i| json!({"type":"track","userId":format!("u{i}"),"event":"X","properties":{"p":"y".repeat(30_000)}}))
        .collect();
    let res = send(&app, "/v1/batch", &json!({ "batch": batch })).await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        error_body(res)
            .await
            .error
            .message
            .contains("500 KB per batch")
    );

    // In a batch, a message over 32 KB is refused on its own; the others are stored, and the
    // refusal is on the Data page.
    let res = send(
        &app,
        "/v1/batch",
        &json!({"batch":[
            {"type":"track","userId":"u1","event":"Small"},
            {"type":"track","userId":"u2","event":"Big","properties":{"p": big}},
            {"type":"track","userId":"u3"}
        ]}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(events(&app, "u1").await.len(), 1);
    assert!(events(&app, "u2").await.is_empty());
    let data: Value = app.get("/api/data").await.json().await.unwrap();
    let reasons: Vec<&str> = data["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["error"].as_str().unwrap())
        .collect();
    assert!(reasons.iter().any(|r| r.contains("32 KB")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("'event'")), "{reasons:?}");
    let source = data["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["source"] == "segment_api")
        .unwrap();
    assert_eq!(
        (source["stored"].as_u64(), source["refused"].as_u64()),
        (Some(1), Some(2))
    );

    // Not JSON, and not a message: 400.
    let res = server_client()
        .post(app.url("/v1/identify"))
        .basic_auth(UPLOAD_KEY, Some(""))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = send(&app, "/v1/batch", &json!({"messages": []})).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(error_body(res).await.error.message.contains("'batch'"));
    let res = send(&app, "/v1/unknown", &json!({"userId": "u"})).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    app.stop().await;
}

#[tokio::test]
async fn every_call_type_is_stored_with_typed_values_and_match_keys() {
    let app = spawn_app().await;
    ok(
        &app,
        "/v1/identify",
        &json!({"userId":"u1","traits":{
            "email":" Ann@Example.COM ","phone":"+1 (415) 555-1234","firstName":"Ann",
            "lastName":"Lee","gender":"female","birthday":"1990-04-21",
            "address":{"city":"São Paulo","state":"SP","postalCode":"01310-100","country":"BR"},
            "plan":"pro","logins":12,"vip":true}}),
    )
    .await;
    ok(
        &app,
        "/v1/track",
        &json!({"userId":"u1","event":"Order Completed","timestamp":"2026-12-01T10:00:00Z",
            "properties":{"total":30.5,"coupon":"XMAS","paid":true,"products":[{"sku":"a"}]}}),
    )
    .await;
    ok(
        &app,
        "/v1/page",
        &json!({"userId":"u1","name":"Pricing","timestamp":"2026-12-01T10:01:00Z",
            "properties":{"path":"/pricing"}}),
    )
    .await;
    ok(
        &app,
        "/v1/screen",
        &json!({"userId":"u1","name":"Home","timestamp":"2026-12-01T10:02:00Z"}),
    )
    .await;
    ok(
        &app,
        "/v1/group",
        &json!({"userId":"u1","groupId":"acme","traits":{"name":"Acme Inc","employees":40}}),
    )
    .await;

    let k = keys(&app, "u1").await.unwrap();
    assert_eq!(k.0.as_deref(), Some("ann@example.com"));
    assert_eq!(k.1.as_deref(), Some("+14155551234"));
    assert_eq!(k.2.as_deref(), Some("ann"));
    assert_eq!(k.3.as_deref(), Some("saopaulo"));
    assert_eq!(k.4.as_deref(), Some("br"));
    let p = props(&app, "u1").await;
    assert_eq!(prop(&p, "plan"), Some("pro"));
    assert_eq!(prop(&p, "logins"), Some("number:12"));
    assert_eq!(prop(&p, "vip"), Some("boolean:1"));
    assert_eq!(
        prop(&p, "birthday"),
        Some(format!("date:{}", epoch("1990-04-21T00:00:00Z")).as_str())
    );
    assert_eq!(prop(&p, "address.city"), Some("São Paulo"));
    assert_eq!(prop(&p, "groupId"), Some("acme"));
    assert_eq!(prop(&p, "group.employees"), Some("number:40"));

    let ev = events(&app, "u1").await;
    let names: Vec<&str> = ev.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(names, ["Order Completed", "Page Viewed", "Screen Viewed"]);
    assert_eq!(ev[0].1, epoch("2026-12-01T10:00:00Z"));
    assert_eq!(
        ev[0].2,
        json!({"total":30.5,"coupon":"XMAS","paid":true,"products":["{\"sku\":\"a\"}"]})
    );
    assert_eq!(ev[1].2, json!({"name":"Pricing","path":"/pricing"}));

    // The catalog sees the types, as for the upload API.
    let catalog: Value = app.get("/api/catalog").await.json().await.unwrap();
    let order = catalog["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "Order Completed")
        .unwrap();
    assert!(
        order["properties"]
            .as_array()
            .unwrap()
            .contains(&json!({"name":"total","type":"number"}))
    );
    app.stop().await;
}

#[tokio::test]
async fn anonymous_calls_are_merged_into_the_profile_an_identify_or_alias_links() {
    let app = spawn_app().await;
    // Before signing up: two page views and a trait, under the anonymous id only.
    ok(
        &app,
        "/v1/batch",
        &json!({"batch":[
            {"type":"page","anonymousId":"anon-1","name":"Home","timestamp":"2026-12-01T09:00:00Z"},
            {"type":"track","anonymousId":"anon-1","event":"Product Viewed","timestamp":"2026-12-01T09:01:00Z"},
            {"type":"identify","anonymousId":"anon-1","timestamp":"2026-12-01T09:02:00Z",
             "traits":{"plan":"free","utm_source":"ads","email":"early@example.com"}}
        ]}),
    )
    .await;
    assert_eq!(events(&app, "anonymous:anon-1").await.len(), 2);
    assert_eq!(profile_count(&app).await, 1);

    // The sign-up: identify with both ids, with a newer plan.
    ok(
        &app,
        "/v1/identify",
        &json!({"userId":"u1","anonymousId":"anon-1","timestamp":"2026-12-01T09:05:00Z",
            "traits":{"plan":"pro","email":"ann@example.com"}}),
    )
    .await;
    assert!(keys(&app, "anonymous:anon-1").await.is_none());
    assert_eq!(profile_count(&app).await, 1);
    let names: Vec<String> = events(&app, "u1").await.into_iter().map(|e| e.0).collect();
    assert_eq!(names, ["Page Viewed", "Product Viewed"]);
    let p = props(&app, "u1").await;
    // Newer message wins (the identify's plan); what only the anonymous profile had is kept.
    assert_eq!(prop(&p, "plan"), Some("pro"));
    assert_eq!(prop(&p, "utm_source"), Some("ads"));
    assert_eq!(
        keys(&app, "u1").await.unwrap().0.as_deref(),
        Some("ann@example.com")
    );

    // A later call with only the anonymous id lands on the identified profile.
    ok(
        &app,
        "/v1/track",
        &json!({"anonymousId":"anon-1","event":"Added to Cart","timestamp":"2026-12-01T09:10:00Z"}),
    )
    .await;
    assert!(keys(&app, "anonymous:anon-1").await.is_none());
    assert_eq!(events(&app, "u1").await.len(), 3);

    // alias: previousId → userId.
    ok(
        &app,
        "/v1/track",
        &json!({"anonymousId":"anon-2","event":"Product Viewed","timestamp":"2026-12-02T09:00:00Z"}),
    )
    .await;
    assert_eq!(profile_count(&app).await, 2);
    ok(
        &app,
        "/v1/alias",
        &json!({"previousId":"anon-2","userId":"u2"}),
    )
    .await;
    assert_eq!(events(&app, "u2").await.len(), 1);
    assert_eq!(profile_count(&app).await, 2);
    let data: Value = app.get("/api/data").await.json().await.unwrap();
    assert_eq!(data["events"], 4);

    // Erasing u1 forgets its device too: the device's next anonymous call is someone new.
    let res = app
        .http
        .delete(app.url("/api/profiles/u1"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    ok(
        &app,
        "/v1/track",
        &json!({"anonymousId":"anon-1","event":"Product Viewed","timestamp":"2026-12-03T09:00:00Z"}),
    )
    .await;
    assert!(keys(&app, "u1").await.is_none());
    assert_eq!(events(&app, "anonymous:anon-1").await.len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn clock_skew_is_corrected_and_message_ids_are_stored_once() {
    let app = spawn_app().await;
    // The device's clock is ten years fast; the event waited 10 s on it before being sent.
    let msg = json!({"type":"track","userId":"u1","event":"Opened","messageId":"m-1",
        "timestamp":"2036-12-01T10:00:00Z"});
    let before = jiff::Timestamp::now().as_second();
    ok(
        &app,
        "/v1/batch",
        &json!({"batch":[msg.clone()],"sentAt":"2036-12-01T10:00:10Z"}),
    )
    .await;
    let after = jiff::Timestamp::now().as_second();
    let ev = events(&app, "u1").await;
    assert_eq!(ev.len(), 1);
    assert!(
        (before - 11..=after - 9).contains(&ev[0].1),
        "{} not 10 s before {before}..{after}",
        ev[0].1
    );
    // The SDK resends the batch later (a lost answer): the same messageId, stored once.
    ok(
        &app,
        "/v1/batch",
        &json!({"batch":[msg],"sentAt":"2036-12-01T10:00:40Z"}),
    )
    .await;
    assert_eq!(events(&app, "u1").await.len(), 1);
    // Two identical events with different messageIds are two events.
    for id in ["m-2", "m-3"] {
        ok(
            &app,
            "/v1/track",
            &json!({"userId":"u1","event":"Tapped","messageId":id,"timestamp":"2026-12-01T10:00:00Z"}),
        )
        .await;
    }
    assert_eq!(events(&app, "u1").await.len(), 3);
    app.stop().await;
}

#[tokio::test]
async fn an_older_message_never_overwrites_a_newer_property_on_either_api() {
    let app = spawn_app().await;
    // Segment: the newer identify arrives first, then an older one (a backfill).
    ok(
        &app,
        "/v1/identify",
        &json!({"userId":"s1","timestamp":"2026-12-02T00:00:00Z",
            "traits":{"plan":"pro","email":"new@example.com"}}),
    )
    .await;
    ok(
        &app,
        "/v1/identify",
        &json!({"userId":"s1","timestamp":"2026-12-01T00:00:00Z",
            "traits":{"plan":"free","email":"old@example.com","address":{"city":"Pune"}}}),
    )
    .await;
    let p = props(&app, "s1").await;
    assert_eq!(prop(&p, "plan"), Some("pro"));
    // What the newer message did not set is taken from the older one.
    assert_eq!(prop(&p, "address.city"), Some("Pune"));
    let k = keys(&app, "s1").await.unwrap();
    assert_eq!(k.0.as_deref(), Some("new@example.com"));
    assert_eq!(k.3.as_deref(), Some("pune"));

    // Out of order inside one batch too.
    ok(
        &app,
        "/v1/batch",
        &json!({"batch":[
            {"type":"identify","userId":"s2","timestamp":"2026-12-03T00:00:00Z","traits":{"plan":"pro"}},
            {"type":"identify","userId":"s2","timestamp":"2026-12-01T00:00:00Z","traits":{"plan":"free"}}
        ]}),
    )
    .await;
    assert_eq!(prop(&props(&app, "s2").await, "plan"), Some("pro"));

    // The upload API: `ts` orders the same way, across and within uploads.
    for d in [
        json!([{"type":"profile","identity":"c1","ts":2_000,"profileData":{"City":"Pune","Email":"new@x.com"}}]),
        json!([{"type":"profile","identity":"c1","ts":1_000,"profileData":{"City":"Delhi","Email":"old@x.com","Plan":"gold"}},
               {"type":"profile","identity":"c2","ts":3_000,"profileData":{"City":"Goa"}},
               {"type":"profile","identity":"c2","ts":1_000,"profileData":{"City":"Agra"}}]),
    ] {
        let body: Value = app.upload(&json!({ "d": d })).await.json().await.unwrap();
        assert_eq!(body["status"], "success", "{body}");
    }
    let p = props(&app, "c1").await;
    assert_eq!(prop(&p, "City"), Some("Pune"));
    assert_eq!(prop(&p, "Plan"), Some("gold"));
    let k = keys(&app, "c1").await.unwrap();
    assert_eq!(
        (k.0.as_deref(), k.3.as_deref()),
        (Some("new@x.com"), Some("pune"))
    );
    assert_eq!(prop(&props(&app, "c2").await, "City"), Some("Goa"));
    // A newer message still replaces.
    app.upload(&json!({"d":[{"type":"profile","identity":"c1","ts":2_001,"profileData":{"City":"Mumbai"}}]}))
        .await;
    assert_eq!(prop(&props(&app, "c1").await, "City"), Some("Mumbai"));
    app.stop().await;
}

#[tokio::test]
async fn gzipped_batches_are_accepted_and_a_segment_matches_what_arrived() {
    let app = spawn_app().await;
    let now = jiff::Timestamp::now();
    let body = json!({"batch":[
        {"type":"identify","userId":"u1","traits":{"email":"a@example.com","address":{"city":"Pune"}}},
        {"type":"identify","userId":"u2","traits":{"email":"b@example.com","address":{"city":"Delhi"}}},
        {"type":"track","userId":"u1","event":"Order Completed","properties":{"total":50}},
        {"type":"track","userId":"u2","event":"Order Completed","properties":{"total":5}}
    ],"sentAt": now.to_string()});
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(body.to_string().as_bytes()).unwrap();
    let res = server_client()
        .post(app.url("/v1/batch"))
        .basic_auth(UPLOAD_KEY, Some(""))
        .header("Content-Type", "application/json")
        .header("Content-Encoding", "gzip")
        .body(gz.finish().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    let res = app
        .post(
            "/api/segments/estimate",
            &json!({"segment":{"kind":"group","combine":"all_of","rules":[
                {"kind":"user_property","property":"address.city",
                 "condition":{"type":"text","op":"equals","value":"Pune"}},
                {"kind":"event","did":true,"event":"Order Completed",
                 "window":{"kind":"last_days","days":7}}]}}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let estimate: Value = res.json().await.unwrap();
    assert_eq!(estimate["reach"], 1, "{estimate}");
    assert_eq!(estimate["sample"][0]["identity"], "u1");
    assert_eq!(estimate["sample"][0]["email"], "a@example.com");
    app.stop().await;
}
