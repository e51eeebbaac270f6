//! A site's logs: nginx's access and error logs for the site, its PHP errors (in its own
//! `logs/`), and its PHP-FPM master's log; read from the node a bounded piece at a time (the
//! end, what was added since an offset, a search of the last megabytes, a download). Root's
//! logs are read as root (nothing of the site's is on their path); the site's own as the site
//! user. Every line is untrusted: control characters dropped, bounded, escaped where shown.

use crate::db::servers::Server;
use crate::db::sites::Site;
use crate::domain::SiteUser;
use crate::error::{AppError, AppResult};
use crate::ssh::{Command, Script};
use crate::state::AppState;

/// The most read in one piece (the page's tail, one poll of the live view).
pub const PIECE: u64 = 64 * 1024;
/// How far back a search looks.
pub const SEARCH_BYTES: u64 = 20 * 1024 * 1024;
/// How much a download holds (the end of the log).
pub const DOWNLOAD_BYTES: u64 = 10 * 1024 * 1024;
/// The longest line shown (the rest is cut).
const LINE: usize = 4000;

/// `HOW FILE OFFSET MAX`: prints `SIZE START` and the bytes from START (at most MAX). HOW is
/// `root` (the panel's user asks through `sudo -n stat` and `sudo -n tail`, the two programs
/// it may run as root to read) or `self` (run by the site's user on its own file). An offset
/// past the end (the log was rotated) starts again at 0; -1 means "the last MAX bytes". Only a
/// regular file is read (`stat` does not follow a link).
const READ: &str = "if [ \"$1\" = root ]; then S='sudo -n'; else S=''; fi; f=$2; off=$3; max=$4; \
     info=$($S stat -c '%F:%s' -- \"$f\" 2>/dev/null) || { echo '0 0'; exit 0; }; \
     [ \"${info%:*}\" = 'regular file' ] || { echo '0 0'; exit 0; }; size=${info##*:}; \
     if [ \"$off\" -lt 0 ]; then off=$(( size > max ? size - max : 0 )); elif [ \"$size\" -lt \"$off\" ]; then off=0; fi; \
     if [ $(( size - off )) -gt \"$max\" ]; then off=$(( size - max )); fi; \
     echo \"$size $off\"; timeout 5 $S tail -c +$(( off + 1 )) -- \"$f\" | head -c \"$max\"";

/// `HOW FILE QUERY`: the lines of the last SEARCH_BYTES holding QUERY (fixed text, any case),
/// the last 500 of them.
const SEARCH: &str = "if [ \"$1\" = root ]; then S='sudo -n'; else S=''; fi; \
     [ \"$($S stat -c %F -- \"$2\" 2>/dev/null)\" = 'regular file' ] || exit 0; \
     timeout 10 $S tail -c 20971520 -- \"$2\" 2>/dev/null | grep -a -F -i -e \"$3\" | tail -n 500 | head -c 262144";

/// Which log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogKind {
    Access,
    Error,
    Php,
    Slow,
    Fpm,
    /// A worker's output (its processes', in the site's `logs/workers/`).
    Worker(crate::ids::WorkerId),
}

impl LogKind {
    pub const ALL: [LogKind; 5] = [
        LogKind::Access,
        LogKind::Error,
        LogKind::Php,
        LogKind::Slow,
        LogKind::Fpm,
    ];

    /// The names the page's links use: the fixed ones, or `worker-ID`.
    pub fn parse(text: &str) -> Option<Self> {
        if let Some(id) = text.strip_prefix("worker-") {
            return id.parse().ok().map(LogKind::Worker);
        }
        Self::ALL.into_iter().find(|k| k.name() == text)
    }

    pub fn name(self) -> String {
        match self {
            LogKind::Access => "access".into(),
            LogKind::Error => "error".into(),
            LogKind::Php => "php".into(),
            LogKind::Slow => "slow".into(),
            LogKind::Fpm => "fpm".into(),
            LogKind::Worker(id) => format!("worker-{id}"),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            LogKind::Access => "nginx access",
            LogKind::Error => "nginx errors",
            LogKind::Php => "PHP errors",
            LogKind::Slow => "PHP slow requests",
            LogKind::Fpm => "PHP-FPM master",
            LogKind::Worker(_) => "worker output",
        }
    }

    /// The file on the node, and whether the site's user reads it (it lies in the site's home).
    fn file(self, domain: &str, user: &SiteUser) -> (String, bool) {
        match self {
            LogKind::Access => (format!("/var/log/nginx/{domain}.access.log"), false),
            LogKind::Error => (format!("/var/log/nginx/{domain}.error.log"), false),
            LogKind::Php => (format!("{}/logs/php-error.log", user.home()), true),
            LogKind::Slow => (
                format!(
                    "{}/{user}.slow.log",
                    crate::provision::templates::FPM_LOG_DIR
                ),
                false,
            ),
            LogKind::Fpm => (
                format!("{}/{user}.log", crate::provision::templates::FPM_LOG_DIR),
                false,
            ),
            // Read as the site's user from its own home (any id names a file there at most).
            LogKind::Worker(id) => (format!("{}/logs/workers/{id}.log", user.home()), true),
        }
    }
}

/// A piece of a log: its size on the node, where the piece starts, its lines.
#[derive(Clone, Debug, Default)]
pub struct Piece {
    pub size: u64,
    pub start: u64,
    pub lines: Vec<String>,
}

fn user_of(site: &Site) -> AppResult<SiteUser> {
    site.user()
        .ok_or_else(|| AppError::Conflict("The site has no user yet.".into()))
}

