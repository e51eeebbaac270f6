//! A site's cron jobs on its server. What each job runs and when is written as root's files
//! under `/etc/panel/site-jobs/USER/` (outside the site's home: nothing a site user can change
//! is read as root); `panel-site-job` (setup/site-job.sh) runs a job as the site's user, in its
//! home, with its `.env` and its PHP first on `PATH`, and keeps the exit code and output tail in
//! the site's `logs/cron/`. With systemd each job is a timer and a oneshot service running as
//! the site user in the site's SELinux domain and categories; without it (the direct driver)
//! the runner's minute loop starts the jobs that are due.

use crate::domain::{CronCommand, CronSchedule};
use crate::ids::CronJobId;
use crate::ssh::Command;

use super::steps::{link_probe, mkdir};
use super::{Action, Driver, FileWrite, Plan, Probe, Profile, SiteSpec, Step};

/// The node script, embedded.
pub const RUNNER_SCRIPT: &str = include_str!("../../setup/site-job.sh");
/// Where it is installed (root's; the entry into the site's domain where SELinux runs).
pub const RUNNER: &str = "/usr/local/libexec/panel-site-job";
/// Root's directory of every site's job files.
pub const JOBS_DIR: &str = "/etc/panel/site-jobs";
/// One directory per PHP version holding `php`, put first on a job's `PATH`.
const PHP_DIR: &str = "/usr/local/libexec/panel-php";
/// How much of a run's output is kept on the node and shown.
pub const OUTPUT_TAIL: usize = 16384;

/// One job as the plan writes it.
#[derive(Clone, Debug)]
pub struct CronEntry {
    pub id: CronJobId,
    pub schedule: CronSchedule,
    pub command: CronCommand,
    pub enabled: bool,
}

pub fn site_dir(site: &SiteSpec) -> String {
    format!("{JOBS_DIR}/{}", site.user)
}

pub fn unit_name(site: &SiteSpec, id: CronJobId, suffix: &str) -> String {
    format!("panel-cron-{}-{id}.{suffix}", site.user)
}

fn unit_path(site: &SiteSpec, id: CronJobId, suffix: &str) -> String {
    format!("/etc/systemd/system/{}", unit_name(site, id, suffix))
}

/// Where a job's last run is kept in the site's home (the site user's own files).
pub fn status_path(site: &SiteSpec, id: CronJobId) -> String {
    format!("{}/logs/cron/{id}.status", site.user.home())
}

pub fn output_path(site: &SiteSpec, id: CronJobId) -> String {
    format!("{}/logs/cron/{id}.out", site.user.home())
}

fn php_link(site: &SiteSpec) -> String {
    format!("{PHP_DIR}/{}/php", site.php)
}

/// The plan a change to a site's cron jobs runs: the node ends up with exactly `jobs`.
pub fn sync(profile: Profile, driver: Driver, site: &SiteSpec, jobs: &[CronEntry]) -> Plan {
    Plan {
        title: format!("Cron jobs of {}", site.domain),
        profile,
        driver,
        steps: sync_steps(profile, driver, site, jobs),
    }
}

/// The steps that make the node run exactly `jobs` for the site (also the end of provisioning
/// and resuming a site).
pub fn sync_steps(
    profile: Profile,
    driver: Driver,
    site: &SiteSpec,
    jobs: &[CronEntry],
) -> Vec<Step> {
    let mut steps = vec![runner_step(profile, site), files_step(site, jobs)];
    match driver {
        Driver::Systemd => steps.push(timers_step(profile, site, jobs)),
        Driver::Direct => steps.push(start_runner_step(jobs)),
    }
    steps
}

/// The runner script and the site's PHP as `php` (cron jobs and workers share both).
pub(super) fn runner_step(profile: Profile, site: &SiteSpec) -> Step {
    let script = FileWrite::new(RUNNER.to_owned(), "0755", "root", RUNNER_SCRIPT.to_owned());
    let link = php_link(site);
    let target = profile.php_cli(site.php);
    let mut step = Step::new("Install the site job runner");
    let linked = link_probe(&link, target);
    step.check = vec![script.unchanged(), linked.clone()];
    step.apply = vec![
        // Also makes /usr/local/libexec, which Debian does not have.
        mkdir("0755", "root", "root", &[format!("{PHP_DIR}/{}", site.php)]),
        Action::Write(script.clone()),
        Action::run(
            Command::new("ln")
                .sudo()
                .flag("-sfn")
                .operand(target)
                .operand(&link),
        ),
    ];
    step.verify = vec![script.unchanged(), linked];
    step
}

