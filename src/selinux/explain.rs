//! What a denial most likely means, in plain words, with the fix to consider. In order:
//! 1. a **cross-site attempt**: the process's categories and the file's differ and neither
//!    contains the other — a site reaching into another site's files, a possible breach
//!    (highest severity);
//! 2. a **boolean** that would allow it (a table of common httpd and panel booleans);
//! 3. a **mislabelled file**: the target carries a type that does not belong to web content
//!    (or site code that must be writable) — relabel, never `chcon`;
//! 4. otherwise a **missing rule**: if legitimate, a reviewed local module allowing exactly
//!    this access, never a blanket `audit2allow` of the whole log.
//!
//! Everything examined comes from a managed node: fields are only compared, and whatever is
//! quoted back (a path) is bounded and stripped of control characters.

use std::collections::HashMap;

use serde::Serialize;

use super::audit::Record;
use crate::ssh::Command;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    CrossSite,
    Boolean,
    Mislabel,
    MissingRule,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Explanation {
    pub kind: Kind,
    pub severity: Severity,
    /// What it most likely means.
    pub summary: String,
    /// The command or change to consider, when there is one.
    pub suggestion: Option<String>,
}

/// Longest path quoted back in a suggestion.
const MAX_PATH: usize = 256;

/// A category set (c0–c1023) as a bitset.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Categories([u64; 16]);

impl Categories {
    fn set(&mut self, c: u32) {
        if c < 1024 {
            self.0[(c / 64) as usize] |= 1 << (c % 64);
        }
    }

    fn is_empty(&self) -> bool {
        self.0.iter().all(|w| *w == 0)
    }

    fn contains(&self, other: &Categories) -> bool {
        self.0.iter().zip(other.0.iter()).all(|(a, b)| b & !a == 0)
    }

    /// The categories of a level such as `s0:c100,c101`, `s0:c0.c1023` or `s0:c1,c3.c5`;
    /// for a range (`s0-s0:c0.c1023`) the high end, which is what a process may reach.
    fn of_level(level: &str) -> Option<Categories> {
        let high = level.rsplit('-').next()?;
        let mut cats = Categories::default();
        let Some((_, list)) = high.split_once(':') else {
            return Some(cats);
        };
        for part in list.split(',').take(1024) {
            let num = |t: &str| -> Option<u32> {
                let n = t.strip_prefix('c')?;
                (!n.is_empty() && n.len() <= 4 && n.bytes().all(|b| b.is_ascii_digit()))
                    .then(|| n.parse().ok())
                    .flatten()
            };
            match part.split_once('.') {
                Some((a, b)) => {
                    let (a, b) = (num(a)?, num(b)?);
                    for c in a..=b.min(1023) {
                        cats.set(c);
                    }
                }
                None => cats.set(num(part)?),
            }
        }
        Some(cats)
    }
}

/// Source and target categories differ and neither contains the other.
pub fn is_cross_site(r: &Record) -> bool {
    levels_cross(r.source_level.as_deref(), r.target_level.as_deref())
}

fn levels_cross(source: Option<&str>, target: Option<&str>) -> bool {
    let (Some(s), Some(t)) = (source, target) else {
        return false;
    };
    let (Some(s), Some(t)) = (Categories::of_level(s), Categories::of_level(t)) else {
        return false;
    };
    !s.is_empty() && !t.is_empty() && !s.contains(&t) && !t.contains(&s)
}

fn has(r: &Record, perm: &str) -> bool {
    r.permissions.iter().any(|p| p == perm)
}

const WEB_DOMAINS: &[&str] = &["httpd_t", "laravel_php_fpm_t", "laravel_nginx_t"];

