//! A catalogued service behind a real upstream, for the tests of data plane nodes.

use std::net::SocketAddr;

use app::model::*;
use app::ports::{GatewayConfig, Packages, RuntimeGroups, Versions};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::json;
use server::hub::Hub;
use uuid::Uuid;

/// An upstream on an ephemeral port answering `{"path": …}` for every path, except
/// paths containing "missing": 404.
pub async fn echo_upstream() -> SocketAddr {
    let app = axum::Router::new().fallback(|req: axum::extract::Request| async move {
        let path = req.uri().path().to_string();
        if path.contains("missing") {
            (StatusCode::NOT_FOUND, "nope").into_response()
        } else {
            axum::Json(json!({ "path": path })).into_response()
        }
    });
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    addr
}

/// What [`orders`] created.
pub struct Catalogued {
    pub key: String,
    pub group: Uuid,
    pub package: Uuid,
    pub version: Uuid,
    pub route: Uuid,
}

/// Package "Orders", v1 in the default group behind `up`, route `/orders`.
pub async fn orders(hub: &Hub, up: SocketAddr) -> Catalogued {
    let admin = Actor::console();
    let pkg = hub
        .create_package(
            &admin,
            NewServicePackage {
                display_name: "Orders".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let group = hub.get_runtime_group(&admin, "default").await.unwrap();
    let v = hub
        .create_version(
            &admin,
            &pkg.key,
            NewServiceVersion {
                name: "v1".into(),
                runtime_group_id: group.id,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    hub.put_implementation(
        &admin,
        &pkg.key,
        v.id,
        ImplementationInput {
            url: Some(format!("http://{up}")),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let route = hub
        .create_route(
            &admin,
            &pkg.key,
            v.id,
            RouteInput {
                paths: vec!["/orders".into()],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    Catalogued {
        key: pkg.key,
        group: group.id,
        package: pkg.id,
        version: v.id,
        route: route.id,
    }
}
