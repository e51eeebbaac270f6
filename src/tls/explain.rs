//! Why a certificate could not be issued or renewed, in words, like an AVC denial: what the CA
//! saw, and what to do. Built from the ACME problem document (RFC 8555 §6.7) an order or
//! challenge failed with, or from the panel's own error when it never reached the CA.

/// One failure, explained.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Explained {
    /// A short stable key (`port80`, `dns`, `ratelimited`, …): stored, tested, grouped on.
    pub kind: &'static str,
    /// The sentence shown on the site's page and mailed.
    pub text: String,
}

/// The last part of an ACME error type (`urn:ietf:params:acme:error:connection` → `connection`).
fn short(kind: &str) -> &str {
    kind.rsplit(':').next().unwrap_or(kind)
}

/// Explain a problem the CA returned for `name` (the detail is the CA's, bounded and quoted).
pub fn problem(name: &str, kind: &str, detail: &str) -> Explained {
    let detail = clean(detail);
    let lower = detail.to_ascii_lowercase();
    let (kind, text) = match short(kind) {
        "dns" => (
            "dns",
            format!(
                "DNS does not point here: the CA could not resolve {name}. Add an A (and AAAA) \
                 record for {name} pointing at this server, wait for it to propagate, then \
                 issue again."
            ),
        ),
        "connection" if lower.contains("no such host") || lower.contains("nxdomain") => (
            "dns",
            format!(
                "DNS does not point here: {name} has no address record the CA could find. Add \
                 an A (and AAAA) record pointing at this server."
            ),
        ),
        "connection" | "tls" => (
            "port80",
            format!(
                "Port 80 unreachable: the CA could not connect to {name} on port 80 to fetch \
                 the challenge. Check that {name} points at this server and that port 80 is \
                 open in every firewall on the way (the server's and the provider's)."
            ),
        ),
        "unauthorized" | "incorrectResponse" => (
            "challenge",
            format!(
                "The challenge was not served: the CA reached {name} but did not get the \
                 challenge file back. Usually {name} points at another server, or a proxy or \
                 CDN in front of it answers instead."
            ),
        ),
        "rateLimited" => (
            "ratelimited",
            "Rate limited: the CA refuses more certificates for these names for now. The \
             panel retries later by itself; avoid issuing the same names repeatedly."
                .to_owned(),
        ),
        "caa" => (
            "caa",
            format!(
                "CAA forbids it: a CAA record on {name} (or a parent domain) does not allow this \
                 CA to issue. Add the CA to the CAA record, or remove the record."
            ),
        ),
        "rejectedIdentifier" => (
            "rejected",
            format!(
                "The CA will not issue for {name} (a name it does not certify, such as an \
                 internal or reserved one)."
            ),
        ),
        _ => ("ca", format!("The CA refused: {}", short_or(kind))),
    };
    Explained {
        kind,
        text: if detail.is_empty() {
            text
        } else {
            format!("{text} The CA said: “{detail}”")
        },
    }
}

fn short_or(kind: &str) -> &str {
    if kind.is_empty() {
        "an error"
    } else {
        short(kind)
    }
}

/// The CA could not be reached (or answered nonsense): the panel's side of the failure.
pub fn unreachable(directory: &str, error: &str) -> Explained {
    Explained {
        kind: "acme-unreachable",
        text: format!(
            "The panel could not talk to the ACME server at {}: {}. Check the panel host's \
             network and the [acme] directory setting.",
            clean(directory),
            clean(error)
        ),
    }
}

/// The DNS server did not take a DNS-01 record.
pub fn dns_update(error: &str) -> Explained {
    Explained {
        kind: "dns-update",
        text: format!(
            "The DNS server did not take the challenge record: {}. Check its address, the \
             zone and the TSIG key (name and secret), and that the key may update \
             _acme-challenge names.",
            clean(error)
        ),
    }
}

/// The node could not be changed (challenge file, certificate install).
pub fn node(error: &str) -> Explained {
    Explained {
        kind: "node",
        text: format!(
            "The server could not be changed: {}. See the job's log.",
            clean(error)
        ),
    }
}

/// One line, printable, at most 300 characters: the CA's words are data, not markup.
fn clean(text: &str) -> String {
    let one: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let one = one.trim();
    match one.char_indices().nth(300) {
        Some((cut, _)) => format!("{}…", &one[..cut]),
        None => one.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cause_the_issue_names_is_told_apart() {
        let e = problem(
            "a.test",
            "urn:ietf:params:acme:error:connection",
            "10.0.0.2: Fetching http://a.test/.well-known/acme-challenge/x: Connection refused",
        );
        assert_eq!(e.kind, "port80");
        assert!(e.text.starts_with("Port 80 unreachable"), "{}", e.text);
        assert!(e.text.contains("Connection refused"));
        let e = problem(
            "a.test",
            "urn:ietf:params:acme:error:dns",
            "NXDOMAIN looking up A",
        );
        assert_eq!(e.kind, "dns");
        assert!(e.text.starts_with("DNS does not point here"));
        let e = problem(
            "a.test",
            "urn:ietf:params:acme:error:rateLimited",
            "too many",
        );
        assert_eq!(e.kind, "ratelimited");
        let e = problem("a.test", "urn:ietf:params:acme:error:caa", "CAA record");
        assert_eq!(e.kind, "caa");
        assert!(e.text.contains("CAA forbids"));
        let e = problem("a.test", "urn:ietf:params:acme:error:unauthorized", "404");
        assert_eq!(e.kind, "challenge");
    }

    #[test]
    fn the_cas_words_are_one_bounded_line() {
        let e = problem(
            "a.test",
            "urn:x:weird",
            &format!("a\r\nb{}", "x".repeat(500)),
        );
        assert!(!e.text.contains('\n') && !e.text.contains('\r'));
        assert!(e.text.chars().count() < 500);
        assert_eq!(e.kind, "ca");
    }
}
