//! `panel site plan`: the exact provisioning plan for a site (as its job runs it: with its
//! scheduler when asked, and its logs' rotation), printed without touching anything.

use clap::{Subcommand, ValueEnum};

use super::Failure;

#[derive(Debug, Subcommand)]
pub enum SiteCommand {
    /// Print the exact provisioning plan for a site without touching anything; `--format
    /// script` prints it as a standalone bash script. Set PANEL_PLAN_DB_PASSWORD to fix the
    /// database password the plan writes (otherwise a fresh one is generated).
    Plan {
        /// alma8, alma9, rocky8, rocky9 or debian12.
        #[arg(long)]
        os: String,
        // Hyphen values reach the parser, which names the field in its error.
        #[arg(long, allow_hyphen_values = true)]
        domain: String,
        /// wordpress, laravel or generic (`php` is accepted for generic).
        #[arg(long = "app-type")]
        app_type: String,
        /// PHP version, e.g. 8.3.
        #[arg(long)]
        php: String,
        /// mariadb, postgresql or none.
        #[arg(long, default_value = "none")]
        db: String,
        /// Another domain the site answers to (repeatable).
        #[arg(long = "alias", allow_hyphen_values = true)]
        aliases: Vec<String>,
        /// The site's Unix user (default web1).
        #[arg(long, allow_hyphen_values = true)]
        user: Option<String>,
        /// The database and database-user name (default: from the domain).
        #[arg(long = "db-name", allow_hyphen_values = true)]
        db_name: Option<String>,
        /// How services are controlled: systemd (real servers) or direct (no init system).
        #[arg(long, default_value = "systemd")]
        driver: String,
        /// The site's SELinux categories (the panel gives each site its own pair).
        #[arg(long, default_value = "s0:c100,c101", allow_hyphen_values = true)]
        mcs: String,
        /// Leave out the scheduler a new site is offered (Laravel's schedule:run, WordPress's
        /// WP-Cron with DISABLE_WP_CRON in its .env), as unticking it at creation does.
        #[arg(long = "no-scheduler")]
        no_scheduler: bool,
        #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
        format: PlanFormat,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum PlanFormat {
    Text,
    Script,
}

pub(super) fn run(cmd: SiteCommand) -> Result<(), Failure> {
    let SiteCommand::Plan {
        os,
        domain,
        app_type,
        php,
        db,
        aliases,
        user,
        db_name,
        driver,
        mcs,
        no_scheduler,
        format,
    } = cmd;
    let form = crate::sites::SiteForm {
        domain,
        // Each alias is parsed on its own: a space inside one is an error, not two aliases.
        aliases: String::new(),
        app_type,
        php_version: php,
        database: db,
        user: user.unwrap_or_default(),
        db_name: db_name.unwrap_or_default(),
        server_id: String::new(),
        scheduler: None,
    };
    let mut errors: Vec<String> = Vec::new();
    let profile = crate::provision::Profile::parse(&os)
        .map_err(|m| errors.push(format!("os: {m}")))
        .ok();
    let driver = crate::provision::Driver::parse(&driver)
        .map_err(|m| errors.push(format!("driver: {m}")))
        .ok();
    let mcs = crate::domain::McsPair::parse(&mcs)
        .ok_or_else(|| {
            errors.push(format!(
                "mcs: `{}` is not a site category pair (s0:cA,cB with 100 <= A < B <= 1023)",
                mcs.chars().take(40).collect::<String>().escape_debug()
            ))
        })
        .ok();
    let input = crate::sites::parse_input(&form)
        .map_err(|fields| {
            errors.extend(fields.iter().map(|f| {
                let name = match f.field {
                    "php_version" => "php",
                    "app_type" => "app-type",
                    "database" => "db",
                    "db_name" => "db-name",
                    other => other,
                };
                format!("{name}: {}", f.message)
            }))
        })
        .ok();
    let domain = input.as_ref().map(|i| i.domain.clone());
    let mut parsed_aliases = Vec::new();
    for a in &aliases {
        match crate::domain::SiteDomain::parse(a) {
            Ok(d) if Some(&d) == domain.as_ref() => {
                errors.push(format!("alias: `{d}` is the site's domain already"))
            }
            Ok(d) if parsed_aliases.contains(&d) => {
                errors.push(format!("alias: `{d}` is listed twice"))
            }
            Ok(d) => parsed_aliases.push(d),
            Err(m) => errors.push(format!("alias: {m}")),
        }
    }
    if parsed_aliases.len() > crate::domain::site::MAX_ALIASES {
        errors.push(format!(
            "alias: at most {} aliases",
            crate::domain::site::MAX_ALIASES
        ));
    }
    let (Some(profile), Some(driver), Some(mut input), Some(mcs)) = (profile, driver, input, mcs)
    else {
        return Err(Failure {
            code: 2,
            message: errors.join("\n"),
        });
    };
    if !errors.is_empty() {
        return Err(Failure {
            code: 2,
            message: errors.join("\n"),
        });
    }
    input.aliases = parsed_aliases;
    let user = input
        .user
        .clone()
        .unwrap_or_else(|| crate::domain::SiteUser::numbered(1));
    let mut spec = input.spec(user, mcs);
    let preset = crate::cron::preset(spec.app_type).filter(|_| !no_scheduler);
    if preset.is_some() && spec.app_type == crate::domain::AppType::WordPress {
        // As creation stores it: WP-Cron runs from the timer, no longer on page views.
        spec.env.push((
            crate::domain::EnvKey::parse("DISABLE_WP_CRON").expect("a valid name"),
            "true".to_owned(),
        ));
    }
    let password = input.database.as_ref().map(|_| {
        std::env::var("PANEL_PLAN_DB_PASSWORD")
            .ok()
            .filter(|p| !p.is_empty())
            .unwrap_or_else(crate::sites::generate_password)
    });
    let mut plan = crate::provision::site::provision(
        profile,
        driver,
        &spec,
        &crate::provision::site::PlanSecrets {
            db_password: password,
        },
        None,
    );
    // What the provisioning job adds from the site's stored cron jobs and workers: a new site
    // has at most its scheduler (here with a fixed id, so the plan reads the same each time).
    let cron: Vec<crate::provision::cron::CronEntry> = preset
        .map(|(_, schedule, command)| crate::provision::cron::CronEntry {
            id: "00000000000000000000000001".parse().expect("a valid id"),
            schedule,
            command,
            enabled: true,
        })
        .into_iter()
        .collect();
    crate::sites::jobs::provision_extras(&mut plan, &spec, &cron, &[]);
    let out = match format {
        PlanFormat::Text => crate::provision::render::text(&plan),
        PlanFormat::Script => crate::provision::render::script(&plan),
    };
    use std::io::Write;
    let _ = std::io::stdout().write_all(out.as_bytes());
    Ok(())
}
