//! A site's workers on its server: long-running processes as the site's user. What each runs
//! and how is written as root's files under `/etc/panel/site-workers/USER/` (outside the site's
//! home); `panel-site-job` (setup/site-job.sh) makes the running processes match them. With
//! systemd each worker is a template unit, one instance per process, as the site user in the
//! site's SELinux job domain and categories; without it (the direct driver) a root supervisor
//! per process restarts it by its policy and keeps a pid file in `/run/panel-site-workers/`.
//! Every change restarts the site's workers (each stopped with its signal and timeout), and so
//! does every deploy and rollback, after PHP-FPM is reloaded.

use crate::domain::{CronCommand, StopTimeout, WorkerProcesses, WorkerRestart, WorkerSignal};
use crate::ids::WorkerId;
use crate::ssh::Command;

use super::cron::{RUNNER, exact_files_step, runner_step};
use super::{Action, Driver, FileWrite, Plan, Probe, Profile, SiteSpec, Step};

/// Root's directory of every site's worker files.
pub const WORKERS_DIR: &str = "/etc/panel/site-workers";
/// How much of a worker's output is shown.
pub const OUTPUT_TAIL: usize = 4096;

/// One worker as the plan writes it.
#[derive(Clone, Debug)]
pub struct WorkerEntry {
    pub id: WorkerId,
    pub command: CronCommand,
    pub processes: WorkerProcesses,
    pub restart: WorkerRestart,
    pub stop_signal: WorkerSignal,
    pub stop_timeout: StopTimeout,
}

pub fn site_dir(site: &SiteSpec) -> String {
    format!("{WORKERS_DIR}/{}", site.user)
}

/// The template unit of a worker (`@N` is the process number).
pub fn unit_name(site: &SiteSpec, id: WorkerId) -> String {
    format!("panel-worker-{}-{id}@.service", site.user)
}

/// Where a worker's output goes (the site user's own file).
pub fn log_path(site: &SiteSpec, id: WorkerId) -> String {
    format!("{}/logs/workers/{id}.log", site.user.home())
}

/// A worker's settings file (`KEY=VALUE` lines the runner reads without evaluating them).
pub fn worker_file(site: &SiteSpec, w: &WorkerEntry) -> String {
    format!(
        "processes={}\nrestart={}\nsignal={}\ntimeout={}\nphp={}\n",
        w.processes.get(),
        w.restart,
        w.stop_signal,
        w.stop_timeout.get(),
        site.php
    )
}

/// The template unit: as the site user, in the job domain at the site's categories; the stop
/// signal to the main process, then everything left killed after the timeout.
pub fn service_unit(profile: Profile, site: &SiteSpec, w: &WorkerEntry) -> String {
    let user = site.user.as_str();
    let selinux = if profile.selinux {
        format!(
            "# The site's categories: the worker reaches what its PHP reaches (and runs programs).\nSELinuxContext=system_u:system_r:laravel_site_job_t:{}\n",
            site.mcs
        )
    } else {
        String::new()
    };
    let restart = match w.restart {
        WorkerRestart::Always => "always",
        WorkerRestart::OnFailure => "on-failure",
        WorkerRestart::Never => "no",
    };
    format!(
        "# Managed by Panel: worker {id} of {domain} (site user {user}), one instance per process.
[Unit]
Description=Worker {id} of {domain}, process %i
After=network.target
# Restarted however often it ends (as the direct driver's supervisor does), two seconds apart.
StartLimitIntervalSec=0

[Service]
Type=simple
User={user}
Group={user}
ExecStart={RUNNER} worker {user} {id} %i
{selinux}Restart={restart}
RestartSec=2
KillSignal=SIG{signal}
KillMode=mixed
TimeoutStopSec={timeout}
PrivateTmp=true

[Install]
WantedBy=multi-user.target
",
        id = w.id,
        domain = site.domain,
        signal = w.stop_signal,
        timeout = w.stop_timeout.get(),
    )
}

