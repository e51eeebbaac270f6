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

/// Streams: a line is read into one reused buffer, parsed, and its record (once its event is
/// complete) written out; memory stays flat however long the log.
fn selinux_parse(file: Option<PathBuf>, format: OutputFormat) -> Result<(), Failure> {
    use std::io::{BufRead, Write};
    let name = || {
        file.as_deref()
            .map_or("standard input".into(), |p| p.display().to_string())
    };
    let input: Box<dyn Read> = match file.as_deref() {
        Some(p) if p.as_os_str() != "-" => {
            Box::new(std::fs::File::open(p).map_err(|e| Failure {
                code: 1,
                message: format!("cannot read {}: {e}", name()),
            })?)
        }
        _ => Box::new(std::io::stdin()),
    };
    let mut input = std::io::BufReader::with_capacity(1 << 20, input);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut closed = false;
    let mut write = |r: crate::selinux::audit::Record| {
        if closed {
            return;
        }
        let written = match format {
            OutputFormat::Json => serde_json::to_writer(&mut out, &r)
                .map_err(std::io::Error::other)
                .and_then(|()| out.write_all(b"\n")),
            OutputFormat::Text => writeln!(out, "{}", crate::selinux::audit::to_text(&r)),
        };
        // A closed pipe (e.g. `| head`) ends the output quietly.
        closed = written.is_err();
    };
    let mut parser = crate::selinux::stream::Parser::new(true);
    let cannot_read = |e: std::io::Error| Failure {
        code: 1,
        message: format!("cannot read {}: {e}", name()),
    };
    // Lines are taken from the reader's buffer where they lie; only one cut by the end of the
    // buffer is copied (into `carry`). A line longer than the parser takes is not kept whole:
    // its first bytes are enough to count it as overlong.
    let max = crate::selinux::audit::MAX_LINE;
    let mut carry: Vec<u8> = Vec::new();
    let mut carry_overlong = false;
    loop {
        let buf = input.fill_buf().map_err(cannot_read)?;
        if buf.is_empty() {
            break;
        }
        let len = buf.len();
        let mut start = 0;
        while let Some(i) = memchr::memchr(b'\n', &buf[start..]) {
            let end = start + i + 1;
            if carry.is_empty() && !carry_overlong {
                parser.line_bytes(&buf[start..end], &mut write);
            } else {
                if !carry_overlong {
                    carry.extend_from_slice(&buf[start..end]);
                }
                parser.line_bytes(&carry, &mut write);
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
        parser.line_bytes(&carry, &mut write);
    }
    let skipped = parser.finish(&mut write);

    let _ = out.flush();
    report_skipped(&skipped);
    Ok(())
}

pub(super) fn run(cmd: SelinuxCommand) -> Result<(), Failure> {
    match cmd {
        SelinuxCommand::Parse { file, format } => selinux_parse(file, format),
        SelinuxCommand::Explain { file, format } => selinux_explain(file, format),
    }
}
