//! `panel selinux`: offline tools on audit logs (parse, explain).

use std::io::Read;
use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};

use super::Failure;

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

/// An audit log, whole: a regular file mapped (see `map`), standard input read.
enum Log {
    Mapped(memmap2::Mmap),
    Read(Vec<u8>),
}

impl Log {
    /// Its text; invalid UTF-8 from a node becomes U+FFFD (valid text, the usual case, is
    /// used where it lies, without a copy).
    fn text(&self) -> std::borrow::Cow<'_, str> {
        let bytes = match self {
            Log::Mapped(m) => &m[..],
            Log::Read(v) => &v[..],
        };
        // `from_utf8` checks valid text many times faster than the lossy walk would.
        match std::str::from_utf8(bytes) {
            Ok(text) => std::borrow::Cow::Borrowed(text),
            Err(_) => String::from_utf8_lossy(bytes),
        }
    }
}

fn read_log(file: Option<&std::path::Path>) -> Result<Log, Failure> {
    let cannot_read = |e: std::io::Error| Failure {
        code: 1,
        message: format!(
            "cannot read {}: {e}",
            file.map_or("standard input".into(), |p| p.display().to_string())
        ),
    };
    let mut bytes = Vec::new();
    match file {
        Some(p) if p.as_os_str() != "-" => {
            let mut f = std::fs::File::open(p).map_err(cannot_read)?;
            if mappable(&f.metadata().map_err(cannot_read)?) {
                return map(&f).map(Log::Mapped).map_err(cannot_read);
            }
            f.read_to_end(&mut bytes).map_err(cannot_read)?;
        }
        _ => {
            std::io::stdin()
                .read_to_end(&mut bytes)
                .map_err(cannot_read)?;
        }
    }
    Ok(Log::Read(bytes))
}

/// A file is mapped rather than read (on a large log the kernel's copy into a buffer was a
/// quarter of the time, and growing a buffer for it another) only when nobody but root or
/// this user can change it: a regular file with a size (`/proc` files say 0 and are read),
/// owned by root or by us, not writable by group or others.
fn mappable(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    // `/proc/self` belongs to this process's effective user.
    let me = std::fs::metadata("/proc/self").map(|m| m.uid()).ok();
    meta.is_file()
        && meta.len() > 0
        && meta.mode() & 0o022 == 0
        && (meta.uid() == 0 || Some(meta.uid()) == me)
}

fn map(f: &std::fs::File) -> std::io::Result<memmap2::Mmap> {
    // SAFETY: the map is only read. Were the file changed while it is mapped, what the parser
    // reads could change under it (text checked as UTF-8 might no longer be), and a file cut
    // shorter ends the process with SIGBUS; so only a file no one but root or this user can
    // write is mapped (`mappable`). The one such writer of a log, auditd, appends (what comes
    // after the map is not seen) and rotates by renaming, never rewriting in place.
    let map = unsafe { memmap2::MmapOptions::new().populate().map(f) }?;
    let _ = map.advise(memmap2::Advice::Sequential);
    Ok(map)
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
    let log = read_log(file.as_deref())?;
    // Grouped straight from the text: one record per kind of denial, not one per line.
    let (denials, skipped) = crate::selinux::explain::group_log(&log.text());
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

/// Streams: lines are parsed where they lie, and a record (once its event is complete) is
/// written out; memory stays flat however long the log. A regular file is mapped (`map`);
/// standard input and other streams are read through one buffer.
fn selinux_parse(file: Option<PathBuf>, format: OutputFormat) -> Result<(), Failure> {
    use std::io::Write;
    let name = || {
        file.as_deref()
            .map_or("standard input".into(), |p| p.display().to_string())
    };
    let cannot_read = |e: std::io::Error| Failure {
        code: 1,
        message: format!("cannot read {}: {e}", name()),
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut closed = false;
    let mut line = Vec::with_capacity(1024);
    let mut write = |r: crate::selinux::audit::Record| {
        if closed {
            return;
        }
        let written = match format {
            OutputFormat::Json => {
                line.clear();
                crate::selinux::json::write_record(&r, &mut line);
                line.push(b'\n');
                out.write_all(&line)
            }
            OutputFormat::Text => writeln!(out, "{}", crate::selinux::audit::to_text(&r)),
        };
        // A closed pipe (e.g. `| head`) ends the output quietly.
        closed = written.is_err();
    };
    let mut parser = crate::selinux::stream::Parser::new(true);
    match file.as_deref() {
        Some(p) if p.as_os_str() != "-" => {
            let f = std::fs::File::open(p).map_err(cannot_read)?;
            if mappable(&f.metadata().map_err(cannot_read)?) {
                let map = map(&f).map_err(cannot_read)?;
                each_line(&map, &mut |line| parser.line_bytes(line, &mut write));
            } else {
                read_lines(f, &mut parser, &mut write).map_err(cannot_read)?;
            }
        }
        _ => read_lines(std::io::stdin(), &mut parser, &mut write).map_err(cannot_read)?,
    }
    let skipped = parser.finish(&mut write);
    let _ = out.flush();
    report_skipped(&skipped);
    Ok(())
}

/// Every line of `data` (with its newline; the last may have none).
fn each_line(data: &[u8], each: &mut impl FnMut(&[u8])) {
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', data) {
        each(&data[start..=end]);
        start = end + 1;
    }
    if start < data.len() {
        each(&data[start..]);
    }
}

/// Lines of a stream, taken from the reader's buffer where they lie; only one cut by the end
/// of the buffer is copied (into `carry`). A line longer than the parser takes is not kept
/// whole: its first bytes are enough to count it as overlong.
fn read_lines(
    input: impl Read,
    parser: &mut crate::selinux::stream::Parser,
    write: &mut impl FnMut(crate::selinux::audit::Record),
) -> std::io::Result<()> {
    use std::io::BufRead;
    let mut input = std::io::BufReader::with_capacity(1 << 20, input);
    let max = crate::selinux::audit::MAX_LINE;
    let mut carry: Vec<u8> = Vec::new();
    let mut carry_overlong = false;
    loop {
        let buf = input.fill_buf()?;
        if buf.is_empty() {
            break;
        }
        let len = buf.len();
        let mut start = 0;
        while let Some(i) = memchr::memchr(b'\n', &buf[start..]) {
            let end = start + i + 1;
            if carry.is_empty() && !carry_overlong {
                parser.line_bytes(&buf[start..end], write);
            } else {
                if !carry_overlong {
                    carry.extend_from_slice(&buf[start..end]);
                }
                parser.line_bytes(&carry, write);
                carry.clear();
                carry_overlong = false;
            }
            start = end;
        }
        if !carry_overlong {
            carry.extend_from_slice(&buf[start..]);
            if carry.len() > max + 1 {
                carry.truncate(max + 2);
                carry_overlong = true;
            }
        }
        input.consume(len);
    }
    if !carry.is_empty() {
        parser.line_bytes(&carry, write);
    }
    Ok(())
}

pub(super) fn run(cmd: SelinuxCommand) -> Result<(), Failure> {
    match cmd {
        SelinuxCommand::Parse { file, format } => selinux_parse(file, format),
        SelinuxCommand::Explain { file, format } => selinux_explain(file, format),
    }
}