/// Run a read-only script on the log's file with `args`, as root or as the site's user.
async fn run(
    state: &AppState,
    server: &Server,
    site: &Site,
    kind: LogKind,
    body: &'static str,
    args: &[String],
) -> AppResult<String> {
    let user = user_of(site)?;
    let (file, as_site) = kind.file(&site.domain, &user);
    if as_site {
        let command = Command::new("bash")
            .sudo_as_site(&user)
            .flag("-c")
            .value(body)
            .operand("self")
            .operand(&file)
            .operands(args);
        crate::nodes::read_command(state, server, &command, std::time::Duration::from_secs(15))
            .await
    } else {
        let mut script = Script::new("site-log", body).arg("root").arg(&file);
        for a in args {
            script = script.arg(a);
        }
        crate::nodes::read_script(state, server, &script).await
    }
}

/// Untrusted text as lines fit to show: no control characters but tabs, each bounded.
pub fn lines_of(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| {
            l.chars()
                .filter(|c| (!c.is_control() || *c == '\t') && !reorders(*c))
                .take(LINE)
                .collect()
        })
        .collect()
}

/// Characters that reorder how text reads (a line that shows one thing and is another).
fn reorders(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// What no line of a site's log may show: its database password and its secret-named `.env`
/// values (a worker's or PHP's output can print them; seeing a secret takes more than the Logs
/// tab's role). Blanked in the text as read, before it is cut into lines.
fn blanked(state: &AppState, site: &Site, text: &str) -> AppResult<String> {
    let (spec, password) =
        crate::sites::spec_of(site, &state.secrets).map_err(AppError::Conflict)?;
    let mut out = text.to_owned();
    for secret in crate::cron::secrets_of(&spec, password) {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), "[hidden]");
        }
    }
    Ok(out)
}

/// The piece from `offset` (None: the end of the log), at most `PIECE` bytes.
pub async fn read(
    state: &AppState,
    server: &Server,
    site: &Site,
    kind: LogKind,
    offset: Option<u64>,
) -> AppResult<Piece> {
    let off = offset.map_or(-1, |o| o.min(i64::MAX as u64) as i64);
    let out = run(
        state,
        server,
        site,
        kind,
        READ,
        &[off.to_string(), PIECE.to_string()],
    )
    .await?;
    let (head, rest) = out.split_once('\n').unwrap_or((out.as_str(), ""));
    let mut nums = head
        .split_whitespace()
        .map(|n| n.parse::<u64>().unwrap_or(0));
    let size = nums.next().unwrap_or(0);
    let start = nums.next().unwrap_or(0);
    // A piece that ends inside a line keeps that line for the next poll, unless the piece is
    // all one line (longer than a piece): then it is shown cut, and the view moves on.
    let complete = match rest.rfind('\n') {
        Some(i) => &rest[..=i],
        None if rest.len() as u64 >= PIECE => rest,
        None => "",
    };
    let shown = blanked(state, site, if offset.is_some() { complete } else { rest })?;
    Ok(Piece {
        size: if offset.is_some() {
            start + complete.len() as u64
        } else {
            size
        },
        start,
        lines: lines_of(&shown),
    })
}

/// The lines of the last `SEARCH_BYTES` that hold `query` (fixed text, any case).
pub async fn search(
    state: &AppState,
    server: &Server,
    site: &Site,
    kind: LogKind,
    query: &str,
) -> AppResult<Vec<String>> {
    let out = run(state, server, site, kind, SEARCH, &[query.to_owned()]).await?;
    // Matched on the node, kept only if they still match once blanked: a search is no way to
    // guess a secret a character at a time.
    let wanted = query.to_lowercase();
    Ok(lines_of(&blanked(state, site, &out)?)
        .into_iter()
        .filter(|l| l.to_lowercase().contains(&wanted))
        .collect())
}

/// The end of the log, for a download.
pub async fn download(
    state: &AppState,
    server: &Server,
    site: &Site,
    kind: LogKind,
) -> AppResult<String> {
    let out = run(
        state,
        server,
        site,
        kind,
        READ,
        &["-1".to_owned(), DOWNLOAD_BYTES.to_string()],
    )
    .await?;
    blanked(
        state,
        site,
        out.split_once('\n').map(|(_, r)| r).unwrap_or(""),
    )
}

/// A search as typed: one line, at most 200 characters.
pub fn parse_query(text: &str) -> Result<Option<String>, String> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    if t.len() > 200 || t.chars().any(char::is_control) {
        return Err("one line of at most 200 characters".into());
    }
    Ok(Some(t.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_stripped_and_bounded() {
        let long = "x".repeat(5000);
        let lines = lines_of(&format!("a\u{1b}[31mb\tc\u{202e}\n{long}\n"));
        assert_eq!(lines[0], "a[31mb\tc");
        assert_eq!(lines[1].len(), LINE);
        assert_eq!(parse_query("  GET /x "), Ok(Some("GET /x".into())));
        assert!(parse_query("a\nb").is_err());
        assert_eq!(LogKind::parse("php"), Some(LogKind::Php));
        assert_eq!(LogKind::parse("../etc"), None);
        let id: crate::ids::WorkerId = "01ARZ3NDEKTSV4RRFFQ69G5FAV".parse().unwrap();
        assert_eq!(
            LogKind::parse("worker-01ARZ3NDEKTSV4RRFFQ69G5FAV"),
            Some(LogKind::Worker(id))
        );
        assert_eq!(LogKind::parse("worker-../../etc/passwd"), None);
    }
}
