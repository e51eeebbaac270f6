//! `/api/v1`: the panel's REST API. JSON in and out, a bearer token (`pnl_…`) on every call,
//! errors as RFC 9457 problem details with field-level `errors`, lists a page at a time by
//! cursor like the UI's. Operations (`ops.rs`) parse into the same forms and call the same
//! actions the web handlers call, after asking the one authorization function
//! (`domain::roles::authorize`). The OpenAPI document is generated from these types
//! (poem-openapi) and served at `/api/v1/openapi.json`.

mod certificates;
mod manage;
mod ops;
mod panel;
mod problem;
mod repository;
mod site_extras;
mod strict;
mod types;

use poem::http::{StatusCode, header};
use poem::{Endpoint, EndpointExt, IntoResponse, Request, Response, Route};
use poem_openapi::OpenApiService;

pub use problem::{ApiError, ApiResult, Problem};

use crate::api_tokens::{self, TokenCaller};
use crate::audit::{self, Asked, Who};
use crate::domain::{AuditActor, AuditVia};
use crate::paths;
use crate::state::AppState;

/// The service: its operations, described for the OpenAPI document.
fn service() -> OpenApiService<
    (
        ops::Api,
        panel::PanelApi,
        repository::RepoApi,
        manage::ManageApi,
        certificates::CertApi,
        site_extras::ExtrasApi,
    ),
    (),
> {
    OpenApiService::new(
        (
            ops::Api,
            panel::PanelApi,
            repository::RepoApi,
            manage::ManageApi,
            certificates::CertApi,
            site_extras::ExtrasApi,
        ),
        "Panel API",
        env!("CARGO_PKG_VERSION"),
    )
    .description(
        "Manage servers, sites, deployments, databases and SELinux records of a Panel. \
             Every call needs a token (`Authorization: Bearer pnl_…`, made with `panel \
             api-token create` or in Settings); what it may do is its role's (owner, admin, \
             operator, viewer), optionally limited to some servers. Errors are RFC 9457 problem \
             details. Lists return a page and a `next` cursor.",
    )
    .server(paths::API)
}

/// The OpenAPI document as served: poem-openapi writes OpenAPI 3.0; the panel serves it as 3.1
/// (its JSON Schema dialect), rewriting the one construct that differs in what it emits
/// (`nullable`).
pub fn openapi_document() -> String {
    let mut doc: serde_json::Value =
        serde_json::from_str(&service().spec()).expect("poem-openapi writes JSON");
    doc["openapi"] = "3.1.0".into();
    to_json_schema_2020(&mut doc);
    serde_json::to_string_pretty(&doc).expect("a JSON value serializes")
}

/// `{"type": T, "nullable": true}` → `{"type": [T, "null"]}`, everywhere in the document.
fn to_json_schema_2020(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            if map.remove("nullable") == Some(serde_json::Value::Bool(true)) {
                if let Some(serde_json::Value::String(t)) = map.get("type").cloned() {
                    map.insert("type".into(), serde_json::json!([t, "null"]));
                }
            }
            map.values_mut().for_each(to_json_schema_2020);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(to_json_schema_2020),
        _ => {}
    }
}

/// The API as one endpoint, mounted under [`paths::API`] by `web::app`.
pub fn endpoint() -> impl Endpoint<Output = Response> {
    let document = openapi_document();
    Route::new()
        .at(
            "/openapi.json",
            poem::endpoint::make_sync(move |_| {
                Response::builder()
                    .content_type("application/json")
                    .body(document.clone())
            }),
        )
        .nest("/", service().around(guard))
        .map_to_response()
}

/// Every API call: the token checked (a missing, unknown, revoked or expired one is a 401
/// problem), the caller put where operations find it, any failure said as a problem, and a
/// state-changing call recorded in the audit log with the token's name.
async fn guard<E: Endpoint>(next: E, mut req: Request) -> poem::Result<Response> {
    let state = req
        .data::<AppState>()
        .cloned()
        .expect("state is attached outside the API");
    let source = crate::web::session::client_ip(&req, &state.config);
    let presented = req
        .header(header::AUTHORIZATION)
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .map(str::to_owned);
    let caller = match presented {
        Some(token) => api_tokens::authenticate(&state, &token, &source)
            .await
            .map_err(|e| problem::from_app(e).into_poem())?,
        None => None,
    };
    let Some(caller) = caller else {
        return Ok(problem::unauthorized());
    };
    req.extensions_mut().insert(caller.clone());
    if let Err(problem) = strict_body(&mut req).await {
        return Ok(problem);
    }
    let changes = audit::changes_state(req.method());
    let asked = Asked {
        method: req.method().clone(),
        pattern: req.uri().path().to_owned(),
        path: req.uri().path().to_owned(),
        source,
    };
    let answer = match next.call(req).await {
        Ok(resp) => problem::problem_body(resp.into_response()),
        // An operation's own problem travels inside the error: its response, as it was.
        Err(e) if e.is_from_response() => problem::problem_body(e.into_response()),
        Err(e) => problem::from_poem(&e, allowed_methods(&asked.path)),
    };
    if changes {
        let who = Who {
            kind: AuditActor::Token,
            id: Some(caller.id.to_string()),
            name: caller.name.clone(),
        };
        let asked = Asked {
            pattern: audit::pattern_of(&asked.path),
            ..asked
        };
        audit::record(&state, &asked, who, AuditVia::Api, answer.status()).await;
    }
    Ok(answer)
}