/// The boolean that would allow this, if a common one does.
fn boolean(r: &Record) -> Option<(&'static str, &'static str)> {
    let s = r.source_type.as_deref()?;
    let t = r.target_type.as_deref().unwrap_or_default();
    let class = r.tclass.as_deref().unwrap_or_default();
    match (s, class) {
        ("laravel_app_t", "process") if matches!(t, "laravel_nginx_t" | "httpd_t") => Some((
            "panel_can_reload_nginx",
            "the panel daemon tried to signal nginx",
        )),
        ("laravel_app_t", _) if t.starts_with("useradd") || t.starts_with("groupadd") => Some((
            "panel_can_manage_users",
            "the panel daemon tried to run useradd/groupadd",
        )),
        ("httpd_t", "tcp_socket") if has(r, "name_connect") => Some(match t {
            "mysqld_port_t" | "postgresql_port_t" => (
                "httpd_can_network_connect_db",
                "the web server tried to reach a database over the network",
            ),
            "smtp_port_t" => ("httpd_can_sendmail", "the web server tried to send mail"),
            "memcache_port_t" => (
                "httpd_can_network_memcache",
                "the web server tried to reach memcached",
            ),
            _ => (
                "httpd_can_network_connect",
                "the web server tried to open an outgoing connection",
            ),
        }),
        ("httpd_t", "process") if has(r, "execmem") => Some((
            "httpd_execmem",
            "the web server asked for executable memory (a JIT)",
        )),
        ("httpd_t", _)
            if matches!(
                t,
                "user_home_t" | "user_home_dir_t" | "httpd_user_content_t"
            ) =>
        {
            Some((
                "httpd_enable_homedirs",
                "the web server tried to read a home directory",
            ))
        }
        ("httpd_t", _) if t == "nfs_t" => {
            Some(("httpd_use_nfs", "the web server tried to use an NFS mount"))
        }
        ("httpd_t", _) if t == "cifs_t" => {
            Some(("httpd_use_cifs", "the web server tried to use a CIFS mount"))
        }
        ("httpd_t", _) if t == "sendmail_exec_t" => {
            Some(("httpd_can_sendmail", "the web server tried to run sendmail"))
        }
        _ => None,
    }
}

/// Types a web process's files should never carry: a sign of a file that was copied, moved
/// or created without its label.
const FOREIGN_TYPES: &[&str] = &[
    "default_t",
    "unlabeled_t",
    "file_t",
    "user_home_t",
    "user_home_dir_t",
    "admin_home_t",
    "tmp_t",
    "user_tmp_t",
    "var_t",
    "etc_t",
];

/// The denied path, if the record has an absolute one: bounded, without control characters.
fn denied_path(r: &Record) -> Option<String> {
    let p = r.path.as_deref().or(r.name.as_deref())?;
    let clean: String = p
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_PATH)
        .collect();
    clean.starts_with('/').then_some(clean)
}

/// A suggested command, rendered by the command builder (every word quoted), so a path from the
/// node is pasted as one argument and nothing else.
fn suggest(command: Command) -> String {
    command.to_string()
}

fn restorecon(path: &str) -> Command {
    Command::new("restorecon")
        .flag("-R")
        .flag("-F")
        .flag("-v")
        .operand(path)
}

fn mislabel(r: &Record) -> Option<Explanation> {
    let s = r.source_type.as_deref()?;
    let t = r.target_type.as_deref()?;
    if !WEB_DOMAINS.contains(&s) {
        return None;
    }
    let path = denied_path(r);
    if s == "laravel_php_fpm_t"
        && t == "site_content_t"
        && r.permissions.iter().any(|p| {
            matches!(
                p.as_str(),
                "write" | "append" | "create" | "add_name" | "unlink" | "remove_name" | "rename"
            )
        })
    {
        let level = r.target_level.clone().unwrap_or_else(|| "s0:cX,cY".into());
        return Some(Explanation {
            kind: Kind::Mislabel,
            severity: Severity::Medium,
            summary: "a site's PHP tried to change its own code, which is read-only; if the site really must write here (an upload or cache directory), label that directory writable".into(),
            suggestion: Some({
                let (spec, dir) = match &path {
                    Some(p) => (format!("{p}(/.*)?"), p.clone()),
                    None => ("/home/webN/DIR(/.*)?".to_owned(), "/home/webN/DIR".to_owned()),
                };
                let label = Command::new("semanage")
                    .flag("fcontext")
                    .flag("-a")
                    .flag("-t")
                    .flag("laravel_app_rw_t")
                    .flag("-r")
                    .value(level)
                    .operand(spec);
                format!("{}, then {}", suggest(label), suggest(restorecon(&dir)))
            }),
        });
    }
    if FOREIGN_TYPES.contains(&t) {
        return Some(Explanation {
            kind: Kind::Mislabel,
            severity: Severity::Medium,
            summary: format!(
                "the file carries {t}, a type web content never has: it was most likely copied or moved in without its label"
            ),
            suggestion: Some(match path {
                Some(p) => format!(
                    "{}  (or Relabel the sites on the server's SELinux tab)",
                    suggest(restorecon(&p))
                ),
                None => {
                    "Relabel the sites on the server's SELinux tab (restorecon -RF on each site)"
                        .into()
                }
            }),
        });
    }
    None
}

