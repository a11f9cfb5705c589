//! `POST /api/segments/estimate`: the reach of a segment over data uploaded through the API.

use reqwest::StatusCode;
use serde_json::{Value, json};
use server::db::with_database;
use shared::{audience_data::Estimate, error::ErrorCode, saved_segment::SavedSegment};

use crate::helpers::{TestApp, error_body, spawn_app};

/// Six users in Mumbai, Pune and Delhi; "Product Viewed" and "Charged" in March 2027 (UTC).
async fn seed(app: &TestApp) {
    let day = |d: i64| 1_803_859_200 + d * 86_400; // 2027-03-01T00:00:00Z + d days
    let mut d = vec![];
    for (i, city) in ["Mumbai", "Mumbai", "Pune", "Pune", "Delhi", "Delhi"]
        .iter()
        .enumerate()
    {
        d.push(json!({"type":"profile","identity":format!("u{i}"),
            "profileData":{"City":city,"Email":format!("u{i}@example.com")}}));
    }
    // u0, u2, u4 viewed 3 times in the last 30 days; u1 only twice.
    for u in [0, 2, 4] {
        for k in 0..3 {
            d.push(json!({"type":"event","identity":format!("u{u}"),"ts":day(10 + k),"evtName":"Product Viewed"}));
        }
    }
    for k in 0..2 {
        d.push(json!({"type":"event","identity":"u1","ts":day(10 + k),"evtName":"Product Viewed"}));
    }
    // u2 bought in the last 7 days.
    d.push(json!({"type":"event","identity":"u2","ts":day(18),"evtName":"Charged","evtData":{"Amount":10}}));
    let res = app.upload(&json!({ "d": d })).await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "success", "{body}");
}