/// A job's schedule file (`KEY=VALUE` lines the runner reads without evaluating them).
pub fn job_file(site: &SiteSpec, job: &CronEntry) -> String {
    let mut out = String::new();
    for (key, value) in job.schedule.runner_fields() {
        out.push_str(&format!("{key}={value}\n"));
    }
    out.push_str(&format!("php={}\n", site.php));
    out.push_str(&format!("enabled={}\n", u8::from(job.enabled)));
    out
}

fn job_files(site: &SiteSpec, jobs: &[CronEntry]) -> Vec<FileWrite> {
    let dir = site_dir(site);
    let user = site.user.as_str();
    jobs.iter()
        .flat_map(|job| {
            [
                FileWrite::new(
                    format!("{dir}/{}.cmd", job.id),
                    "0640",
                    "root",
                    job.command.to_string(),
                )
                .group(user),
                FileWrite::new(
                    format!("{dir}/{}.job", job.id),
                    "0640",
                    "root",
                    job_file(site, job),
                )
                .group(user),
            ]
        })
        .collect()
}

/// The site's job files, exactly: a removed job's files go with the directory.
fn files_step(site: &SiteSpec, jobs: &[CronEntry]) -> Step {
    exact_files_step(
        format!("Write the cron jobs of {}", site.domain),
        &site_dir(site),
        site,
        job_files(site, jobs),
    )
}

/// The names in a directory, one a line, in byte order (what `names.sort()` gives).
const LIST: &str = "LC_ALL=C; shopt -s nullglob dotglob; cd -- \"$1\" || exit 1; for f in *; do printf '%s\\n' \"$f\"; done";

/// A root-owned directory readable by the site's group holding exactly `files` (what else was
/// there goes: it is made again from nothing when anything differs).
pub(super) fn exact_files_step(
    title: String,
    dir: &str,
    site: &SiteSpec,
    files: Vec<FileWrite>,
) -> Step {
    let user = site.user.as_str();
    let mut names: Vec<String> = files
        .iter()
        .map(|f| f.path.rsplit('/').next().unwrap_or_default().to_owned())
        .collect();
    names.sort();
    let mut step = Step::new(title);
    let mut check = vec![
        Probe::output(
            Command::new("stat")
                .flag("-c")
                .flag("%U %G %a")
                .operand(dir),
            format!("root {user} 750"),
        ),
        Probe::output(
            Command::new("bash").flag("-c").value(LIST).operand(dir),
            names.join("\n"),
        ),
    ];
    if !files.is_empty() {
        let refs: Vec<&FileWrite> = files.iter().collect();
        check.push(FileWrite::all_unchanged(&refs));
    }
    step.check = check.clone();
    step.apply = vec![
        Action::run(Command::new("rm").sudo().flag("-rf").operand(dir)),
        mkdir("0750", "root", user, &[dir.to_owned()]),
    ];
    step.apply.extend(files.into_iter().map(Action::Write));
    step.verify = check;
    step
}

/// The oneshot service that runs a job: as the site user, in the job domain at the site's
/// categories.
pub fn service_unit(profile: Profile, site: &SiteSpec, id: CronJobId) -> String {
    let user = site.user.as_str();
    let selinux = if profile.selinux {
        format!(
            "# The site's categories: the job reaches what its PHP reaches (and runs programs).\nSELinuxContext=system_u:system_r:laravel_site_job_t:{}\n",
            site.mcs
        )
    } else {
        String::new()
    };
    format!(
        "# Managed by Panel: cron job {id} of {domain} (site user {user}).
[Unit]
Description=Cron job {id} of {domain}

[Service]
Type=oneshot
User={user}
Group={user}
ExecStart={RUNNER} run {user} {id}
{selinux}PrivateTmp=true
",
        domain = site.domain,
    )
}

