//! Helpers of the portal and spec tests: a petstore spec, JSON and page requests, a
//! package with one version.

use reqwest::{Method as M, StatusCode};
use serde_json::{json, Value};

use super::TestServer;

pub const PETSTORE: &str = "openapi: 3.0.3
info:
  title: Petstore
  version: 1.0.0
paths:
  /pets:
    get:
      operationId: listPets
      summary: List all pets
      tags: [pets]
      responses:
        '200':
          description: A list of pets
          content:
            application/json:
              schema:
                type: array
                items:
                  $ref: '#/components/schemas/Pet'
components:
  schemas:
    Pet:
      type: object
      required: [id, name]
      properties:
        id: {type: integer, format: int64}
        name: {type: string}
";

pub async fn send(
    c: &reqwest::Client,
    m: M,
    url: String,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut r = c.request(m, url);
    if let Some(b) = body {
        r = r.json(&b);
    }
    let r = r.send().await.unwrap();
    let st = r.status();
    (st, r.json().await.unwrap_or(Value::Null))
}

/// A package with one version `v1` in the default group; returns the version's id.
pub async fn package_with_v1(s: &TestServer, name: &str, key: &str) -> String {
    let c = &s.client;
    let (st, _) = send(
        c,
        M::POST,
        s.url("/api/v1/service-packages"),
        Some(json!({"display_name": name})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED);
    let (_, rg) = send(c, M::GET, s.url("/api/v1/runtime-groups/default"), None).await;
    let (st, v) = send(
        c,
        M::POST,
        s.url(&format!("/api/v1/service-packages/{key}/versions")),
        Some(json!({"name": "v1", "runtime_group_id": rg["id"]})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    v["id"].as_str().unwrap_or_default().to_string()
}

pub async fn page(c: &reqwest::Client, url: String) -> (StatusCode, String) {
    let r = c.get(url).send().await.unwrap();
    let st = r.status();
    (st, r.text().await.unwrap())
}