/// Explain one record; `None` for what is not a denial.
pub fn explain(r: &Record) -> Option<Explanation> {
    if r.denied != Some(true) {
        return None;
    }
    if is_cross_site(r) {
        return Some(Explanation {
            kind: Kind::CrossSite,
            severity: Severity::Critical,
            summary: format!(
                "a process of one site (categories {}) reached for files of another ({}): a compromised site or a mislabelled file — investigate before anything else",
                r.source_level.as_deref().unwrap_or("?"),
                r.target_level.as_deref().unwrap_or("?")
            ),
            suggestion: Some(
                "Check which site owns the file and how the process got there; never widen the categories to silence this".into(),
            ),
        });
    }
    if let Some((name, what)) = boolean(r) {
        return Some(Explanation {
            kind: Kind::Boolean,
            severity: Severity::Medium,
            summary: format!("{what}; the boolean {name} allows it"),
            suggestion: Some(format!(
                "{}  (only if this is wanted)",
                suggest(Command::new("setsebool").flag("-P").flag(name).flag("on"))
            )),
        });
    }
    if let Some(e) = mislabel(r) {
        return Some(e);
    }
    let s = r.source_type.as_deref().unwrap_or("?");
    let t = r.target_type.as_deref().unwrap_or("?");
    let class = r.tclass.as_deref().unwrap_or("?");
    let perms = r.permissions.join(" ");
    Some(Explanation {
        kind: Kind::MissingRule,
        severity: Severity::Low,
        summary: format!(
            "no boolean or label explains {s} → {t} ({class} {{ {perms} }}); if this access is legitimate the policy lacks a rule"
        ),
        suggestion: Some(format!(
            "a reviewed local module with exactly: allow {s} {t}:{class} {{ {perms} }};  — never a blanket audit2allow of the whole log"
        )),
    })
}

/// One kind of denial: what was denied, how often, and why.
#[derive(Clone, Debug, Serialize)]
pub struct Denial {
    pub source_type: String,
    pub target_type: String,
    pub tclass: String,
    pub permissions: Vec<String>,
    pub cross_site: bool,
    pub count: u64,
    pub first: String,
    pub last: String,
    /// The first record of this kind (for its path, comm, levels).
    pub example: Record,
    pub explanation: Explanation,
}

/// What makes two denials "the same kind".
pub type DenialKey = (String, String, String, Vec<String>, bool);

pub fn key(r: &Record) -> DenialKey {
    let mut perms = r.permissions.clone();
    perms.sort();
    (
        r.source_type.clone().unwrap_or_default(),
        r.target_type.clone().unwrap_or_default(),
        r.tclass.clone().unwrap_or_default(),
        perms,
        is_cross_site(r),
    )
}

/// Distinct denials, most severe first, then most frequent.
pub fn group(records: &[Record]) -> Vec<Denial> {
    let mut by_key: HashMap<DenialKey, usize> = HashMap::new();
    let mut out: Vec<Denial> = Vec::new();
    for r in records {
        if r.denied != Some(true) {
            continue;
        }
        let k = key(r);
        match by_key.get(&k) {
            Some(&i) => {
                let d = &mut out[i];
                d.count += 1;
                if r.time < d.first {
                    d.first.clone_from(&r.time);
                }
                if r.time > d.last {
                    d.last.clone_from(&r.time);
                }
            }
            None => {
                let Some(explanation) = explain(r) else {
                    continue;
                };
                by_key.insert(k.clone(), out.len());
                out.push(Denial {
                    source_type: k.0,
                    target_type: k.1,
                    tclass: k.2,
                    permissions: k.3,
                    cross_site: k.4,
                    count: 1,
                    first: r.time.clone(),
                    last: r.time.clone(),
                    example: r.clone(),
                    explanation,
                });
            }
        }
    }
    sort(&mut out);
    out
}