/// The plan a change to a site's workers runs: the node ends up running exactly `workers`.
pub fn sync(profile: Profile, driver: Driver, site: &SiteSpec, workers: &[WorkerEntry]) -> Plan {
    Plan {
        title: format!("Workers of {}", site.domain),
        profile,
        driver,
        steps: sync_steps(profile, driver, site, workers),
    }
}

/// The steps that make the node run exactly `workers` (also the end of provisioning and
/// resuming a site that has any).
pub fn sync_steps(
    profile: Profile,
    driver: Driver,
    site: &SiteSpec,
    workers: &[WorkerEntry],
) -> Vec<Step> {
    let dir = site_dir(site);
    let user = site.user.as_str();
    let mut files = Vec::new();
    for w in workers {
        files.push(
            FileWrite::new(
                format!("{dir}/{}.cmd", w.id),
                "0640",
                "root",
                w.command.to_string(),
            )
            .group(user),
        );
        files.push(
            FileWrite::new(
                format!("{dir}/{}.worker", w.id),
                "0640",
                "root",
                worker_file(site, w),
            )
            .group(user),
        );
    }
    let mut steps = vec![
        runner_step(profile, site),
        exact_files_step(
            format!("Write the workers of {}", site.domain),
            &dir,
            site,
            files,
        ),
    ];
    if driver == Driver::Systemd {
        let mut units = Step::new(format!("Write the worker units of {}", site.domain));
        units.apply = workers
            .iter()
            .map(|w| {
                Action::Write(FileWrite::new(
                    format!("/etc/systemd/system/{}", unit_name(site, w.id)),
                    "0644",
                    "root",
                    service_unit(profile, site, w),
                ))
            })
            .collect();
        if workers.is_empty() {
            units.skip = Some("the site has no worker".into());
        }
        steps.push(units);
    }
    steps.push(restart_step(driver, site, workers));
    steps
}

/// Stop every process of the site's workers and start what the files say (none when there are
/// none): after a change, a deploy, a rollback.
fn restart_step(driver: Driver, site: &SiteSpec, workers: &[WorkerEntry]) -> Step {
    let mut step = Step::new(format!("Restart the workers of {}", site.domain));
    step.apply = vec![apply_action(driver, site)];
    step.verify = running(driver, site, workers);
    step.timeout = Some(STOP_BUDGET);
    step
}

fn apply_action(driver: Driver, site: &SiteSpec) -> Action {
    Action::run(
        Command::new(RUNNER)
            .sudo()
            .operand("workers")
            .operand(site.user.as_str())
            .operand(driver_word(driver)),
    )
}

fn driver_word(driver: Driver) -> &'static str {
    match driver {
        Driver::Systemd => "systemd",
        Driver::Direct => "direct",
    }
}

/// A step that stops workers waits as long as the slowest may take, whatever its settings are
/// now (a deleted worker's old timeout still applies while it stops), and a minute to start.
const STOP_BUDGET: std::time::Duration =
    std::time::Duration::from_secs(crate::domain::worker::MAX_STOP_SECONDS as u64 + 60);

/// Each process of a worker that restarts by itself is up (a worker that may end by itself is
/// not checked: it may have finished already).
fn running(driver: Driver, site: &SiteSpec, workers: &[WorkerEntry]) -> Vec<Probe> {
    if driver != Driver::Systemd {
        return Vec::new();
    }
    workers
        .iter()
        .filter(|w| w.restart == WorkerRestart::Always)
        .flat_map(|w| {
            (1..=w.processes.get()).map(move |k| {
                Probe::ok(
                    Command::new("systemctl")
                        .flag("is-active")
                        .flag("--quiet")
                        .operand(format!("panel-worker-{}-{}@{k}.service", site.user, w.id)),
                )
            })
        })
        .collect()
}