/// The timer that starts it on the job's schedule (UTC, to the second, like cron).
pub fn timer_unit(site: &SiteSpec, job: &CronEntry) -> String {
    let calendar: String = job
        .schedule
        .on_calendar()
        .iter()
        .map(|c| format!("OnCalendar={c}\n"))
        .collect();
    format!(
        "# Managed by Panel: when cron job {id} of {domain} runs ({schedule}).
[Unit]
Description=Schedule of cron job {id} of {domain}

[Timer]
{calendar}AccuracySec=1s

[Install]
WantedBy=timers.target
",
        id = job.id,
        domain = site.domain,
        schedule = job.schedule,
    )
}

fn timers_step(profile: Profile, site: &SiteSpec, jobs: &[CronEntry]) -> Step {
    let mut step = Step::new(format!("Schedule the cron jobs of {}", site.domain));
    let mut apply = Vec::new();
    for job in jobs {
        apply.push(Action::Write(FileWrite::new(
            unit_path(site, job.id, "service"),
            "0644",
            "root",
            service_unit(profile, site, job.id),
        )));
        apply.push(Action::Write(FileWrite::new(
            unit_path(site, job.id, "timer"),
            "0644",
            "root",
            timer_unit(site, job),
        )));
    }
    apply.push(Action::run(
        Command::new("systemctl").sudo().flag("daemon-reload"),
    ));
    // The timers of jobs that are gone (their files went with the step before).
    apply.push(Action::run(
        Command::new(RUNNER)
            .sudo()
            .operand("prune")
            .operand(site.user.as_str()),
    ));
    for job in jobs {
        let timer = unit_name(site, job.id, "timer");
        if job.enabled {
            apply.push(Action::run(
                Command::new("systemctl")
                    .sudo()
                    .flag("enable")
                    .flag("--quiet")
                    .operand(&timer),
            ));
            // A changed schedule counts from now.
            apply.push(Action::run(
                Command::new("systemctl")
                    .sudo()
                    .flag("restart")
                    .operand(&timer),
            ));
        } else {
            apply.push(Action::run(
                Command::new("systemctl")
                    .sudo()
                    .flag("disable")
                    .flag("--now")
                    .flag("--quiet")
                    .operand(&timer),
            ));
        }
    }
    step.apply = apply;
    step.verify = jobs
        .iter()
        .filter(|j| j.enabled)
        .map(|j| {
            Probe::ok(
                Command::new("systemctl")
                    .flag("is-active")
                    .flag("--quiet")
                    .operand(unit_name(site, j.id, "timer")),
            )
        })
        .collect();
    step
}

/// Without systemd: the runner's minute loop (started once per server, kept by its pid file).
fn start_runner_step(jobs: &[CronEntry]) -> Step {
    let mut step = Step::new("Start the site job runner");
    if jobs.iter().all(|j| !j.enabled) {
        step.skip = Some("no enabled cron job on this site".into());
    }
    step.apply = vec![Action::run(Command::new(RUNNER).sudo().operand("start"))];
    step
}

/// Suspending or deleting a site: its jobs stop (resuming writes them again).
pub fn remove_steps(driver: Driver, site: &SiteSpec) -> Vec<Step> {
    let dir = site_dir(site);
    let mut step = Step::new(format!("Stop the cron jobs of {}", site.domain));
    let mut apply = vec![Action::run(
        Command::new("rm").sudo().flag("-rf").operand(&dir),
    )];
    if driver == Driver::Systemd {
        apply.push(Action::when(
            Probe::ok(Command::new("test").flag("-x").value(RUNNER)),
            Action::run(
                Command::new(RUNNER)
                    .sudo()
                    .operand("prune")
                    .operand(site.user.as_str()),
            ),
        ));
    }
    step.apply = apply;
    vec![step]
}

