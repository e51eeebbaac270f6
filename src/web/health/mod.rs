//! `/healthz`: 200 when the panel can query its database, 503 otherwise. Public, no details.

use poem::http::{Method, StatusCode};
use poem::web::{Data, Json};
use poem::{IntoResponse, Response, handler};

use super::{AppState, RouteSpec};
use crate::paths;

pub fn routes() -> Vec<RouteSpec> {
    vec![RouteSpec::public(Method::GET, paths::HEALTHZ, healthz)]
}

#[handler]
async fn healthz(state: Data<&AppState>) -> Response {
    let db_ok = crate::db::ping(&state.db).await;
    let body = serde_json::json!({
        "status": if db_ok { "ok" } else { "unavailable" },
        "database": if db_ok { "ok" } else { "error" },
        "version": env!("CARGO_PKG_VERSION"),
    });
    let status = if db_ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    Json(body)
        .with_status(status)
        .with_header("Cache-Control", "no-store")
        .into_response()
}