/// `group` straight from a log's text: the same denials, in the same order, without a record
/// for every line (the key borrows from the line; a record is made for the first of each
/// kind). What `panel selinux explain` runs over a whole log.
pub fn group_log(text: &str) -> (Vec<Denial>, crate::selinux::audit::Skipped) {
    use crate::selinux::audit::{denials, timestamp};
    type Key<'a> = (&'a str, &'a str, &'a str, Vec<&'a str>, bool);
    type Stamp = (i64, u32);
    // Keys of denials nothing explains map to `None`, so their records are not made again.
    let mut by_key: HashMap<Key<'_>, Option<usize>> = HashMap::new();
    let mut out: Vec<(Denial, Stamp, Stamp)> = Vec::new();
    let skipped = denials(text, |d| {
        let mut perms = d.permissions.clone();
        perms.sort_unstable();
        let key = (
            d.source_type,
            d.target_type,
            d.tclass,
            perms,
            levels_cross(d.source_level, d.target_level),
        );
        let stamp = (d.seconds, d.millis);
        match by_key.get(&key) {
            Some(Some(i)) => {
                let (denial, first, last) = &mut out[*i];
                denial.count += 1;
                *first = (*first).min(stamp);
                *last = (*last).max(stamp);
            }
            Some(None) => {}
            None => {
                let example = d.record();
                let slot = explain(&example).map(|explanation| {
                    out.push((
                        Denial {
                            source_type: key.0.to_owned(),
                            target_type: key.1.to_owned(),
                            tclass: key.2.to_owned(),
                            permissions: key.3.iter().map(|p| (*p).to_owned()).collect(),
                            cross_site: key.4,
                            count: 1,
                            first: String::new(),
                            last: String::new(),
                            example,
                            explanation,
                        },
                        stamp,
                        stamp,
                    ));
                    out.len() - 1
                });
                by_key.insert(key, slot);
            }
        }
    });
    let mut grouped: Vec<Denial> = out
        .into_iter()
        .map(|(mut d, first, last)| {
            d.first = timestamp(first.0, first.1);
            d.last = timestamp(last.0, last.1);
            d
        })
        .collect();
    sort(&mut grouped);
    (grouped, skipped)
}

fn sort(denials: &mut [Denial]) {
    denials.sort_by(|a, b| {
        b.explanation
            .severity
            .cmp(&a.explanation.severity)
            .then(b.count.cmp(&a.count))
    });
}