/// The served document, parsed once.
fn document() -> &'static serde_json::Value {
    static DOC: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();
    DOC.get_or_init(|| serde_json::from_str(&openapi_document()).expect("the document is JSON"))
}

/// A JSON body whose types are not the operation's is refused here (`strict`), before
/// poem-openapi would read `5` as `"5"`; the body is put back for the operation.
async fn strict_body(req: &mut Request) -> Result<(), Response> {
    let json = req
        .header(header::CONTENT_TYPE)
        .is_some_and(|c| c.starts_with("application/json"));
    let path = req.uri().path();
    let path = path.strip_prefix(paths::API).unwrap_or(path).to_owned();
    let Some(schema) = json
        .then(|| strict::body_schema(document(), req.method().as_str(), &path))
        .flatten()
    else {
        return Ok(());
    };
    let bytes = req
        .take_body()
        .into_bytes()
        .await
        .map_err(|e| problem::from_poem(&e.into(), None))?;
    let outcome = match serde_json::from_slice::<serde_json::Value>(&bytes) {
        // Not JSON at all: poem-openapi says so in its own words.
        Err(_) => Ok(()),
        Ok(value) => strict::check(document(), schema, &value, ""),
    };
    req.set_body(bytes);
    outcome.map_err(|e| {
        let (field, message) = e.split_once(": ").unwrap_or(("body", e.as_str()));
        problem::invalid_types(field, message)
    })
}

/// The methods the document gives a path (`GET, POST`), for a 405's `Allow`.
fn allowed_methods(path: &str) -> Option<String> {
    static PATHS: std::sync::OnceLock<Vec<(Vec<String>, String)>> = std::sync::OnceLock::new();
    let paths = PATHS.get_or_init(|| {
        document()["paths"]
            .as_object()
            .map(|paths| {
                paths
                    .iter()
                    .map(|(p, ops)| {
                        let segments = p.trim_matches('/').split('/').map(str::to_owned).collect();
                        let methods = ops
                            .as_object()
                            .map(|o| {
                                o.keys()
                                    .map(|m| m.to_ascii_uppercase())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            })
                            .unwrap_or_default();
                        (segments, methods)
                    })
                    .collect()
            })
            .unwrap_or_default()
    });
    let path = path.strip_prefix(paths::API).unwrap_or(path);
    let asked: Vec<&str> = path.trim_matches('/').split('/').collect();
    paths
        .iter()
        .find(|(segments, _)| {
            segments.len() == asked.len()
                && segments
                    .iter()
                    .zip(&asked)
                    .all(|(s, a)| s.starts_with('{') || s == a)
        })
        .map(|(_, methods)| methods.clone())
}

/// The token caller of this request (the guard put it there).
fn caller(req: &Request) -> Result<&TokenCaller, ApiError> {
    req.extensions()
        .get::<TokenCaller>()
        .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "A token is needed."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_is_openapi_3_1_with_every_operation_secured() {
        let doc: serde_json::Value = serde_json::from_str(&openapi_document()).unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        assert!(!openapi_document().contains("\"nullable\""));
        let paths = doc["paths"].as_object().unwrap();
        assert!(paths.len() >= 15, "{} paths", paths.len());
        // Operations of one path in different groups must all reach the document.
        for (path, methods) in [
            ("/servers", &["get", "post"][..]),
            ("/servers/{id}", &["get", "delete"][..]),
            ("/servers/{id}/software", &["get", "post"][..]),
            ("/ssh-keys", &["get", "post"][..]),
            ("/sites/{id}", &["get", "delete"][..]),
            ("/sites/{id}/certificate", &["get", "post", "delete"][..]),
        ] {
            for m in methods {
                assert!(paths[path].get(*m).is_some(), "{m} {path} is missing");
            }
        }
        for (path, ops) in paths {
            for (method, op) in ops.as_object().unwrap() {
                assert!(
                    op["security"].as_array().is_some_and(|s| !s.is_empty()),
                    "{method} {path} has no security"
                );
                let responses = op["responses"].as_object().unwrap();
                for status in ["400", "401", "403", "404"] {
                    assert!(
                        responses.contains_key(status),
                        "{method} {path} does not document {status}"
                    );
                }
            }
        }
    }
}
