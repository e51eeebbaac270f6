//! A site's cron jobs as values: the schedule (cron's five fields, or one of its `@` names),
//! parsed into the exact sets of minutes, hours, days, months and weekdays it runs at, said in
//! words, stepped forward to its next run times, and rendered for either runner (systemd's
//! `OnCalendar=` lines, or the field lists the direct driver's runner matches); and the command.
//!
//! Schedules are evaluated in UTC on every server (the timers say `UTC`, the runner reads
//! `date -u`), so the times the panel shows are the times the jobs run.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Timelike, Utc};

/// One field: which of its values are in (bit `v` for value `v`), whether it was exactly `*`,
/// and whether it started with `*` (`*/2`): cron treats a day-of-month and a day-of-week that
/// are both restricted (neither starting with `*`) as "either", otherwise as "both".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Field {
    bits: u64,
    star: bool,
    wild: bool,
}

impl Field {
    fn has(self, v: u32) -> bool {
        self.bits & (1 << v) != 0
    }

    fn values(self, min: u32, max: u32) -> Vec<u32> {
        (min..=max).filter(|v| self.has(*v)).collect()
    }
}

/// A parsed schedule. `Display` gives the normalised text that is stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CronSchedule {
    text: String,
    minute: Field,
    hour: Field,
    dom: Field,
    month: Field,
    /// 0–6, Sunday = 0 (a 7 in the text is Sunday too).
    dow: Field,
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
const DAY_NAMES: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
/// systemd's weekday names, Sunday first like cron's numbers.
const SYSTEMD_DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/// The longest schedule text accepted (a long list of values is still one line).
const MAX_SCHEDULE: usize = 200;

