//! The OpenAPI document served at `/openapi.json` describes exactly the routes of `template.yaml`.

use std::collections::BTreeSet;

use serde_json::Value;
use steward_blackbox::{http, stack};

#[tokio::test]
async fn given_the_template_routes_then_the_openapi_document_lists_each_and_no_other() {
    let document: Value =
        http().get(stack().url("/openapi.json")).send().await.unwrap().json().await.unwrap();
    assert!(document["openapi"].as_str().unwrap().starts_with("3."));
    let documented: BTreeSet<(String, String)> = document["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .filter(|k| {
                    matches!(k.as_str(), "get" | "post" | "put" | "patch" | "delete" | "options" | "head")
                })
                .map(move |method| (method.to_uppercase(), path.clone()))
        })
        .collect();
    let routes: Value = http().get(stack().url("/_local/routes")).send().await.unwrap().json().await.unwrap();
    let served: BTreeSet<(String, String)> = routes
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["method"].as_str().unwrap().to_owned(), r["path"].as_str().unwrap().to_owned()))
        .collect();
    assert!(!served.is_empty());
    assert_eq!(documented, served, "openapi.yaml and template.yaml disagree");
}
