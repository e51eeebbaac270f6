//! The repository form (address, branch, releases to keep, deploy script) turned into domain
//! values, and the deploy script a new repository starts with.

use serde::Deserialize;

use crate::domain::{AppType, DeployScript, GitBranch, KeepReleases, RepoUrl};
use crate::error::{FieldError, FieldErrors};

const SCRIPT_HEADER: &str = "\
# Runs as the site user in the new release ($RELEASE_DIR) before it goes live. A command that
# fails stops the deploy and the live release keeps serving. Available: $BRANCH, $COMMIT,
# $COMMIT_MESSAGE, $RELEASE_DIR, $SITE_DOMAIN, $SITE_USER, $SITE_HOME, $APP_TYPE, $DEPLOYMENT_ID
# and $PHP (this site's PHP binary). .env and storage/ are already linked in.
";

/// The deploy script a new repository starts with, by application type.
pub fn default_script(app: AppType) -> String {
    let body = match app {
        AppType::Laravel => {
            "composer=$(command -v composer) || { echo 'Composer is not installed on this server' >&2; exit 1; }
\"$PHP\" \"$composer\" install --no-dev --no-interaction --prefer-dist --optimize-autoloader
\"$PHP\" artisan migrate --force
\"$PHP\" artisan config:cache
\"$PHP\" artisan route:cache
\"$PHP\" artisan view:cache
"
        }
        AppType::WordPress | AppType::Generic => "",
    };
    format!("{SCRIPT_HEADER}{body}")
}

/// The repository form as submitted.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct RepositoryForm {
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub branch: String,
    #[serde(default)]
    pub keep_releases: String,
    #[serde(default)]
    pub deploy_script: String,
}

/// The form, every field parsed.
#[derive(Clone, Debug)]
pub struct RepositoryInput {
    pub url: RepoUrl,
    pub branch: GitBranch,
    pub keep: KeepReleases,
    pub script: DeployScript,
}

/// Parse every field; all errors at once, each naming its field.
pub fn parse_form(form: &RepositoryForm) -> Result<RepositoryInput, FieldErrors> {
    let mut errors = Vec::new();
    let url = RepoUrl::parse(&form.url)
        .map_err(|m| errors.push(FieldError::new("url", m)))
        .ok();
    let branch = GitBranch::parse(&form.branch)
        .map_err(|m| errors.push(FieldError::new("branch", m)))
        .ok();
    let keep = if form.keep_releases.trim().is_empty() {
        Some(KeepReleases::DEFAULT)
    } else {
        KeepReleases::parse(&form.keep_releases)
            .map_err(|m| errors.push(FieldError::new("keep_releases", m)))
            .ok()
    };
    let script = DeployScript::parse(&form.deploy_script)
        .map_err(|m| errors.push(FieldError::new("deploy_script", m)))
        .ok();
    match (url, branch, keep, script) {
        (Some(url), Some(branch), Some(keep), Some(script)) => Ok(RepositoryInput {
            url,
            branch,
            keep,
            script,
        }),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_is_checked_field_by_field() {
        let errs = parse_form(&RepositoryForm {
            url: "ext::sh -c id".into(),
            branch: "--orphan".into(),
            keep_releases: "0".into(),
            deploy_script: "a\0b".into(),
        })
        .unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["url", "branch", "keep_releases", "deploy_script"]);
        let ok = parse_form(&RepositoryForm {
            url: "git@github.com:o/r.git".into(),
            branch: "main".into(),
            keep_releases: String::new(),
            deploy_script: default_script(AppType::Laravel),
        })
        .unwrap();
        assert_eq!(ok.keep, KeepReleases::DEFAULT);
        assert!(!ok.script.is_empty());
        assert!(
            DeployScript::parse(&default_script(AppType::Generic))
                .unwrap()
                .is_empty()
        );
    }
}
