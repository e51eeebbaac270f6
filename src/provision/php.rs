//! A site's PHP settings applied: its pool rewritten with the new `php_admin_value`s (tested
//! with `php-fpm -t`; the previous file goes back when the test fails), its vhost's body limit
//! (tested with `nginx -t` the same way), then the master reloaded gracefully and the site
//! asked for a page.

use super::site::{pool_step, reload_step};
use super::steps::nginx_diagnosis;
use super::vhost::vhost_step;
use super::{Driver, Plan, Profile, SiteSpec};

pub fn settings(profile: Profile, driver: Driver, site: &SiteSpec) -> Plan {
    let mut vhost = vhost_step(profile, site, false);
    // The vhost step's `nginx -t` has just passed.
    vhost.apply.push(driver.reload_nginx_tested());
    Plan {
        title: format!("Apply the PHP settings of {}", site.domain),
        profile,
        driver,
        steps: vec![
            pool_step(profile, driver, site),
            vhost,
            reload_step(profile, driver, site),
        ],
    }
}

/// The vhost alone rewritten (its redirects or its custom block changed): one step, tested
/// with `nginx -t` (the previous file back when it fails) and reloaded; so a failed job means
/// the change is not served.
pub fn vhost(profile: Profile, driver: Driver, site: &SiteSpec) -> Plan {
    let mut vhost = vhost_step(profile, site, false);
    vhost.apply.push(driver.reload_nginx_tested());
    vhost.diagnose = nginx_diagnosis();
    Plan {
        title: format!("Rewrite the vhost of {}", site.domain),
        profile,
        driver,
        steps: vec![vhost],
    }
}
