//! Command line: `panel` (= `panel serve`) and the operator commands run on the panel host.
//! Shell access to the panel host is the trust root: these commands need no login.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::config::{Config, ConfigArgs};
use crate::crypto::SecretBox;
use crate::db::{self, Pool};
use crate::domain::KeyType;
use crate::error::AppError;
use crate::{keys, secrets};

#[derive(Debug, Parser)]
#[command(
    name = "panel",
    version,
    about = "Self-hosted, SELinux-first server management panel"
)]
pub struct Cli {
    #[command(flatten)]
    pub config: ConfigArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web panel (what a bare `panel` does).
    Serve,
    /// SSH keys the panel logs in to servers with.
    #[command(subcommand, name = "ssh-key")]
    SshKey(SshKeyCommand),
    /// The master key that encrypts every secret in the database.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Panel users (people who log in with passkeys).
    #[command(subcommand)]
    User(UserCommand),
    /// SELinux tools that work on audit logs.
    #[command(subcommand)]
    Selinux(SelinuxCommand),
    /// Sites (offline tools; sites are created in the web UI).
    #[command(subcommand)]
    Site(SiteCommand),
    /// Deploy a site from its repository: queues a deployment that the running panel starts
    /// (one at a time per site). With --wait, prints its log and exits 1 if it fails.
    Deploy {
        /// The site's domain (or its id).
        #[arg(allow_hyphen_values = true)]
        site: String,
        /// Deploy this branch instead of the site's own.
        #[arg(long, allow_hyphen_values = true)]
        branch: Option<String>,
        /// Wait until the deployment ends, printing its log as it runs.
        #[arg(long)]
        wait: bool,
    },
}

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
        /// wordpress, laravel or php.
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
        #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
        format: PlanFormat,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum PlanFormat {
    Text,
    Script,
}

#[derive(Debug, Subcommand)]
pub enum SelinuxCommand {
    /// Print one line per SELinux record (AVC, USER_AVC, SELINUX_ERR, MAC_STATUS,
    /// MAC_CONFIG_CHANGE) of an audit log; skipped lines are summarised on stderr.
    Parse {
        /// The log file; `-` or nothing reads standard input.
        file: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = OutputFormat::Json)]
        format: OutputFormat,
    },
    /// Explain each distinct denial of an audit log (a boolean, a mislabelled file, a
    /// cross-site attempt, or a missing rule), most severe first.
    Explain {
        /// The log file; `-` or nothing reads standard input.
        file: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
        format: OutputFormat,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum OutputFormat {
    Json,
    Text,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Print a one-time link that creates a user with this e-mail and their first passkey.
    Invite {
        email: String,
        #[arg(long)]
        name: Option<String>,
    },
    /// Print a one-time link that adds a new passkey to an existing user (lost passkey).
    Recover { email: String },
    /// List users.
    List,
    /// Disable a user: their sessions end and they cannot log in.
    Disable { email: String },
    /// Enable a disabled user again.
    Enable { email: String },
}

#[derive(Debug, Subcommand)]
pub enum SshKeyCommand {
    /// Generate a key pair; prints the public key to put in authorized_keys.
    Generate {
        #[arg(long)]
        name: String,
        #[arg(long = "type", value_enum, default_value_t = KeyTypeArg::Ed25519)]
        key_type: KeyTypeArg,
    },
    /// Import an unencrypted OpenSSH private key, or a public key alone, from FILE (`-` = stdin).
    Import {
        #[arg(long)]
        name: String,
        file: PathBuf,
    },
    /// List keys with their SHA256 fingerprints.
    List,
    /// Print a key's public half (by id or name).
    Show { key: String },
    /// Delete a key (refused while a server uses it).
    Delete { key: String },
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Generate a new master key and re-encrypt every secret with it, in one transaction.
    Rotate,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum KeyTypeArg {
    Ed25519,
    Rsa,
}

impl From<KeyTypeArg> for KeyType {
    fn from(k: KeyTypeArg) -> Self {
        match k {
            KeyTypeArg::Ed25519 => KeyType::Ed25519,
            KeyTypeArg::Rsa => KeyType::Rsa,
        }
    }
}

/// A failed command: what to print and the exit status (2 = bad input).
struct Failure {
    code: u8,
    message: String,
}

impl From<AppError> for Failure {
    fn from(e: AppError) -> Self {
        match &e {
            AppError::Invalid(fields) => Failure {
                code: 2,
                message: fields
                    .iter()
                    .map(|f| format!("{}: {}", f.field, f.message))
                    .collect::<Vec<_>>()
                    .join("\n"),
            },
            AppError::NotFound => Failure {
                code: 1,
                message: "no such key".into(),
            },
            _ if e.is_internal() => Failure {
                code: 1,
                message: format!("{e}"),
            },
            _ => Failure {
                code: 1,
                message: e.public_message(),
            },
        }
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure {
            code: 1,
            message: format!("{e:#}"),
        }
    }
}

/// Parse arguments, run the command, map failures to exit codes.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::resolve(&cli.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("panel: {e}");
            return ExitCode::from(2);
        }
    };
    crate::telemetry::init(config.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("panel: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => crate::app::serve(config).await.map_err(Failure::from),
            Command::SshKey(cmd) => ssh_key(cmd, &config).await,
            Command::Key(KeyCommand::Rotate) => rotate(&config).await,
            Command::User(cmd) => user(cmd, &config).await,
            Command::Selinux(SelinuxCommand::Parse { file, format }) => selinux_parse(file, format),
            Command::Selinux(SelinuxCommand::Explain { file, format }) => {
                selinux_explain(file, format)
            }
            Command::Site(cmd) => site(cmd),
            Command::Deploy { site, branch, wait } => deploy(&config, &site, branch, wait).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            for line in f.message.lines() {
                eprintln!("panel: {line}");
            }
            ExitCode::from(f.code)
        }
    }
}