/// After a deploy or rollback is live: the site's workers start again in the new release
/// (only where the site has any: its directory of worker files exists). The release is live
/// and answering by now, so workers that do not restart are a warning in the log, not a reason
/// to switch the release back.
pub fn deploy_restart_step(driver: Driver, site: &SiteSpec) -> Step {
    let mut step = Step::new("Restart the site's workers");
    step.apply = vec![Action::when(
        Probe::ok(Command::new("test").flag("-d").value(site_dir(site))),
        Action::or_else(
            apply_action(driver, site),
            Action::run(Command::new("echo").value(
                "warning: the workers did not all restart; the Workers tab shows them, and restarting them there tries again",
            )),
        ),
    )];
    step.timeout = Some(STOP_BUDGET);
    step
}

/// Suspending or deleting a site: its workers stop (resuming starts them again).
pub fn remove_steps(driver: Driver, site: &SiteSpec) -> Vec<Step> {
    let mut step = Step::new(format!("Stop the workers of {}", site.domain));
    step.apply = vec![
        Action::run(
            Command::new("rm")
                .sudo()
                .flag("-rf")
                .operand(site_dir(site)),
        ),
        Action::when(
            Probe::ok(Command::new("test").flag("-x").value(RUNNER)),
            apply_action(driver, site),
        ),
    ];
    step.timeout = Some(STOP_BUDGET);
    vec![step]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::AppType;

    fn site() -> SiteSpec {
        super::super::test_site(AppType::Laravel)
    }

    fn worker() -> WorkerEntry {
        WorkerEntry {
            id: "01ARZ3NDEKTSV4RRFFQ69G5FAV".parse().unwrap(),
            command: CronCommand::parse("php public_html/artisan queue:work").unwrap(),
            processes: WorkerProcesses::parse("2").unwrap(),
            restart: WorkerRestart::OnFailure,
            stop_signal: WorkerSignal::Quit,
            stop_timeout: StopTimeout::parse("90").unwrap(),
        }
    }

    #[test]
    fn the_unit_runs_each_process_as_the_site_user_in_its_domain() {
        let alma = Profile::parse("alma9").unwrap();
        let unit = service_unit(alma, &site(), &worker());
        for line in [
            "User=web3\nGroup=web3\n",
            "ExecStart=/usr/local/libexec/panel-site-job worker web3 01ARZ3NDEKTSV4RRFFQ69G5FAV %i\n",
            "Restart=on-failure\n",
            "KillSignal=SIGQUIT\n",
            "TimeoutStopSec=90\n",
            "SELinuxContext=system_u:system_r:laravel_site_job_t:",
        ] {
            assert!(unit.contains(line), "{line} in {unit}");
        }
        // The command itself is never in a unit (systemd would parse it): the runner reads it.
        assert!(!unit.contains("artisan"));
        assert_eq!(
            worker_file(&site(), &worker()),
            "processes=2\nrestart=on-failure\nsignal=QUIT\ntimeout=90\nphp=8.2\n"
        );
    }

    #[test]
    fn plans_for_both_drivers_touch_nothing_in_the_home_as_root() {
        let deb = Profile::parse("debian12").unwrap();
        for driver in [Driver::Systemd, Driver::Direct] {
            for plan in [
                sync(deb, driver, &site(), &[worker()]),
                sync(deb, driver, &site(), &[]),
                Plan {
                    title: "remove".into(),
                    profile: deb,
                    driver,
                    steps: remove_steps(driver, &site())
                        .into_iter()
                        .chain([deploy_restart_step(driver, &site())])
                        .collect(),
                },
            ] {
                let bad = super::super::tenant::root_violations(&plan, &site().user);
                assert!(bad.is_empty(), "{bad:?}");
            }
            let text = super::super::render::text(&sync(deb, driver, &site(), &[worker()]));
            assert!(
                text.contains(&format!(
                    "'/usr/local/libexec/panel-site-job' '--' 'workers' 'web3' '{}'",
                    driver_word(driver)
                )),
                "{text}"
            );
        }
    }
}