/// One denial kind as text for the CLI.
pub fn to_text(d: &Denial) -> String {
    let mut s = format!(
        "[{}] {}× {} → {} {} {{ {} }} ({} … {})\n  {}",
        d.explanation.severity.as_str(),
        d.count,
        d.source_type,
        d.target_type,
        d.tclass,
        d.permissions.join(" "),
        d.first,
        d.last,
        d.explanation.summary
    );
    if let Some(fix) = &d.explanation.suggestion {
        s.push_str("\n  → ");
        s.push_str(fix);
    }
    s.chars()
        .filter(|c| *c == '\n' || !c.is_control())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::selinux::stream::parse;

    fn one(line: &str) -> Record {
        let (records, _) = parse(line);
        records.into_iter().next().expect("a record")
    }

    fn avc(perms: &str, scontext: &str, tcontext: &str, tclass: &str, extra: &str) -> Record {
        one(&format!(
            "type=AVC msg=audit(1700000000.100:7): avc:  denied  {{ {perms} }} for  pid=1 comm=\"x\" {extra} scontext={scontext} tcontext={tcontext} tclass={tclass} permissive=0"
        ))
    }

    #[test]
    fn categories_are_compared_as_sets() {
        let c = |l: &str| Categories::of_level(l).unwrap();
        assert!(c("s0-s0:c0.c1023").contains(&c("s0:c100,c101")));
        assert!(c("s0:c100,c101").contains(&c("s0")));
        assert!(!c("s0:c100,c101").contains(&c("s0:c101,c102")));
        assert!(c("s0:c1,c3.c5").contains(&c("s0:c4")));
        assert_eq!(Categories::of_level("s0:c1;rm"), None);
        assert_eq!(Categories::of_level("s0:c99999"), None);
    }

    #[test]
    fn a_site_reaching_into_another_is_a_possible_breach() {
        let r = avc(
            "read",
            "system_u:system_r:laravel_php_fpm_t:s0:c100,c101",
            "system_u:object_r:site_content_t:s0:c101,c102",
            "file",
            "name=\"wp-config.php\"",
        );
        let e = explain(&r).unwrap();
        assert_eq!((e.kind, e.severity), (Kind::CrossSite, Severity::Critical));
        // nginx at every category and a site reading s0 files are not cross-site.
        for (s, t) in [
            (
                "system_u:system_r:laravel_nginx_t:s0-s0:c0.c1023",
                "system_u:object_r:site_content_t:s0:c5,c6",
            ),
            (
                "system_u:system_r:laravel_php_fpm_t:s0:c100,c101",
                "system_u:object_r:etc_t:s0",
            ),
        ] {
            assert!(!is_cross_site(&avc("read", s, t, "file", "")));
        }
    }

    #[test]
    fn booleans_mislabels_and_missing_rules() {
        let db = avc(
            "name_connect",
            "system_u:system_r:httpd_t:s0",
            "system_u:object_r:mysqld_port_t:s0",
            "tcp_socket",
            "dest=3306",
        );
        let e = explain(&db).unwrap();
        assert_eq!(e.kind, Kind::Boolean);
        assert_eq!(
            e.suggestion.as_deref(),
            Some("'setsebool' '-P' 'httpd_can_network_connect_db' 'on'  (only if this is wanted)")
        );
        let reload = avc(
            "signal",
            "system_u:system_r:laravel_app_t:s0",
            "system_u:system_r:laravel_nginx_t:s0-s0:c0.c1023",
            "process",
            "",
        );
        assert!(
            explain(&reload)
                .unwrap()
                .summary
                .contains("panel_can_reload_nginx")
        );

        let home = avc(
            "read",
            "system_u:system_r:laravel_php_fpm_t:s0:c100,c101",
            "unconfined_u:object_r:user_home_t:s0",
            "file",
            "path=\"/home/web1/public_html/it's.php\"",
        );
        let e = explain(&home).unwrap();
        assert_eq!(e.kind, Kind::Mislabel);
        assert_eq!(
            e.suggestion.unwrap(),
            "'restorecon' '-R' '-F' '-v' '--' '/home/web1/public_html/it'\\''s.php'  (or Relabel the sites on the server's SELinux tab)"
        );

        let write = avc(
            "write",
            "system_u:system_r:laravel_php_fpm_t:s0:c100,c101",
            "system_u:object_r:site_content_t:s0:c100,c101",
            "file",
            "path=\"/home/web1/public_html/uploads\"",
        );
        let e = explain(&write).unwrap();
        assert_eq!(e.kind, Kind::Mislabel);
        assert_eq!(
            e.suggestion.unwrap(),
            "'semanage' 'fcontext' '-a' '-t' 'laravel_app_rw_t' '-r' 's0:c100,c101' '--' '/home/web1/public_html/uploads(/.*)?', then 'restorecon' '-R' '-F' '-v' '--' '/home/web1/public_html/uploads'"
        );

        let odd = avc(
            "ioctl",
            "system_u:system_r:laravel_nginx_t:s0-s0:c0.c1023",
            "system_u:object_r:sysctl_t:s0",
            "file",
            "",
        );
        let e = explain(&odd).unwrap();
        assert_eq!(e.kind, Kind::MissingRule);
        assert!(
            e.suggestion
                .unwrap()
                .contains("allow laravel_nginx_t sysctl_t:file { ioctl };")
        );

        // A granted record or a status change explains nothing.
        let granted = one(
            "type=AVC msg=audit(1700000000.100:8): avc:  granted  { setenforce } for  pid=1 comm=\"x\" scontext=system_u:system_r:kernel_t:s0 tcontext=system_u:object_r:security_t:s0 tclass=security",
        );
        assert_eq!(explain(&granted), None);
    }

    #[test]
    fn denials_are_grouped_by_kind_most_severe_first() {
        let mut text = String::new();
        for i in 0..5 {
            text.push_str(&format!("type=AVC msg=audit(1700000000.{i:03}:{}): avc:  denied  {{ open read }} for  pid=1 comm=\"nginx\" scontext=system_u:system_r:httpd_t:s0 tcontext=system_u:object_r:user_home_t:s0 tclass=file permissive=0\n", 100 + i));
        }
        text.push_str("type=AVC msg=audit(1700000001.000:200): avc:  denied  { read } for  pid=1 comm=\"php-fpm\" scontext=system_u:system_r:laravel_php_fpm_t:s0:c1,c2 tcontext=system_u:object_r:site_content_t:s0:c3,c4 tclass=file permissive=0\n");
        let (records, _) = parse(&text);
        let groups = group(&records);
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].explanation.kind, Kind::CrossSite);
        assert_eq!(
            (groups[1].count, groups[1].permissions.clone()),
            (5, vec!["open".to_owned(), "read".to_owned()])
        );
        assert_eq!(groups[1].first, "2023-11-14T22:13:20.000Z");
        assert_eq!(groups[1].last, "2023-11-14T22:13:20.004Z");
        assert!(to_text(&groups[1]).contains("httpd_enable_homedirs"));
    }

    /// The streaming grouping of a whole log gives exactly what grouping its parsed records
    /// gives: kinds, counts, first and last times, examples and order.
    #[test]
    fn grouping_a_log_directly_matches_grouping_its_records() {
        let mut text = String::new();
        for i in 0..40u32 {
            let site = i % 3;
            let kind = match i % 8 {
                0 => "type=USER_AVC msg=audit(1700000000.{MS}:{SERIAL}): pid=1 uid=0 subj=system_u:system_r:init_t:s0 msg='avc:  denied  { status } for auid=n/a uid=0 gid=0 path=\"/etc/systemd/system/x.service\" scontext=system_u:system_r:init_t:s0 tcontext=system_u:object_r:systemd_unit_file_t:s0 tclass=service permissive=0 exe=\"/usr/lib/systemd/systemd\"'".to_owned(),
                1 => "type=AVC msg=audit(1700000000.{MS}:{SERIAL}): avc:  granted  { read } for pid=2 comm=\"x\" scontext=system_u:system_r:httpd_t:s0 tcontext=system_u:object_r:etc_t:s0 tclass=file".to_owned(),
                2 => "type=SYSCALL msg=audit(1700000000.{MS}:{SERIAL}): arch=c000003e syscall=257 success=no exe=\"/usr/sbin/nginx\"".to_owned(),
                3 => "type=AVC msg=audit(1700000000.{MS}:{SERIAL}): avc:  denied  { write } for pid=3 comm=\"php-fpm\" name=\"a scontext=evil\" scontext=system_u:system_r:laravel_php_fpm_t:s0:c1,c2 tcontext=system_u:object_r:site_content_t:s0:c3,c4 tclass=file permissive=1".to_owned(),
                4 => "node=web1 type=AVC msg=audit(1700000000.{MS}:{SERIAL}): avc:  denied  { name_connect } for pid=4 comm=\"php-fpm\" dest=3306 scontext=system_u:system_r:httpd_t:s0 tcontext=system_u:object_r:mysqld_port_t:s0 tclass=tcp_socket permissive=0".to_owned(),
                5 => "type=MAC_STATUS msg=audit(1700000000.{MS}:{SERIAL}): enforcing=0 old_enforcing=1".to_owned(),
                6 => "type=AVC msg=audit(1700000000.{MS}:{SERIAL}): avc:  denied  { read open } for pid=6 comm=6E67696E78 name=\"index.html\" scontext=system_u:system_r:httpd_t:s0 tcontext=system_u:object_r:user_home_t:s0 tclass=file permissive=0".to_owned(),
                _ => "type=AVC msg=audit(1700000000.{MS}:{SERIAL}): avc:  denied  { open read } for pid=7 comm=\"nginx\" scontext=system_u:system_r:httpd_t:s0 tcontext=system_u:object_r:user_home_t:s0 tclass=file permissive=0".to_owned(),
            };
            // Times out of order, so first and last are more than the first and last line.
            let ms = (997 * (i + site) % 1000).to_string();
            text.push_str(
                &kind
                    .replace("{MS}", &format!("{ms:0>3}"))
                    .replace("{SERIAL}", &(100 + i).to_string()),
            );
            text.push('\n');
        }
        text.push_str("garbage line\n");
        let (records, skipped) = crate::selinux::stream::parse_selinux_only(&text);
        let expected = serde_json::to_string(&group(&records)).unwrap();
        let (groups, skipped_too) = group_log(&text);
        assert_eq!(serde_json::to_string(&groups).unwrap(), expected);
        assert_eq!(skipped_too, skipped);
        assert!(groups.len() >= 4, "{groups:?}");
    }
}