async fn open(config: &Config) -> Result<(Pool, SecretBox), Failure> {
    let pool = db::open(&config.data_dir).await?;
    let secrets = secrets::open_box(&pool, &config.data_dir, config.env_key()).await?;
    Ok((pool, secrets))
}

async fn ssh_key(cmd: SshKeyCommand, config: &Config) -> Result<(), Failure> {
    let (pool, secrets) = open(config).await?;
    let result = run_ssh_key(cmd, &pool, &secrets).await;
    db::close(&pool).await;
    result
}

async fn run_ssh_key(cmd: SshKeyCommand, pool: &Pool, secrets: &SecretBox) -> Result<(), Failure> {
    match cmd {
        SshKeyCommand::Generate { name, key_type } => {
            let key = keys::generate(pool, secrets, &name, key_type.into(), None).await?;
            print_key("Generated", &key);
        }
        SshKeyCommand::Import { name, file } => {
            let text = read_limited(&file)?;
            let key = keys::import(pool, secrets, &name, &text, None).await?;
            print_key("Imported", &key);
        }
        SshKeyCommand::List => {
            let all = db::ssh_keys::list(pool).await.map_err(AppError::from)?;
            if all.is_empty() {
                println!("No SSH keys yet. Create one with: panel ssh-key generate --name NAME");
            } else {
                println!(
                    "{:<26}  {:<24}  {:<7}  {:<50}  {:<7}  USED BY",
                    "ID", "NAME", "TYPE", "FINGERPRINT", "PRIVATE"
                );
                for k in all {
                    println!(
                        "{:<26}  {:<24}  {:<7}  {:<50}  {:<7}  {}",
                        k.id,
                        k.name,
                        k.key_type.as_str(),
                        k.fingerprint,
                        if k.has_private_key { "yes" } else { "no" },
                        k.used_by.as_deref().unwrap_or("-")
                    );
                }
            }
        }
        SshKeyCommand::Show { key } => {
            println!("{}", keys::resolve(pool, &key).await?.public_key);
        }
        SshKeyCommand::Delete { key } => {
            let k = keys::resolve(pool, &key).await?;
            keys::delete(pool, k.id).await?;
            println!("Deleted key {} ({})", k.name, k.fingerprint);
        }
    }
    Ok(())
}

fn print_key(verb: &str, key: &crate::db::ssh_keys::SshKeyPublic) {
    println!("{verb} {} key “{}”", key.key_type, key.name);
    println!("ID:          {}", key.id);
    println!("Fingerprint: {}", key.fingerprint);
    println!(
        "Private key: {}",
        if key.has_private_key {
            "stored encrypted"
        } else {
            "none (public key only)"
        }
    );
    println!("Public key:");
    println!("{}", key.public_key);
}

