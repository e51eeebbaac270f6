//! A site's redirects: add one (every part checked, a loop or a clash refused with the reason,
//! nothing stored then), remove one; the vhost is rewritten by a job while the site runs
//! (`nginx -t` first, the previous file back when it fails).

use serde::Deserialize;

use crate::db;
use crate::domain::redirect::{Match, RedirectSource, RedirectTarget, STATUSES, find_loop};
use crate::domain::{Redirect, SiteStatus};
use crate::error::{AppError, AppResult, FieldError, FieldErrors};
use crate::ids::{JobId, SiteId, UserId};
use crate::state::AppState;

use super::jobs::{self, Work};
use super::spec::{StoredRedirect, redirects_of};

/// The most redirects one site may have (each is a location in its vhost).
pub const MAX: usize = 100;

/// "Add a redirect" as submitted.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct RedirectForm {
    #[serde(default)]
    pub source: String,
    /// `exact` or `prefix`.
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub target: String,
    #[serde(default)]
    pub status: String,
}

pub fn parse(form: &RedirectForm) -> Result<Redirect, FieldErrors> {
    let mut errors = Vec::new();
    let source = RedirectSource::parse(&form.source)
        .map_err(|m| errors.push(FieldError::new("source", m)))
        .ok();
    let kind = Match::parse(&form.kind)
        .map_err(|m| errors.push(FieldError::new("kind", m)))
        .ok();
    let target = RedirectTarget::parse(&form.target)
        .map_err(|m| errors.push(FieldError::new("target", m)))
        .ok();
    let status = form
        .status
        .trim()
        .parse::<u16>()
        .ok()
        .filter(|s| STATUSES.contains(s));
    if status.is_none() {
        errors.push(FieldError::new("status", "301, 302, 307 or 308"));
    }
    if let (Some(Match::Prefix), Some(t)) = (kind, &target) {
        if t.as_str().contains(['?', '#']) {
            errors.push(FieldError::new(
                "target",
                "a prefix redirect keeps the rest of the path after its target, so the target has no ? or #",
            ));
        }
    }
    match (source, kind, target, status) {
        (Some(source), Some(kind), Some(target), Some(status)) if errors.is_empty() => {
            Ok(Redirect {
                source,
                kind,
                target,
                status,
            })
        }
        _ => Err(errors),
    }
}

/// The base path a redirect claims an exact location for (a prefix claims its own path too).
fn claimed(r: &Redirect) -> &str {
    let base = r.source.as_str().trim_end_matches('/');
    if base.is_empty() { "/" } else { base }
}

async fn store_and_apply(
    state: &AppState,
    id: SiteId,
    previous: Option<String>,
    rules: &[Redirect],
    actor: Option<UserId>,
) -> AppResult<Option<JobId>> {
    let stored: Vec<StoredRedirect> = rules.iter().map(StoredRedirect::of).collect();
    let json = serde_json::to_string(&stored).map_err(|e| AppError::Internal(e.into()))?;
    db::sites::set_redirects(&state.db, id, &json).await?;
    let site = super::load(state, id).await?;
    if site.status != SiteStatus::Active {
        return Ok(None);
    }
    let work = Work::Vhost {
        previous,
        new: Some(json),
    };
    jobs::submit(state, &site, work, actor).await.map(Some)
}

pub async fn add(
    state: &AppState,
    id: SiteId,
    form: &RedirectForm,
    actor: Option<UserId>,
) -> AppResult<Option<JobId>> {
    let site = super::load(state, id).await?;
    let new = parse(form).map_err(AppError::Invalid)?;
    super::busy(&site)?;
    let mut rules = redirects_of(&site).map_err(AppError::Conflict)?;
    if rules.len() >= MAX {
        return Err(AppError::Conflict(format!(
            "A site has at most {MAX} redirects; remove one first."
        )));
    }
    // Exact locations the vhost templates have already (a second would fail `nginx -t`).
    if ["/index.php"].contains(&claimed(&new)) {
        return Err(AppError::Invalid(vec![FieldError::new(
            "source",
            format!("{} is the site's own front controller", claimed(&new)),
        )]));
    }
    if rules.iter().any(|r| claimed(r) == claimed(&new)) {
        return Err(AppError::Invalid(vec![FieldError::new(
            "source",
            format!(
                "{} is redirected already; remove that redirect first",
                claimed(&new)
            ),
        )]));
    }
    rules.push(new);
    let names = crate::certificates::names_of(&site);
    if let Some(path) = find_loop(&rules, &names) {
        return Err(AppError::Invalid(vec![FieldError::new(
            "target",
            format!("this would send browsers round in a loop: {path}"),
        )]));
    }
    store_and_apply(state, id, site.redirects.clone(), &rules, actor).await
}

/// Remove the redirect answering for `source` (as shown in the list).
pub async fn remove(
    state: &AppState,
    id: SiteId,
    source: &str,
    actor: Option<UserId>,
) -> AppResult<Option<JobId>> {
    let site = super::load(state, id).await?;
    super::busy(&site)?;
    let mut rules = redirects_of(&site).map_err(AppError::Conflict)?;
    let before = rules.len();
    rules.retain(|r| r.source.as_str() != source);
    if rules.len() == before {
        return Err(AppError::NotFound);
    }
    store_and_apply(state, id, site.redirects.clone(), &rules, actor).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_is_checked_at_once() {
        let errors = parse(&RedirectForm {
            source: "old".into(),
            kind: "regex".into(),
            target: "\"; include /etc/passwd; \"".into(),
            status: "200".into(),
        })
        .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["source", "kind", "target", "status"]);
        let errors = parse(&RedirectForm {
            source: "/blog".into(),
            kind: "prefix".into(),
            target: "/news?x=1".into(),
            status: "301".into(),
        })
        .unwrap_err();
        assert_eq!(errors[0].field, "target");
    }
}
