//! A site's PHP settings: the form, every field checked by type and range (all errors at once,
//! nothing stored on any), stored, and applied by a job while the site runs (a suspended or
//! failed site gets them when it is resumed or retried, which rewrites its pool).

use serde::Deserialize;

use crate::db;
use crate::domain::php_settings::{
    EXECUTION_S, INPUT_VARS, MEMORY_MB, UPLOAD_MB, parse_megabytes, parse_number, parse_switch,
};
use crate::domain::{PhpSettings, SiteStatus, Timezone};
use crate::error::{AppError, AppResult, FieldError, FieldErrors};
use crate::ids::{JobId, SiteId, UserId};
use crate::state::AppState;

use super::jobs::{self, Work};

/// The PHP tab's form as submitted: empty fields are PHP's defaults.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct PhpForm {
    #[serde(default)]
    pub memory_limit: String,
    #[serde(default)]
    pub upload_max_filesize: String,
    #[serde(default)]
    pub post_max_size: String,
    #[serde(default)]
    pub max_execution_time: String,
    #[serde(default)]
    pub max_input_vars: String,
    #[serde(default)]
    pub display_errors: String,
    #[serde(default)]
    pub opcache: String,
    #[serde(default)]
    pub timezone: String,
}

impl PhpForm {
    /// The form showing stored settings.
    pub fn of(s: &PhpSettings) -> Self {
        let mb = |v: Option<u32>| v.map(|v| format!("{v}M")).unwrap_or_default();
        let n = |v: Option<u32>| v.map(|v| v.to_string()).unwrap_or_default();
        let switch = |v: Option<bool>| match v {
            None => String::new(),
            Some(true) => "on".into(),
            Some(false) => "off".into(),
        };
        Self {
            memory_limit: mb(s.memory_limit),
            upload_max_filesize: mb(s.upload_max_filesize),
            post_max_size: mb(s.post_max_size),
            max_execution_time: n(s.max_execution_time),
            max_input_vars: n(s.max_input_vars),
            display_errors: switch(s.display_errors),
            opcache: switch(s.opcache),
            timezone: s
                .timezone
                .as_ref()
                .map(|t| t.to_string())
                .unwrap_or_default(),
        }
    }
}

pub fn parse(form: &PhpForm) -> Result<PhpSettings, FieldErrors> {
    let mut errors = Vec::new();
    let mut field = |name: &'static str, r: Result<Option<u32>, String>| {
        r.map_err(|m| errors.push(FieldError::new(name, m)))
            .ok()
            .flatten()
    };
    let memory_limit = field(
        "memory_limit",
        parse_megabytes(&form.memory_limit, MEMORY_MB),
    );
    let upload = field(
        "upload_max_filesize",
        parse_megabytes(&form.upload_max_filesize, UPLOAD_MB),
    );
    let post = field(
        "post_max_size",
        parse_megabytes(&form.post_max_size, UPLOAD_MB),
    );
    let max_execution_time = field(
        "max_execution_time",
        parse_number(&form.max_execution_time, EXECUTION_S, "seconds"),
    );
    let max_input_vars = field(
        "max_input_vars",
        parse_number(&form.max_input_vars, INPUT_VARS, "variables"),
    );
    let mut switch = |name: &'static str, text: &str| {
        parse_switch(text)
            .map_err(|m| errors.push(FieldError::new(name, m)))
            .ok()
            .flatten()
    };
    let display_errors = switch("display_errors", &form.display_errors);
    let opcache = switch("opcache", &form.opcache);
    let timezone = if form.timezone.trim().is_empty() {
        None
    } else {
        Timezone::parse(&form.timezone)
            .map_err(|m| errors.push(FieldError::new("timezone", m)))
            .ok()
    };
    // A file PHP accepts must fit in the request PHP accepts.
    if let Some(u) = upload {
        match post {
            Some(p) if p < u => errors.push(FieldError::new(
                "post_max_size",
                format!("at least the upload size ({u}M): an upload travels inside a POST"),
            )),
            None => errors.push(FieldError::new(
                "post_max_size",
                format!("set it too, to at least {u}M: PHP's default (8M) would refuse the upload"),
            )),
            _ => {}
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(PhpSettings {
        memory_limit,
        upload_max_filesize: upload,
        post_max_size: post,
        max_execution_time,
        max_input_vars,
        display_errors,
        opcache,
        timezone,
    })
}

/// Store the site's PHP settings and, while it runs, apply them (a job).
pub async fn update(
    state: &AppState,
    id: SiteId,
    form: &PhpForm,
    actor: Option<UserId>,
) -> AppResult<Option<JobId>> {
    let site = super::load(state, id).await?;
    let settings = parse(form).map_err(AppError::Invalid)?;
    super::busy(&site)?;
    let json = serde_json::to_string(&settings).map_err(|e| AppError::Internal(e.into()))?;
    db::sites::set_php_settings(&state.db, id, &json).await?;
    if site.status != SiteStatus::Active {
        return Ok(None);
    }
    let site = super::load(state, id).await?;
    jobs::submit(state, &site, Work::PhpSettings, actor)
        .await
        .map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_is_checked_and_all_errors_come_at_once() {
        let errors = parse(&PhpForm {
            memory_limit: "1T".into(),
            upload_max_filesize: "100M".into(),
            post_max_size: "50M".into(),
            max_execution_time: "-1".into(),
            max_input_vars: "10".into(),
            display_errors: "maybe".into(),
            opcache: "on".into(),
            timezone: "Moon/Base".into(),
        })
        .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            [
                "memory_limit",
                "max_execution_time",
                "max_input_vars",
                "display_errors",
                "timezone",
                "post_max_size"
            ]
        );
        let ok = parse(&PhpForm {
            memory_limit: "200M".into(),
            upload_max_filesize: "100".into(),
            post_max_size: "1G".into(),
            ..PhpForm::default()
        })
        .unwrap();
        assert_eq!(ok.post_max_size, Some(1024));
        assert_eq!(PhpForm::of(&ok).memory_limit, "200M");
        assert_eq!(parse(&PhpForm::default()).unwrap(), PhpSettings::default());
    }
}