/// Read a key file (or stdin for `-`), refusing anything far larger than a key before parsing.
fn read_limited(file: &PathBuf) -> Result<String, Failure> {
    let limit = crate::crypto::ssh::MAX_KEY_TEXT as u64 + 1;
    let mut buf = Vec::new();
    let read = if file.as_os_str() == "-" {
        std::io::stdin().take(limit).read_to_end(&mut buf)
    } else {
        std::fs::File::open(file).and_then(|f| f.take(limit).read_to_end(&mut buf))
    };
    read.map_err(|e| Failure {
        code: 2,
        message: format!("key: cannot read {}: {e}", file.display()),
    })?;
    String::from_utf8(buf).map_err(|_| Failure {
        code: 2,
        message: "key: the file is not text; expected an OpenSSH key".into(),
    })
}

async fn user(cmd: UserCommand, config: &Config) -> Result<(), Failure> {
    let pool = db::open(&config.data_dir).await?;
    let result = run_user(cmd, &pool, config).await;
    db::close(&pool).await;
    result
}

fn bad_input(field: &str, message: String) -> Failure {
    Failure {
        code: 2,
        message: format!("{field}: {message}"),
    }
}

async fn existing_user(pool: &Pool, email: &str) -> Result<crate::db::users::User, Failure> {
    db::users::find_by_email(pool, email.trim())
        .await
        .map_err(AppError::from)?
        .ok_or_else(|| bad_input("email", format!("no user with the e-mail {}", email.trim())))
}

async fn run_user(cmd: UserCommand, pool: &Pool, config: &Config) -> Result<(), Failure> {
    use crate::auth::{self, Purpose};
    use crate::domain::UserStatus;
    match cmd {
        UserCommand::Invite { email, name } => {
            let email = auth::parse_email(&email).map_err(|m| bad_input("email", m))?;
            let name = name
                .map(|n| auth::parse_display_name(&n).map_err(|m| bad_input("name", m)))
                .transpose()?;
            if db::users::find_by_email(pool, &email)
                .await
                .map_err(AppError::from)?
                .is_some()
            {
                return Err(bad_input(
                    "email",
                    format!("{email} is already a user; use `panel user recover {email}`"),
                ));
            }
            let link = auth::issue_enrolment(
                pool,
                config,
                Purpose::Invite,
                Some(&email),
                name.as_deref(),
                None,
            )
            .await
            .map_err(AppError::from)?;
            println!("One-time enrolment link for {email} (valid 30 minutes):\n{link}");
        }
        UserCommand::Recover { email } => {
            let user = existing_user(pool, &email).await?;
            let link =
                auth::issue_enrolment(pool, config, Purpose::Recover, None, None, Some(user.id))
                    .await
                    .map_err(AppError::from)?;
            println!(
                "One-time link to add a passkey for {} (valid 30 minutes):\n{link}",
                user.email
            );
        }
        UserCommand::List => {
            let users = db::users::list(pool).await.map_err(AppError::from)?;
            if users.is_empty() {
                println!(
                    "No users yet. `panel serve` prints a first-run link; or run `panel user invite EMAIL`."
                );
            } else {
                println!(
                    "{:<32}  {:<24}  {:<8}  {:<8}  LAST LOGIN",
                    "EMAIL", "NAME", "STATUS", "PASSKEYS"
                );
                for u in users {
                    println!(
                        "{:<32}  {:<24}  {:<8}  {:<8}  {}",
                        u.email,
                        u.name,
                        u.status.as_str(),
                        u.passkeys,
                        u.last_login_at.as_deref().unwrap_or("never")
                    );
                }
            }
        }
        UserCommand::Disable { email } => {
            let user = existing_user(pool, &email).await?;
            db::users::set_status(pool, user.id, UserStatus::Disabled)
                .await
                .map_err(AppError::from)?;
            let ended = db::sessions::delete_for_user(pool, user.id)
                .await
                .map_err(AppError::from)?;
            println!("Disabled {}; ended {ended} session(s).", user.email);
        }
        UserCommand::Enable { email } => {
            let user = existing_user(pool, &email).await?;
            db::users::set_status(pool, user.id, UserStatus::Active)
                .await
                .map_err(AppError::from)?;
            println!("Enabled {}.", user.email);
        }
    }
    Ok(())
}