impl CronSchedule {
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("Enter a schedule, such as `* * * * *` (every minute)".into());
        }
        if text.len() > MAX_SCHEDULE {
            return Err(format!("At most {MAX_SCHEDULE} characters"));
        }
        let expanded = match text.to_ascii_lowercase().as_str() {
            "@yearly" | "@annually" => "0 0 1 1 *",
            "@monthly" => "0 0 1 * *",
            "@weekly" => "0 0 * * 0",
            "@daily" | "@midnight" => "0 0 * * *",
            "@hourly" => "0 * * * *",
            "@reboot" => {
                return Err(
                    "`@reboot` is not a schedule the panel runs: use a worker for a process that starts with the server"
                        .into(),
                );
            }
            t if t.starts_with('@') => {
                return Err(format!(
                    "`{}` is not one of @hourly, @daily, @weekly, @monthly, @yearly",
                    t.escape_debug()
                ));
            }
            _ => text,
        };
        let words: Vec<&str> = expanded.split_whitespace().collect();
        if words.len() != 5 {
            return Err(format!(
                "A schedule has five fields (minute hour day-of-month month day-of-week); this has {}",
                words.len()
            ));
        }
        let minute = field(words[0], "minute", 0, 59, &[])?;
        let hour = field(words[1], "hour", 0, 23, &[])?;
        let dom = field(words[2], "day of the month", 1, 31, &[])?;
        let month = field(words[3], "month", 1, 12, &MONTHS)?;
        let mut dow = field(words[4], "day of the week", 0, 7, &DAYS)?;
        if dow.has(7) {
            dow.bits = (dow.bits & !(1 << 7)) | 1;
        }
        let schedule = Self {
            text: words.join(" "),
            minute,
            hour,
            dom,
            month,
            dow,
        };
        if schedule.next_after(Utc::now()).is_none() {
            return Err("This schedule never runs (no such day in the months it names)".into());
        }
        Ok(schedule)
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// cron's rule: with both day fields restricted (neither starting with `*`), a day matching
    /// either one is enough.
    fn days_either(&self) -> bool {
        !self.dom.wild && !self.dow.wild
    }

    /// Whether the job runs on this day.
    fn day_matches(&self, date: NaiveDate) -> bool {
        let dom = self.dom.has(date.day());
        let dow = self.dow.has(date.weekday().num_days_from_sunday());
        if self.days_either() {
            dom || dow
        } else {
            dom && dow
        }
    }

    /// The first run time strictly after `after`, if any within eight years (a schedule on
    /// 29 February runs at least every eight).
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let start = after + Duration::minutes(1);
        let mut date = start.date_naive();
        let mut from_minute = start.hour() * 60 + start.minute();
        for _ in 0..(366 * 8) {
            if self.month.has(date.month()) && self.day_matches(date) {
                for m in from_minute..24 * 60 {
                    let (h, min) = (m / 60, m % 60);
                    if self.hour.has(h) && self.minute.has(min) {
                        let at = date.and_hms_opt(h, min, 0)?;
                        return Some(Utc.from_utc_datetime(&at));
                    }
                }
            }
            date = date.succ_opt()?;
            from_minute = 0;
        }
        None
    }

    /// The next `n` run times after `after`.
    pub fn next_runs(&self, after: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
        let mut out = Vec::with_capacity(n);
        let mut at = after;
        while out.len() < n {
            match self.next_after(at) {
                Some(next) => {
                    out.push(next);
                    at = next;
                }
                None => break,
            }
        }
        out
    }

    /// The schedule in words ("every 5 minutes", "at 03:30 on Monday").
    pub fn describe(&self) -> String {
        let minutes = self.minute.values(0, 59);
        let hours = self.hour.values(0, 23);
        let any_minute = minutes.len() == 60;
        let any_hour = hours.len() == 24;
        let time = if any_minute && any_hour {
            "every minute".to_owned()
        } else if let (Some(step), true) = (every(&minutes, 60), any_hour) {
            if minutes[0] == 0 {
                format!("every {step} minutes")
            } else {
                format!("every {step} minutes from minute {}", minutes[0])
            }
        } else if any_hour {
            format!("at {} past every hour", list_minutes(&minutes))
        } else if minutes.len() == 1 && hours.len() <= 4 {
            let at: Vec<String> = hours
                .iter()
                .map(|h| format!("{h:02}:{:02}", minutes[0]))
                .collect();
            format!("at {}", join_words(&at))
        } else if any_minute {
            format!("every minute during hour {}", join_numbers(&hours))
        } else if let (Some(step), false) = (every(&minutes, 60), minutes[0] != 0) {
            format!("every {step} minutes during hour {}", join_numbers(&hours))
        } else if let Some(step) = every(&hours, 24) {
            format!(
                "at {} past every {step} hours from {:02}:00",
                list_minutes(&minutes),
                hours[0]
            )
        } else {
            format!(
                "at {} past hour {}",
                list_minutes(&minutes),
                join_numbers(&hours)
            )
        };
        let mut days = Vec::new();
        if !self.dom.star {
            days.push(format!(
                "on day {} of the month",
                join_numbers(&self.dom.values(1, 31))
            ));
        }
        if !self.dow.star {
            let names: Vec<String> = self
                .dow
                .values(0, 6)
                .iter()
                .map(|d| DAY_NAMES[*d as usize].to_owned())
                .collect();
            days.push(format!("on {}", join_words(&names)));
        }
        let mut out = time;
        if !days.is_empty() {
            out.push(' ');
            out.push_str(&days.join(" or "));
        }
        if !self.month.star {
            let names: Vec<String> = self
                .month
                .values(1, 12)
                .iter()
                .map(|m| MONTH_NAMES[*m as usize - 1].to_owned())
                .collect();
            out.push_str(&format!(" in {}", join_words(&names)));
        }
        out
    }

    /// systemd's `OnCalendar=` values for this schedule (UTC). Two when both day fields are
    /// restricted: a timer with several runs on the union, as cron does.
    pub fn on_calendar(&self) -> Vec<String> {
        let list = |f: Field, min: u32, max: u32, pad: bool| -> String {
            if f.star || f.values(min, max).len() as u32 == max - min + 1 {
                "*".to_owned()
            } else {
                f.values(min, max)
                    .iter()
                    .map(|v| {
                        if pad {
                            format!("{v:02}")
                        } else {
                            v.to_string()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(",")
            }
        };
        let time = format!(
            "{}:{}:00",
            list(self.hour, 0, 23, true),
            list(self.minute, 0, 59, true)
        );
        let months = list(self.month, 1, 12, true);
        let days = list(self.dom, 1, 31, true);
        let weekdays = if self.dow.star {
            None
        } else {
            Some(
                self.dow
                    .values(0, 6)
                    .iter()
                    .map(|d| SYSTEMD_DAYS[*d as usize])
                    .collect::<Vec<_>>()
                    .join(","),
            )
        };
        let line = |weekdays: Option<&str>, days: &str| match weekdays {
            Some(w) => format!("{w} *-{months}-{days} {time} UTC"),
            None => format!("*-{months}-{days} {time} UTC"),
        };
        match &weekdays {
            Some(w) if self.days_either() => vec![line(None, &days), line(Some(w), "*")],
            w => vec![line(w.as_deref(), &days)],
        }
    }

    /// The fields as the direct driver's runner matches them: `*` or a comma list, cron's
    /// weekday numbers (Sunday 0), and whether a day matching either day field is enough.
    pub fn runner_fields(&self) -> [(&'static str, String); 6] {
        let list = |f: Field, min: u32, max: u32| -> String {
            if f.star {
                "*".to_owned()
            } else {
                f.values(min, max)
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            }
        };
        [
            ("minute", list(self.minute, 0, 59)),
            ("hour", list(self.hour, 0, 23)),
            ("dom", list(self.dom, 1, 31)),
            ("month", list(self.month, 1, 12)),
            ("dow", list(self.dow, 0, 6)),
            (
                "days",
                if self.days_either() { "or" } else { "and" }.to_owned(),
            ),
        ]
    }
}

impl std::fmt::Display for CronSchedule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// Values that are every `step` from the first, evenly all the way round (`*/15`, `5-59/10`;
/// not `*/7`, whose last gap to the next hour is shorter).
fn every(values: &[u32], range: u32) -> Option<u32> {
    if values.len() < 2 {
        return None;
    }
    let step = values[1] - values[0];
    let regular = values.windows(2).all(|w| w[1] - w[0] == step);
    (regular
        && step > 1
        && values[0] < step
        && range % step == 0
        && values.len() as u32 == range / step)
        .then_some(step)
}

fn list_minutes(minutes: &[u32]) -> String {
    if minutes.len() == 1 {
        format!("minute {}", minutes[0])
    } else {
        format!("minutes {}", join_numbers(minutes))
    }
}

/// Numbers as words, runs of three or more as ranges ("1, 3 and 9–17").
fn join_numbers(values: &[u32]) -> String {
    let mut words: Vec<String> = Vec::new();
    let mut i = 0;
    while i < values.len() {
        let mut j = i;
        while j + 1 < values.len() && values[j + 1] == values[j] + 1 {
            j += 1;
        }
        if j - i >= 2 {
            words.push(format!("{}–{}", values[i], values[j]));
        } else {
            words.extend(values[i..=j].iter().map(u32::to_string));
        }
        i = j + 1;
    }
    join_words(&words)
}

fn join_words(words: &[String]) -> String {
    match words {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// One field: `*`, `*/N`, `A`, `A-B`, `A-B/N`, `A/N`, names where the field has them, lists of
/// those separated by commas.
fn field(text: &str, what: &str, min: u32, max: u32, names: &[&str]) -> Result<Field, String> {
    let bad = |why: String| format!("The {what} field `{}` {why}", text.escape_debug());
    let value = |s: &str| -> Result<u32, String> {
        let lower = s.to_ascii_lowercase();
        if let Some(i) = names.iter().position(|n| *n == lower) {
            // Month names count from 1, day names from 0.
            return Ok(i as u32 + u32::from(names.len() == MONTHS.len()));
        }
        let v: u32 = s
            .parse()
            .map_err(|_| bad(format!("has `{}`, which is not a number", s.escape_debug())))?;
        if v < min || v > max {
            return Err(bad(format!("has {v}, outside {min}–{max}")));
        }
        Ok(v)
    };
    let mut bits = 0u64;
    let star = text == "*";
    for part in text.split(',') {
        if part.is_empty() {
            return Err(bad("has an empty item".into()));
        }
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => {
                let step: u32 = s
                    .parse()
                    .map_err(|_| bad(format!("has a step `{}`", s.escape_debug())))?;
                if step == 0 || step > max {
                    return Err(bad(format!("has a step of {step}")));
                }
                (r, step)
            }
            None => (part, 1),
        };
        let (lo, hi) = if range == "*" {
            (min, max)
        } else if let Some((a, b)) = range.split_once('-') {
            let (a, b) = (value(a)?, value(b)?);
            if a > b {
                return Err(bad(format!("has a range {a}-{b} that runs backwards")));
            }
            (a, b)
        } else {
            let a = value(range)?;
            // `A/N`: from A to the end, every N (cron's reading, `5/1` included).
            (a, if part.contains('/') { max } else { a })
        };
        let mut v = lo;
        while v <= hi {
            bits |= 1 << v;
            v += step;
        }
    }
    Ok(Field {
        bits,
        star,
        wild: text.starts_with('*'),
    })
}

/// What a cron job runs: one line, run by `bash -c` as the site's user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CronCommand(String);

/// The longest command accepted (a script belongs in a file the command runs).
pub const MAX_COMMAND: usize = 1000;

impl CronCommand {
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("Enter the command to run".into());
        }
        if text.len() > MAX_COMMAND {
            return Err(format!(
                "At most {MAX_COMMAND} characters; put a longer script in a file and run that"
            ));
        }
        if text.chars().any(|c| c.is_control() && c != '\t') {
            return Err("One line, without control characters".into());
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for CronCommand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn said(s: &str) -> String {
        CronSchedule::parse(s).unwrap().describe()
    }

    #[test]
    fn schedules_are_said_in_words() {
        assert_eq!(said("* * * * *"), "every minute");
        assert_eq!(said("*/5 * * * *"), "every 5 minutes");
        assert_eq!(said("0 * * * *"), "at minute 0 past every hour");
        assert_eq!(said("@daily"), "at 00:00");
        assert_eq!(said("30 3 * * 1"), "at 03:30 on Monday");
        assert_eq!(
            said("0 9,17 * * mon-fri"),
            "at 09:00 and 17:00 on Monday, Tuesday, Wednesday, Thursday and Friday"
        );
        assert_eq!(
            said("0 0 1 jan *"),
            "at 00:00 on day 1 of the month in January"
        );
        assert_eq!(said("15 */6 * * *"), "at 00:15, 06:15, 12:15 and 18:15");
        assert_eq!(
            said("5 */2 * * *"),
            "at minute 5 past every 2 hours from 00:00"
        );
        assert_eq!(said("5-59/10 * * * *"), "every 10 minutes from minute 5");
        assert_eq!(
            said("0 0 13 * 5"),
            "at 00:00 on day 13 of the month or on Friday"
        );
        assert_eq!(said("0 0 * * 7"), "at 00:00 on Sunday");
        assert_eq!(said("*/15 9-17 * * *"), "every 15 minutes during hour 9–17");
        assert_eq!(
            said("0 0 1-5,9 * *"),
            "at 00:00 on day 1–5 and 9 of the month"
        );
        assert_eq!(
            said("*/7 * * * *"),
            "at minutes 0, 7, 14, 21, 28, 35, 42, 49 and 56 past every hour"
        );
        assert_eq!(said("0-59 * * * *"), "every minute");
        assert_eq!(said("5/1 * * * *"), "at minutes 5–59 past every hour");
    }

    #[test]
    fn next_runs_step_through_the_calendar() {
        let s = CronSchedule::parse("*/20 * * * *").unwrap();
        let runs = s.next_runs(at("2026-12-31T23:41:10Z"), 5);
        assert_eq!(
            runs,
            vec![
                at("2027-01-01T00:00:00Z"),
                at("2027-01-01T00:20:00Z"),
                at("2027-01-01T00:40:00Z"),
                at("2027-01-01T01:00:00Z"),
                at("2027-01-01T01:20:00Z"),
            ]
        );
        // Either day field (cron's rule): the 13th or a Friday.
        let s = CronSchedule::parse("0 12 13 * fri").unwrap();
        let runs = s.next_runs(at("2026-11-01T00:00:00Z"), 3);
        assert_eq!(
            runs,
            vec![
                at("2026-11-06T12:00:00Z"),
                at("2026-11-13T12:00:00Z"),
                at("2026-11-20T12:00:00Z"),
            ]
        );
        // A day field starting with `*` makes the days "both": odd days that are Mondays.
        let s = CronSchedule::parse("0 0 */2 * 1").unwrap();
        assert_eq!(
            s.next_runs(at("2026-12-01T00:00:00Z"), 2),
            vec![at("2026-12-07T00:00:00Z"), at("2026-12-21T00:00:00Z")]
        );
        assert_eq!(s.runner_fields()[5].1, "and");
        assert_eq!(s.on_calendar().len(), 1);
        // 29 February: the next leap year.
        let s = CronSchedule::parse("0 0 29 2 *").unwrap();
        assert_eq!(
            s.next_after(at("2026-03-01T00:00:00Z")),
            Some(at("2028-02-29T00:00:00Z"))
        );
    }

    #[test]
    fn bad_schedules_say_what_is_wrong() {
        let err = |s: &str| CronSchedule::parse(s).unwrap_err();
        assert!(err("* * * *").contains("five fields"));
        assert!(err("60 * * * *").contains("outside 0–59"));
        assert!(err("* * * 13 *").contains("outside 1–12"));
        assert!(err("*/0 * * * *").contains("step of 0"));
        assert!(err("5-1 * * * *").contains("backwards"));
        assert!(err("a * * * *").contains("not a number"));
        assert!(err("@reboot").contains("worker"));
        assert!(err("0 0 31 2 *").contains("never runs"));
        assert!(err("").contains("Enter a schedule"));
        assert!(err("1,,2 * * * *").contains("empty item"));
        assert!(err("; rm -rf / * * * *").contains("five fields"));
    }

    #[test]
    fn timers_and_the_runner_get_the_same_sets() {
        let s = CronSchedule::parse("*/15 9-17 * * mon-fri").unwrap();
        assert_eq!(
            s.on_calendar(),
            vec!["Mon,Tue,Wed,Thu,Fri *-*-* 09,10,11,12,13,14,15,16,17:00,15,30,45:00 UTC"]
        );
        assert_eq!(s.runner_fields()[4].1, "1,2,3,4,5");
        let s = CronSchedule::parse("0 0 1,15 * sun").unwrap();
        assert_eq!(
            s.on_calendar(),
            vec!["*-*-01,15 00:00:00 UTC", "Sun *-*-* 00:00:00 UTC"]
        );
        assert_eq!(
            CronSchedule::parse("* * * * *").unwrap().on_calendar(),
            vec!["*-*-* *:*:00 UTC"]
        );
        assert_eq!(
            CronSchedule::parse("@hourly").unwrap().as_str(),
            "0 * * * *"
        );
        let fields = CronSchedule::parse("0 3 * jan,jul *")
            .unwrap()
            .runner_fields();
        assert_eq!(fields[3], ("month", "1,7".to_owned()));
    }

    #[test]
    fn commands_are_one_bounded_line() {
        assert!(CronCommand::parse("php artisan schedule:run").is_ok());
        assert!(CronCommand::parse("echo a\necho b").is_err());
        assert!(CronCommand::parse("echo \u{1b}[2J").is_err());
        assert!(CronCommand::parse(&"x".repeat(MAX_COMMAND + 1)).is_err());
        assert!(CronCommand::parse("   ").is_err());
    }
}
