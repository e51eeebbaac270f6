//! A site's custom nginx block: checked directive by directive (a hostile or broken one is
//! refused with the reason and its line, nothing stored), stored, and written into the site's
//! vhost by a job; when `nginx -t` still refuses it there, the previous vhost is put back and
//! the previous block is stored again.

use serde::Deserialize;

use crate::db;
use crate::domain::{NginxBlock, SiteStatus};
use crate::error::{AppError, AppResult, FieldError};
use crate::ids::{JobId, SiteId, UserId};
use crate::state::AppState;

use super::jobs::{self, Work};

#[derive(Clone, Debug, Default, Deserialize)]
pub struct NginxForm {
    #[serde(default)]
    pub block: String,
}

pub async fn update(
    state: &AppState,
    id: SiteId,
    form: &NginxForm,
    actor: Option<UserId>,
) -> AppResult<Option<JobId>> {
    let site = super::load(state, id).await?;
    let home = site
        .user()
        .map(|u| u.home())
        .ok_or_else(|| AppError::Conflict("The site has no user yet.".into()))?;
    let block = NginxBlock::parse(&form.block, &home)
        .map_err(|m| AppError::Invalid(vec![FieldError::new("block", m)]))?;
    super::busy(&site)?;
    let previous = site.nginx_custom.clone();
    let new = block.as_ref().map(|b| b.as_str().to_owned());
    db::sites::set_nginx_custom(&state.db, id, new.as_deref()).await?;
    if site.status != SiteStatus::Active {
        return Ok(None);
    }
    let site = super::load(state, id).await?;
    jobs::submit(state, &site, Work::CustomBlock { previous, new }, actor)
        .await
        .map(Some)
}