#[tokio::test]
async fn the_reference_segment_finds_viewers_in_mumbai_or_pune_who_did_not_buy() {
    let app = spawn_app().await;
    seed(&app).await;
    let res = app
        .post(
            "/api/segments/estimate",
            &json!({"time_zone":"Asia/Kolkata","at":"2027-03-20T06:00:00Z","segment":
            {"kind":"group","combine":"all_of","rules":[
              {"kind":"user_property","property":"City",
               "condition":{"type":"text","op":"in_list","values":["Mumbai","Pune"]}},
              {"kind":"event","did":true,"event":"Product Viewed","window":{"kind":"last_days","days":30},
               "aggregate":{"of":"count","op":"at_least","value":3}},
              {"kind":"event","did":false,"event":"Charged","window":{"kind":"last_days","days":7}}]}}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let estimate: Estimate = res.json().await.unwrap();
    assert_eq!(estimate.reach, 1);
    assert_eq!(estimate.total_profiles, 6);
    assert_eq!(estimate.sample.len(), 1);
    assert_eq!(estimate.sample[0].identity, "u0");
    assert_eq!(estimate.sample[0].email.as_deref(), Some("u0@example.com"));
    app.stop().await;
}

#[tokio::test]
async fn did_not_counts_users_who_never_did_anything() {
    let app = spawn_app().await;
    seed(&app).await;
    let res = app
        .post(
            "/api/segments/estimate",
            &json!({"at":"2027-03-20T06:00:00Z","segment":
              {"kind":"event","did":false,"event":"Product Viewed","window":{"kind":"ever"}}}),
        )
        .await;
    let estimate: Estimate = res.json().await.unwrap();
    let ids: Vec<&str> = estimate
        .sample
        .iter()
        .map(|s| s.identity.as_str())
        .collect();
    assert_eq!(ids, ["u3", "u5"]);
    app.stop().await;
}

#[tokio::test]
async fn an_invalid_segment_or_time_zone_is_a_422_naming_each_field() {
    let app = spawn_app().await;
    let res = app
        .post(
            "/api/segments/estimate",
            &json!({"time_zone":"Mars/Base","segment":{"kind":"group","combine":"all_of","rules":[
                {"kind":"event","did":true,"event":"X","window":{"kind":"last_days","days":0}}]}}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = error_body(res).await;
    assert_eq!(body.error.code, ErrorCode::ValidationFailed);
    let paths: Vec<&str> = body.error.fields.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, ["segment.rules[0].window.days", "time_zone"]);
    app.stop().await;
}

#[tokio::test]
async fn an_empty_database_estimates_zero() {
    let app = spawn_app().await;
    let res = app
        .post(
            "/api/segments/estimate",
            &json!({"segment":{"kind":"user_property","property":"City",
                "condition":{"type":"text","op":"exists"}}}),
        )
        .await;
    let estimate: Estimate = res.json().await.unwrap();
    assert_eq!((estimate.reach, estimate.total_profiles), (0, 0));
    assert!(estimate.sample.is_empty());
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Saved segments: /api/segments
// ---------------------------------------------------------------------------------------------

fn in_city(city: &str) -> Value {
    json!({"kind":"user_property","property":"City",
           "condition":{"type":"text","op":"equals","value":city}})
}

fn uses(id: i64, mode: &str) -> Value {
    json!({"kind":"saved_segment","segment_id":id,"mode":mode})
}

async fn create(app: &TestApp, name: &str, definition: Value) -> reqwest::Response {
    app.post(
        "/api/segments",
        &json!({"name": name, "description": format!("{name} users"), "definition": definition}),
    )
    .await
}

async fn put(app: &TestApp, id: i64, name: &str, definition: Value) -> reqwest::Response {
    app.http
        .put(app.url(&format!("/api/segments/{id}")))
        .json(&json!({"name": name, "definition": definition}))
        .send()
        .await
        .unwrap()
}

async fn estimate(app: &TestApp, segment: Value) -> Estimate {
    let res = app
        .post(
            "/api/segments/estimate",
            &json!({"at":"2027-03-20T06:00:00Z","segment": segment}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

fn identities(estimate: &Estimate) -> Vec<&str> {
    estimate
        .sample
        .iter()
        .map(|s| s.identity.as_str())
        .collect()
}

#[tokio::test]
async fn a_saved_segment_is_created_listed_with_its_size_updated_and_deleted() {
    let app = spawn_app().await;
    seed(&app).await;
    let res = create(&app, "Mumbai", in_city("Mumbai")).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: SavedSegment = res.json().await.unwrap();
    assert_eq!(created.name, "Mumbai");
    assert_eq!(created.description, "Mumbai users");
    assert_eq!(created.last_size, Some(2));

    let list: Vec<SavedSegment> = app.get("/api/segments").await.json().await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!((list[0].id, list[0].last_size), (created.id, Some(2)));

    let res = put(
        &app,
        created.id,
        "Mumbai or Pune",
        json!({"kind":"group","combine":"any_of",
        "rules":[in_city("Mumbai"), in_city("Pune")]}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let updated: SavedSegment = res.json().await.unwrap();
    assert_eq!(updated.name, "Mumbai or Pune");
    assert_eq!(updated.last_size, Some(4));

    let res = app
        .http
        .delete(app.url(&format!("/api/segments/{}", created.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = app.get(&format!("/api/segments/{}", created.id)).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    app.stop().await;
}

#[tokio::test]
async fn saved_segments_are_included_and_excluded_inside_other_segments() {
    let app = spawn_app().await;
    seed(&app).await;
    let mumbai: SavedSegment = create(&app, "Mumbai", in_city("Mumbai"))
        .await
        .json()
        .await
        .unwrap();
    // Did Product Viewed, and not in Mumbai (through the saved segment): u2 (Pune), u4 (Delhi).
    let viewers = json!({"kind":"group","combine":"all_of","rules":[
        {"kind":"event","did":true,"event":"Product Viewed","window":{"kind":"ever"}},
        uses(mumbai.id, "exclude")]});
    let res = create(&app, "Viewers outside Mumbai", viewers).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let outside: SavedSegment = res.json().await.unwrap();

    let e = estimate(
        &app,
        json!({"kind":"group","combine":"all_of","rules":[uses(mumbai.id, "include")]}),
    )
    .await;
    assert_eq!(identities(&e), ["u0", "u1"]);
    // Nested two levels: everyone in the "outside" segment, minus Delhi.
    let e = estimate(&app, json!({"kind":"group","combine":"all_of","rules":[
        uses(outside.id, "include"),
        {"kind":"user_property","property":"City","condition":{"type":"text","op":"not_equals","value":"Delhi"}}]})).await;
    assert_eq!(identities(&e), ["u2"]);
    let e = estimate(
        &app,
        json!({"kind":"group","combine":"all_of","rules":[uses(outside.id, "exclude")]}),
    )
    .await;
    assert_eq!(identities(&e), ["u0", "u1", "u3", "u5"]);
    app.stop().await;
}

#[tokio::test]
async fn a_segment_that_would_contain_itself_is_refused() {
    let app = spawn_app().await;
    let a: SavedSegment = create(&app, "A", in_city("Mumbai"))
        .await
        .json()
        .await
        .unwrap();
    let b: SavedSegment = create(
        &app,
        "B",
        json!({"kind":"group","combine":"all_of","rules":[uses(a.id, "include")]}),
    )
    .await
    .json()
    .await
    .unwrap();
    // A including B would close the loop A → B → A.
    let res = put(
        &app,
        a.id,
        "A",
        json!({"kind":"group","combine":"any_of","rules":[
        in_city("Pune"), uses(b.id, "exclude")]}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = error_body(res).await;
    let paths: Vec<&str> = body.error.fields.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, ["definition.rules[1].segment_id"]);
    assert!(body.error.fields[0].message.contains("loop"), "{body:?}");

    // Itself, directly; and a segment that does not exist.
    let res = put(
        &app,
        a.id,
        "A",
        json!({"kind":"group","combine":"all_of","rules":[uses(a.id, "include")]}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = create(
        &app,
        "C",
        json!({"kind":"group","combine":"all_of","rules":[uses(999, "include")]}),
    )
    .await;
    let body = error_body(res).await;
    assert_eq!(body.error.fields[0].path, "definition.rules[0].segment_id");

    // B uses A: A cannot be deleted while it does.
    let res = app
        .http
        .delete(app.url(&format!("/api/segments/{}", a.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    app.stop().await;
}

#[tokio::test]
async fn a_saved_segment_without_a_name_is_a_422() {
    let app = spawn_app().await;
    let res = create(&app, " ", in_city("Mumbai")).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = error_body(res).await;
    assert_eq!(body.error.fields[0].path, "name");
    app.stop().await;
}

#[tokio::test]
async fn the_browser_import_answers_like_the_upload_api_without_a_key() {
    let app = spawn_app().await;
    let res = app
        .post(
            "/api/profiles/import",
            &json!({"d":[
                {"type":"profile","identity":"csv-1","profileData":{"Email":"a@example.com","City":"Pune"}},
                {"type":"profile","identity":"csv-2","profileData":{"Email":"not-an-email"}}]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "partial", "{body}");
    assert_eq!(body["processed"], 1);
    assert_eq!(body["unprocessed"][0]["index"], 1);
    assert_eq!(body["unprocessed"][0]["code"], 515);
    let e = estimate(&app, in_city("Pune")).await;
    assert_eq!(identities(&e), ["csv-1"]);
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL: run when TEST_POSTGRES_URL names an admin connection (a database is created there
// for the test and dropped after).
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn estimates_catalog_and_saved_segments_work_on_postgres() {
    use sqlx::{Connection, Executor};
    let Ok(admin) = std::env::var("TEST_POSTGRES_URL") else {
        eprintln!("TEST_POSTGRES_URL is not set: PostgreSQL not tested");
        return;
    };
    let name = format!("test_segments_api_{}", std::process::id());
    let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
    conn.execute(format!("drop database if exists {name} with (force)").as_str())
        .await
        .unwrap();
    conn.execute(format!("create database {name}").as_str())
        .await
        .unwrap();
    let url = with_database(&admin, &name);
    let app = crate::helpers::spawn_app_with(crate::helpers::Options {
        database_url: Some(url.clone()),
        ..Default::default()
    })
    .await;
    // Rows as the upload store writes them (the server has migrated the database): u0 in
    // Mumbai viewed twice on 11 and 12 March 2027, u1 in Pune once, u2 in Delhi.
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    pool.execute(
        "insert into profiles (id, identity, email, city, created_at, updated_at) values \
         (1, 'u0', 'u0@example.com', 'mumbai', 0, 0), (2, 'u1', null, 'pune', 0, 0), \
         (3, 'u2', null, 'delhi', 0, 0); \
         update profile_count set n = 3; \
         insert into profile_props (profile_id, key, kind, t) values \
         (1, 'City', 'text', 'Mumbai'), (2, 'City', 'text', 'Pune'), (3, 'City', 'text', 'Delhi'); \
         insert into property_types (scope, event_name, key, kind, first_seen) values \
         ('profile', '', 'City', 'text', 0); \
         insert into event_names (id, name, count, first_seen, last_seen) values \
         (1, 'Product Viewed', 3, 0, 1804204800); \
         insert into events (profile_id, name_id, ts, props, dedup_key) values \
         (1, 1, 1804723200, '{}', '\\x01'), (1, 1, 1804809600, '{}', '\\x02'), \
         (2, 1, 1804723200, '{}', '\\x03'); \
         insert into event_days (name_id, day, profile_id, n) values \
         (1, 20888, 1, 1), (1, 20889, 1, 1), (1, 20888, 2, 1);",
    )
    .await
    .unwrap();

    let segment = json!({"kind":"group","combine":"all_of","rules":[
        {"kind":"user_property","property":"City",
         "condition":{"type":"text","op":"in_list","values":["Mumbai","Pune"]}},
        {"kind":"event","did":true,"event":"Product Viewed","window":{"kind":"last_days","days":30},
         "aggregate":{"of":"count","op":"at_least","value":2}}]});
    let res = app
        .post(
            "/api/segments/estimate",
            &json!({"segment": segment, "time_zone": "Asia/Kolkata", "at": "2027-03-20T00:00:00Z"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let estimate: Estimate = res.json().await.unwrap();
    assert_eq!((estimate.reach, estimate.total_profiles), (1, 3));
    assert_eq!(estimate.sample[0].identity, "u0");
    assert_eq!(estimate.sample[0].email.as_deref(), Some("u0@example.com"));

    let catalog: Value = app.get("/api/catalog").await.json().await.unwrap();
    assert_eq!(catalog["events"][0]["name"], "Product Viewed");
    assert_eq!(catalog["profile_properties"][0]["name"], "City");

    let res = create(&app, "Mumbai", in_city("Mumbai")).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: SavedSegment = res.json().await.unwrap();
    assert_eq!(created.last_size, Some(1));
    let excluded = estimate_at_postgres(&app, uses(created.id, "exclude")).await;
    assert_eq!(excluded, 2);

    app.stop().await;
    pool.close().await;
    conn.execute(format!("drop database if exists {name} with (force)").as_str())
        .await
        .unwrap();
}

async fn estimate_at_postgres(app: &TestApp, segment: Value) -> u64 {
    let res = app
        .post("/api/segments/estimate", &json!({ "segment": segment }))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json::<Estimate>().await.unwrap().reach
}
