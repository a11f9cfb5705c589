//! `/api/labels`: labels shared by every campaign, unique by name regardless of case.

use reqwest::StatusCode;
use serde_json::json;
use shared::{error::ErrorCode, label::Label};

use crate::{
    campaigns::post,
    helpers::{error_body, spawn_app},
};

async fn names(app: &crate::helpers::TestApp) -> Vec<String> {
    let res = app.get("/api/labels").await;
    assert_eq!(res.status(), StatusCode::OK);
    let labels: Vec<Label> = res.json().await.unwrap();
    labels.into_iter().map(|l| l.name).collect()
}

#[tokio::test]
async fn labels_are_created_and_listed_by_name() {
    let app = spawn_app().await;
    assert!(names(&app).await.is_empty());
    let res = post(
        &app,
        "/api/labels",
        &json!({"name": " Retention ", "color": "#1a7f37"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let label: Label = res.json().await.unwrap();
    assert_eq!(label.name, "Retention");
    assert_eq!(label.color.as_deref(), Some("#1a7f37"));
    for name in ["promo", "Black Friday"] {
        let res = post(&app, "/api/labels", &json!({"name": name})).await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    // Sorted by name, whatever the case.
    assert_eq!(names(&app).await, ["Black Friday", "promo", "Retention"]);
    app.stop().await;
}

#[tokio::test]
async fn a_name_already_taken_in_another_case_is_refused() {
    let app = spawn_app().await;
    let res = post(&app, "/api/labels", &json!({"name": "Black Friday"})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = post(&app, "/api/labels", &json!({"name": "  black   FRIDAY "})).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = error_body(res).await;
    assert_eq!(body.error.code, ErrorCode::ValidationFailed);
    assert_eq!(body.error.fields.len(), 1);
    assert_eq!(body.error.fields[0].path, "name");
    assert_eq!(names(&app).await, ["Black Friday"]);
    app.stop().await;
}

#[tokio::test]
async fn an_invalid_label_is_refused_field_by_field() {
    let app = spawn_app().await;
    let res = post(&app, "/api/labels", &json!({"name": " ", "color": "red"})).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = error_body(res).await;
    let paths: Vec<&str> = body.error.fields.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, ["name", "color"]);

    let res = app
        .http
        .post(app.url("/api/labels"))
        .header("content-type", "application/json")
        .body("{name: Promo}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_body(res).await.error.code, ErrorCode::BadRequest);
    assert!(names(&app).await.is_empty());
    app.stop().await;
}
