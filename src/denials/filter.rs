//! The SELinux page's filters (server, site, type, class, period) as typed in the query string,
//! turned into the database's filter: a site becomes its category pair, names are checked to be
//! what the kernel prints.

use crate::db::{self, selinux::Filter};
use crate::domain::McsPair;
use crate::error::{AppError, AppResult, FieldError};
use crate::state::AppState;

/// The page's filters as typed in the query string.
#[derive(Debug, Default, serde::Deserialize)]
pub struct FilterForm {
    /// Search text and the page's cursor.
    #[serde(flatten)]
    pub list: crate::domain::ListForm,
    #[serde(default)]
    pub server: String,
    #[serde(default)]
    pub site: String,
    #[serde(default, rename = "type")]
    pub setype: String,
    #[serde(default)]
    pub class: String,
    #[serde(default)]
    pub period: String,
}

/// A policy name (type or class): what the kernel prints, nothing else.
fn policy_name(field: &'static str, text: &str) -> Result<Option<String>, FieldError> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    if t.len() <= 64
        && t.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        Ok(Some(t.to_owned()))
    } else {
        Err(FieldError::new(
            field,
            "a type or class name: lowercase letters, digits and _",
        ))
    }
}

/// Every filter parsed (a site becomes its category pair), all errors at once.
pub async fn parse(state: &AppState, form: &FilterForm) -> AppResult<Filter> {
    let mut errors = Vec::new();
    let mut f = Filter::default();
    // A server is its id (links from its page), its address or its name (typed).
    let server = form.server.trim();
    if !server.is_empty() {
        match server.parse() {
            Ok(id) => f.server = Some(id),
            Err(_) => match db::servers::find_by_name(&state.db, server).await?[..] {
                [id] => f.server = Some(id),
                [] => errors.push(FieldError::new(
                    "server",
                    "no server has that name or address",
                )),
                _ => errors.push(FieldError::new(
                    "server",
                    "several servers have that name: type its address",
                )),
            },
        }
    }
    // A site is its id (links from its page) or its domain (typed).
    let site = form.site.trim();
    if !site.is_empty() {
        let id = match site.parse() {
            Ok(id) => Some(id),
            Err(_) => db::sites::find_by_domain(&state.db, &site.to_ascii_lowercase()).await?,
        };
        let site = match id {
            Some(id) => db::sites::get(&state.db, id).await?,
            None => None,
        };
        match site.and_then(|s| s.mcs_id).and_then(McsPair::from_id) {
            Some(pair) => f.level = Some(pair.level()),
            None => errors.push(FieldError::new("site", "not a site")),
        }
    }
    match policy_name("type", &form.setype) {
        Ok(t) => f.setype = t,
        Err(e) => errors.push(e),
    }
    match policy_name("class", &form.class) {
        Ok(c) => f.tclass = c,
        Err(e) => errors.push(e),
    }
    let span = match form.period.as_str() {
        "" | "7d" => Some(chrono::Duration::days(7)),
        "1h" => Some(chrono::Duration::hours(1)),
        "24h" => Some(chrono::Duration::days(1)),
        "30d" => Some(chrono::Duration::days(30)),
        "all" => None,
        _ => {
            errors.push(FieldError::new("period", "1h, 24h, 7d, 30d or all"));
            None
        }
    };
    f.since = span.map(|d| db::timestamp(chrono::Utc::now() - d));
    if errors.is_empty() {
        Ok(f)
    } else {
        Err(AppError::Invalid(errors))
    }
}
