use poem::http::StatusCode;
use poem::web::{Data, Json};
use poem::{Body, IntoResponse, Request, Response, handler};

use crate::error::{AppError, AppResult};
use crate::nodes::callbacks::{CallbackError, Signed};
use crate::web::AppState;
use crate::web::session;

/// Largest callback body read.
const CALLBACK_LIMIT: usize = 16 * 1024;

/// The body (bounded) and the signature headers of a callback.
async fn read(body: Body) -> AppResult<Vec<u8>> {
    body.into_bytes_limit(CALLBACK_LIMIT)
        .await
        .map(|b| b.to_vec())
        .map_err(|_| AppError::BadRequest("callback body too large".into()))
}

fn signed(req: &Request) -> Signed<'_> {
    Signed {
        timestamp: req.header("X-Panel-Timestamp"),
        nonce: req.header("X-Panel-Nonce"),
        signature: req.header("X-Panel-Signature"),
    }
}

/// What a refused callback gets: one answer for every reason (logged with the address).
fn refused(state: &AppState, req: &Request, e: CallbackError, what: &str) -> AppResult<Response> {
    match e {
        CallbackError::Malformed => Err(AppError::BadRequest("malformed callback".into())),
        CallbackError::Refused => {
            tracing::warn!(ip = %session::client_ip(req, &state.config), "{what} callback refused");
            Ok(
                Json(serde_json::json!({ "error": "invalid or expired signature" }))
                    .with_status(StatusCode::UNAUTHORIZED)
                    .into_response(),
            )
        }
    }
}

/// `POST /api/callbacks/server-ready`: the setup script's signed "done"; the panel then connects.
#[handler]
pub async fn server_ready(
    state: Data<&AppState>,
    req: &Request,
    body: Body,
) -> AppResult<Response> {
    let body = read(body).await?;
    match crate::servers::ready(&state, signed(req), &body).await? {
        Ok(job) => Ok(
            Json(serde_json::json!({ "status": "accepted", "job": job }))
                .with_status(StatusCode::ACCEPTED)
                .into_response(),
        ),
        Err(e) => refused(&state, req, e, "server-ready"),
    }
}

/// `POST /api/callbacks/site-created`: step 8, the node's signed confirmation.
#[handler]
pub async fn site_created(
    state: Data<&AppState>,
    req: &Request,
    body: Body,
) -> AppResult<Response> {
    let body = read(body).await?;
    match crate::sites::confirm_created(&state, signed(req), &body).await? {
        Ok(_) => Ok(Json(serde_json::json!({ "status": "recorded" })).into_response()),
        Err(e) => refused(&state, req, e, "site-created"),
    }
}