async fn deploy(
    config: &Config,
    site: &str,
    branch: Option<String>,
    wait: bool,
) -> Result<(), Failure> {
    let pool = db::open(&config.data_dir).await?;
    let result = run_deploy(&pool, config, site, branch, wait).await;
    db::close(&pool).await;
    result
}

async fn run_deploy(
    pool: &Pool,
    config: &Config,
    site: &str,
    branch: Option<String>,
    wait: bool,
) -> Result<(), Failure> {
    use crate::domain::{DeploymentStatus, DeploymentTrigger, GitBranch, SiteDomain};
    let branch = branch
        .map(|b| GitBranch::parse(&b).map_err(|m| bad_input("branch", m)))
        .transpose()?;
    let found = match site.parse::<crate::ids::SiteId>() {
        Ok(id) => db::sites::get(pool, id).await.map_err(AppError::from)?,
        Err(_) => {
            let domain = SiteDomain::parse(site).map_err(|m| bad_input("site", m))?;
            db::sites::by_domain(pool, domain.as_str())
                .await
                .map_err(AppError::from)?
        }
    };
    let site = found.ok_or_else(|| Failure {
        code: 1,
        message: format!(
            "no site {}",
            site.chars().take(100).collect::<String>().escape_debug()
        ),
    })?;
    // Who asked, for the deployment's record: the panel host's account running this command.
    let who = std::env::var("SUDO_USER")
        .or_else(|_| std::env::var("USER"))
        .unwrap_or_else(|_| "unknown".into());
    let id = crate::deployments::queue_deploy(
        pool,
        site.id,
        crate::deployments::Trigger {
            by: DeploymentTrigger::Cli,
            actor: None,
            detail: Some(format!("panel deploy, run by {who}")),
        },
        branch,
    )
    .await?;
    let page = format!(
        "{}{}",
        config.url.trim_end_matches('/'),
        crate::web::paths::with_id(crate::web::paths::DEPLOYMENT, id)
    );
    println!("Queued deployment {id} of {}: {page}", site.domain);
    if !wait {
        return Ok(());
    }
    // Follow the deployment: its job's log lines as they are stored, until it ends.
    let started = std::time::Instant::now();
    let mut hinted = false;
    let mut seen = 0;
    loop {
        let d = db::deployments::get(pool, id)
            .await
            .map_err(AppError::from)?
            .ok_or_else(|| Failure {
                code: 1,
                message: "the deployment was deleted (with its site?)".into(),
            })?;
        // A job is marked finished only once its whole log is stored: the deployment ends
        // (its row) a moment before, so its end is taken from the job's.
        let mut job_done = false;
        if let Some(job) = d.job_id {
            for l in db::jobs::log_since(pool, job, seen)
                .await
                .map_err(AppError::from)?
            {
                seen = l.seq;
                match l.stream.as_str() {
                    "stderr" => eprintln!("{}", l.line),
                    _ => println!("{}", l.line),
                }
            }
            job_done = db::jobs::get(pool, job)
                .await
                .map_err(AppError::from)?
                .is_some_and(|j| matches!(j.status.as_str(), "success" | "failed" | "interrupted"));
        } else if !hinted && started.elapsed() > std::time::Duration::from_secs(10) {
            eprintln!("panel: still queued; is `panel serve` running with this data directory?");
            hinted = true;
        }
        if !job_done && d.job_id.is_some() {
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
            continue;
        }
        match d.status {
            DeploymentStatus::Success => {
                println!(
                    "Deployment {id} succeeded ({}).",
                    d.commit_hash.as_deref().unwrap_or("no commit")
                );
                return Ok(());
            }
            DeploymentStatus::Failed => {
                return Err(Failure {
                    code: 1,
                    message: format!(
                        "deployment {id} failed: {}",
                        d.status_reason.as_deref().unwrap_or("see the log above")
                    ),
                });
            }
            DeploymentStatus::Pending | DeploymentStatus::Running if job_done => {
                return Err(Failure {
                    code: 1,
                    message: format!(
                        "deployment {id}: its job ended without recording a result; see the panel's log"
                    ),
                });
            }
            DeploymentStatus::Pending | DeploymentStatus::Running => {}
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
}

async fn rotate(config: &Config) -> Result<(), Failure> {
    let pool = db::open(&config.data_dir).await?;
    let result = secrets::rotate(&pool, &config.data_dir, config.env_key()).await;
    db::close(&pool).await;
    let report = result?;
    println!(
        "Rotated the master key {:08x} → {:08x}; re-encrypted {} secret(s).",
        report.old_key_id, report.new_key_id, report.secrets
    );
    Ok(())
}

/// An audit log from a file or standard input; invalid UTF-8 from a node becomes U+FFFD.
fn read_log(file: Option<&std::path::Path>) -> Result<String, Failure> {
    let mut bytes = Vec::new();
    let read = match file {
        Some(p) if p.as_os_str() != "-" => {
            std::fs::File::open(p).and_then(|mut f| f.read_to_end(&mut bytes))
        }
        _ => std::io::stdin().read_to_end(&mut bytes),
    };
    read.map_err(|e| Failure {
        code: 1,
        message: format!(
            "cannot read {}: {e}",
            file.map_or("standard input".into(), |p| p.display().to_string())
        ),
    })?;
    // Valid UTF-8 (the usual case) is taken as is, without a copy.
    Ok(String::from_utf8(bytes)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
}

fn report_skipped(skipped: &crate::selinux::audit::Skipped) {
    if skipped.overlong + skipped.malformed > 0 {
        eprintln!(
            "panel: skipped {} malformed and {} overlong (> 64 KiB) lines",
            skipped.malformed, skipped.overlong
        );
    }
}

fn selinux_explain(file: Option<PathBuf>, format: OutputFormat) -> Result<(), Failure> {
    use std::io::Write;
    let text = read_log(file.as_deref())?;
    // Grouped straight from the text: one record per kind of denial, not one per line.
    let (denials, skipped) = crate::selinux::explain::group_log(&text);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for d in &denials {
        let line = match format {
            OutputFormat::Json => serde_json::to_string(d).unwrap_or_default(),
            OutputFormat::Text => format!("{}\n", crate::selinux::explain::to_text(d)),
        };
        if writeln!(out, "{line}").is_err() {
            break;
        }
    }
    let _ = out.flush();
    report_skipped(&skipped);
    Ok(())
}

fn selinux_parse(file: Option<PathBuf>, format: OutputFormat) -> Result<(), Failure> {
    use std::io::Write;
    let text = read_log(file.as_deref())?;
    let (records, skipped) = crate::selinux::audit::parse(&text);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for r in &records {
        let line = match format {
            OutputFormat::Json => serde_json::to_string(r).unwrap_or_default(),
            OutputFormat::Text => crate::selinux::audit::to_text(r),
        };
        if writeln!(out, "{line}").is_err() {
            break; // a closed pipe (e.g. `| head`) ends the output quietly
        }
    }
    let _ = out.flush();
    report_skipped(&skipped);
    Ok(())
}

fn site(cmd: SiteCommand) -> Result<(), Failure> {
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
    };
    let mut errors: Vec<String> = Vec::new();
    let profile = crate::provision::Profile::parse(&os)
        .map_err(|m| errors.push(format!("os: {m}")))
        .ok();
    let driver = crate::provision::Driver::parse(&driver)
        .map_err(|m| errors.push(format!("driver: {m}")))
        .ok();
    let mcs = crate::selinux::mcs::McsPair::parse(&mcs)
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
    let spec = input.spec(user, mcs);
    let password = input.database.as_ref().map(|_| {
        std::env::var("PANEL_PLAN_DB_PASSWORD")
            .ok()
            .filter(|p| !p.is_empty())
            .unwrap_or_else(crate::sites::generate_password)
    });
    let plan = crate::provision::steps::provision(
        profile,
        driver,
        &spec,
        &crate::provision::steps::PlanSecrets {
            db_password: password,
        },
        None,
    );
    let out = match format {
        PlanFormat::Text => crate::provision::render::text(&plan),
        PlanFormat::Script => crate::provision::render::script(&plan),
    };
    use std::io::Write;
    let _ = std::io::stdout().write_all(out.as_bytes());
    Ok(())
}