/// Run one job now, as its timer would, and show its output.
pub fn run_now(profile: Profile, driver: Driver, site: &SiteSpec, job: &CronEntry) -> Plan {
    let show = Action::run(
        Command::new("tail")
            .sudo_as_site(&site.user)
            .flag("-c")
            .value(OUTPUT_TAIL.to_string())
            .operand(output_path(site, job.id)),
    );
    let run = match driver {
        Driver::Systemd => Command::new("systemctl")
            .sudo()
            .flag("start")
            .operand(unit_name(site, job.id, "service")),
        Driver::Direct => Command::new(RUNNER)
            .sudo_as_site(&site.user)
            .operand("run")
            .operand(site.user.as_str())
            .operand(job.id.to_string()),
    };
    let mut step = Step::new(format!("Run `{}`", job.command));
    // A failed run shows its output, then fails the step.
    step.apply = vec![
        Action::or_else(
            Action::run(run),
            Action::Sequence(vec![show.clone(), Action::run(Command::new("false"))]),
        ),
        show,
    ];
    step.timeout = Some(std::time::Duration::from_secs(15 * 60));
    Plan {
        title: format!("Run a cron job of {}", site.domain),
        profile,
        driver,
        steps: vec![step],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::AppType;

    fn site() -> SiteSpec {
        super::super::test_site(AppType::Laravel)
    }

    fn entry(schedule: &str, command: &str, enabled: bool) -> CronEntry {
        CronEntry {
            id: "01ARZ3NDEKTSV4RRFFQ69G5FAV".parse().unwrap(),
            schedule: CronSchedule::parse(schedule).unwrap(),
            command: CronCommand::parse(command).unwrap(),
            enabled,
        }
    }

    #[test]
    fn the_units_run_the_job_as_the_site_user_in_its_domain() {
        let alma = Profile::parse("alma9").unwrap();
        let job = entry("*/5 * * * *", "php artisan schedule:run", true);
        let service = service_unit(alma, &site(), job.id);
        assert!(service.contains("User=web3\nGroup=web3\n"), "{service}");
        assert!(
            service.contains(
                "ExecStart=/usr/local/libexec/panel-site-job run web3 01ARZ3NDEKTSV4RRFFQ69G5FAV\n"
            ),
            "{service}"
        );
        assert!(
            service.contains(&format!(
                "SELinuxContext=system_u:system_r:laravel_site_job_t:{}\n",
                site().mcs
            )),
            "{service}"
        );
        // The command itself is never in a unit (systemd would parse it): the runner reads it.
        assert!(!service.contains("artisan"));
        let timer = timer_unit(&site(), &job);
        assert!(
            timer.contains("OnCalendar=*-*-* *:00,05,10,15,20,25,30,35,40,45,50,55:00 UTC\n"),
            "{timer}"
        );
        assert_eq!(
            job_file(&site(), &job),
            "minute=0,5,10,15,20,25,30,35,40,45,50,55\nhour=*\ndom=*\nmonth=*\ndow=*\ndays=and\nphp=8.2\nenabled=1\n"
        );
    }

    #[test]
    fn plans_for_both_drivers_touch_nothing_in_the_home_as_root() {
        let deb = Profile::parse("debian12").unwrap();
        let jobs = [
            entry("* * * * *", "date >> ~/proof", true),
            entry("@daily", "true", false),
        ];
        for driver in [Driver::Systemd, Driver::Direct] {
            let plan = sync(deb, driver, &site(), &jobs);
            assert!(
                super::super::tenant::root_violations(&plan, &site().user).is_empty(),
                "{:?}",
                super::super::tenant::root_violations(&plan, &site().user)
            );
            let text = super::super::render::text(&plan);
            assert!(text.contains("/etc/panel/site-jobs/web3"), "{text}");
            let run = run_now(deb, driver, &site(), &jobs[0]);
            assert!(super::super::tenant::root_violations(&run, &site().user).is_empty());
        }
        let direct = sync(deb, Driver::Direct, &site(), &jobs);
        assert_eq!(
            direct.steps.last().unwrap().title,
            "Start the site job runner"
        );
        let run = super::super::render::text(&run_now(deb, Driver::Direct, &site(), &jobs[0]));
        assert!(
            run.contains("'setpriv' '--reuid=web3' '--regid=web3'"),
            "the direct driver runs it as the site user: {run}"
        );
    }
}
