//! A site's workers: long-running processes (a queue worker, a daemon) run as the site's user,
//! as many as asked, restarted by a policy and stopped with a signal and a timeout. The command
//! is a `CronCommand` (one line, run by `bash -c` as the site user, like a cron job's).

/// The most processes one worker may run.
pub const MAX_PROCESSES: u8 = 20;
/// The longest a worker is given to stop before it is killed (a deploy waits this long).
pub const MAX_STOP_SECONDS: u16 = 600;

/// How many processes of a worker run (1–20).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkerProcesses(u8);

impl WorkerProcesses {
    pub fn parse(text: &str) -> Result<Self, String> {
        match text.trim().parse::<u8>() {
            Ok(n) if (1..=MAX_PROCESSES).contains(&n) => Ok(Self(n)),
            _ => Err(format!("A whole number from 1 to {MAX_PROCESSES}")),
        }
    }

    /// A stored count (the schema holds it to the same range).
    pub fn from_stored(n: i64) -> Option<Self> {
        u8::try_from(n)
            .ok()
            .filter(|n| (1..=MAX_PROCESSES).contains(n))
            .map(Self)
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

/// Seconds a worker has to stop after its stop signal before it is killed (1–600).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StopTimeout(u16);

impl StopTimeout {
    pub fn parse(text: &str) -> Result<Self, String> {
        match text.trim().parse::<u16>() {
            Ok(n) if (1..=MAX_STOP_SECONDS).contains(&n) => Ok(Self(n)),
            _ => Err(format!(
                "Seconds, a whole number from 1 to {MAX_STOP_SECONDS}"
            )),
        }
    }

    pub fn from_stored(n: i64) -> Option<Self> {
        u16::try_from(n)
            .ok()
            .filter(|n| (1..=MAX_STOP_SECONDS).contains(n))
            .map(Self)
    }

    pub fn get(self) -> u16 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_timeouts_are_held_to_their_ranges() {
        assert_eq!(WorkerProcesses::parse(" 3 ").unwrap().get(), 3);
        for bad in ["0", "21", "-1", "1.5", "", "2e1", "x"] {
            assert!(WorkerProcesses::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(StopTimeout::parse("600").unwrap().get(), 600);
        for bad in ["0", "601", "65536", "ten"] {
            assert!(StopTimeout::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(WorkerProcesses::from_stored(21), None);
        assert_eq!(StopTimeout::from_stored(60).unwrap().get(), 60);
    }
}
