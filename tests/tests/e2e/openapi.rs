//! The OpenAPI document describes the routes the server really serves.

use harness::TestApp;
use serde_json::Value;

#[tokio::test]
async fn every_described_route_is_served() {
    let app = TestApp::spawn().await;
    let response = app.get("/api/v1/openapi.json").send().await.unwrap();
    assert_eq!(response.status(), 200);
    let document: Value = response.json().await.unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    let paths = document["paths"].as_object().unwrap();
    assert!(paths.len() >= 15);
    for (path, operations) in paths {
        let concrete = path.replace("{id}", &uuid::Uuid::new_v4().to_string());
        for method in operations.as_object().unwrap().keys() {
            let method: reqwest::Method = method.to_uppercase().parse().unwrap();
            let response = app
                .http
                .request(method.clone(), app.url(&concrete))
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            // Unauthenticated calls reach the route and are refused by it (401), or succeed.
            assert!(
                matches!(status, 200 | 204 | 401 | 415 | 503),
                "{method} {path} is described but answered {status}"
            );
        }
    }
    app.shutdown().await;
}

#[tokio::test]
async fn the_document_passes_a_standard_openapi_validator() {
    let validator = std::env::var("FIELDSYNC_OPENAPI_VALIDATOR").expect(
        "FIELDSYNC_OPENAPI_VALIDATOR names openapi-spec-validator; scripts/test installs it",
    );
    let app = TestApp::spawn().await;
    let document = app
        .get("/api/v1/openapi.json")
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let file = tempfile::Builder::new().suffix(".json").tempfile().unwrap();
    std::fs::write(file.path(), &document).unwrap();
    let output = tokio::process::Command::new(&validator)
        .arg(file.path())
        .output()
        .await
        .unwrap_or_else(|e| panic!("running {validator}: {e}"));
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "the validator refused it: {said}");
    assert!(said.contains("OK"), "{said}");
    app.shutdown().await;
}
