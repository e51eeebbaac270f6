//! `panel dev seed`: fill an empty panel's database with fake servers, sites, databases and
//! SELinux records, to measure the panel at the size of a hosting company (the scale
//! benchmark and `../shared/checks/ui-scale` use it). It refuses a panel that has servers.

use clap::Subcommand;

use super::Failure;
use crate::config::Config;
use crate::db;

#[derive(Debug, Subcommand)]
pub enum DevCommand {
    /// Fill an empty panel with fake rows (for benchmarks; never on a real panel).
    Seed {
        #[arg(long, default_value_t = 1_000)]
        servers: u32,
        #[arg(long, default_value_t = 20_000)]
        sites: u32,
        /// SELinux records, spread over the last day.
        #[arg(long, default_value_t = 200_000)]
        audit: u32,
    },
}

pub async fn run(cmd: DevCommand, config: &Config) -> Result<(), Failure> {
    let DevCommand::Seed {
        servers,
        sites,
        audit,
    } = cmd;
    let pool = db::open(&config.data_dir).await?;
    let started = std::time::Instant::now();
    let sizes = db::seed::Sizes {
        servers: servers.into(),
        sites: sites.into(),
        audit: audit.into(),
    };
    let result = db::seed::seed(&pool, sizes).await;
    db::close(&pool).await;
    result.map_err(|e| Failure::new(1, format!("{e:#}")))?;
    println!(
        "Seeded {servers} servers, {sites} sites ({} databases) and {audit} SELinux records in {:.1} s.",
        sites.div_ceil(2),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
