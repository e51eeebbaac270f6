//! DNS-01 publishing behind a small provider trait, and its first provider: RFC 2136 dynamic
//! updates signed with TSIG (RFC 8945, HMAC-SHA256), as BIND, Knot, PowerDNS and most
//! self-hosted DNS servers accept. API-based providers implement the same trait.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::future::BoxFuture;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

/// Publishes and removes the `_acme-challenge` TXT records of a DNS-01 challenge.
pub trait DnsProvider: Send + Sync {
    /// Add a TXT record `value` at `name` (a fully qualified name, no trailing dot).
    fn publish<'a>(&'a self, name: &'a str, value: &'a str) -> BoxFuture<'a, Result<(), String>>;
    /// Remove exactly that record.
    fn remove<'a>(&'a self, name: &'a str, value: &'a str) -> BoxFuture<'a, Result<(), String>>;
}

/// An RFC 2136 server: where updates go, the zone they change, and the TSIG key that signs them.
pub struct Rfc2136 {
    pub server: SocketAddr,
    pub zone: String,
    pub key_name: String,
    /// The TSIG secret (the bytes, not their base64).
    pub secret: Zeroizing<Vec<u8>>,
}

const TYPE_TXT: u16 = 16;
const TYPE_SOA: u16 = 6;
const TYPE_TSIG: u16 = 250;
const CLASS_IN: u16 = 1;
const CLASS_NONE: u16 = 254;
const CLASS_ANY: u16 = 255;
const OPCODE_UPDATE: u16 = 5 << 11;
const ALGORITHM: &str = "hmac-sha256";
/// Seconds of clock difference the server may allow (RFC 8945's recommended 300).
const FUDGE: u16 = 300;
const TIMEOUT: Duration = Duration::from_secs(10);

/// A name in wire format (lower case, uncompressed), or why it is not one.
fn name(out: &mut Vec<u8>, name: &str) -> Result<(), String> {
    for label in name.trim_end_matches('.').split('.') {
        if label.is_empty() || label.len() > 63 {
            return Err(format!("`{name}` is not a DNS name"));
        }
        out.push(label.len() as u8);
        out.extend(label.to_ascii_lowercase().bytes());
    }
    out.push(0);
    Ok(())
}

fn u16be(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}

fn u32be(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes());
}

impl Rfc2136 {
    /// The update message: add (`true`) or delete one TXT record, signed; and its MAC (the
    /// answer's signature covers it).
    fn message(
        &self,
        id: u16,
        fqdn: &str,
        value: &str,
        add: bool,
        now: u64,
    ) -> Result<(Vec<u8>, Vec<u8>), String> {
        if value.len() > 255 {
            return Err("a TXT value over 255 bytes".into());
        }
        let mut m = Vec::with_capacity(256);
        u16be(&mut m, id);
        u16be(&mut m, OPCODE_UPDATE);
        for count in [1, 0, 1, 0] {
            u16be(&mut m, count); // zone, prerequisites, updates, additional (TSIG after)
        }
        // Zone section.
        name(&mut m, &self.zone)?;
        u16be(&mut m, TYPE_SOA);
        u16be(&mut m, CLASS_IN);
        // Update section: one TXT record, added (class IN, TTL 60) or deleted (class NONE, TTL 0).
        name(&mut m, fqdn)?;
        u16be(&mut m, TYPE_TXT);
        u16be(&mut m, if add { CLASS_IN } else { CLASS_NONE });
        u32be(&mut m, if add { 60 } else { 0 });
        u16be(&mut m, value.len() as u16 + 1);
        m.push(value.len() as u8);
        m.extend(value.bytes());
        // TSIG: the MAC covers the message so far and the TSIG variables (RFC 8945 §4.3.3).
        let mut vars = Vec::new();
        name(&mut vars, &self.key_name)?;
        u16be(&mut vars, CLASS_ANY);
        u32be(&mut vars, 0);
        name(&mut vars, ALGORITHM)?;
        let time = now.to_be_bytes();
        vars.extend_from_slice(&time[2..]);
        u16be(&mut vars, FUDGE);
        u16be(&mut vars, 0); // error
        u16be(&mut vars, 0); // other length
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.secret).expect("any key length");
        mac.update(&m);
        mac.update(&vars);
        let mac = mac.finalize().into_bytes();
        let mut rdata = Vec::new();
        name(&mut rdata, ALGORITHM)?;
        rdata.extend_from_slice(&time[2..]);
        u16be(&mut rdata, FUDGE);
        u16be(&mut rdata, mac.len() as u16);
        rdata.extend_from_slice(&mac);
        u16be(&mut rdata, id);
        u16be(&mut rdata, 0);
        u16be(&mut rdata, 0);
        name(&mut m, &self.key_name)?;
        u16be(&mut m, TYPE_TSIG);
        u16be(&mut m, CLASS_ANY);
        u32be(&mut m, 0);
        u16be(&mut m, rdata.len() as u16);
        m.extend_from_slice(&rdata);
        m[10..12].copy_from_slice(&1u16.to_be_bytes()); // ARCOUNT: the TSIG record
        Ok((m, mac.to_vec()))
    }

    async fn update(&self, fqdn: &str, value: &str, add: bool) -> Result<(), String> {
        let id = u16::from_be_bytes(crate::crypto::random::bytes::<2>());
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let (msg, request_mac) = self.message(id, fqdn, value, add, now)?;
        // Over TCP (RFC 7766): no truncation, and one connection per update is plenty.
        let answer = tokio::time::timeout(TIMEOUT, async {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut s = tokio::net::TcpStream::connect(self.server).await?;
            let mut framed = (msg.len() as u16).to_be_bytes().to_vec();
            framed.extend_from_slice(&msg);
            s.write_all(&framed).await?;
            let mut len = [0u8; 2];
            s.read_exact(&mut len).await?;
            let mut buf = vec![0u8; u16::from_be_bytes(len) as usize];
            s.read_exact(&mut buf).await?;
            Ok::<_, std::io::Error>(buf)
        })
        .await
        .map_err(|_| format!("{} did not answer within 10 s", self.server))?
        .map_err(|e| format!("{}: {e}", self.server))?;
        // Our id, a response (QR), to an UPDATE.
        if answer.len() < 12
            || answer[0..2] != id.to_be_bytes()
            || answer[2] & 0x80 == 0
            || (answer[2] >> 3) & 0x0f != 5
        {
            return Err(format!("{} sent an answer that is not ours", self.server));
        }
        match answer[3] & 0x0f {
            // Success must be signed with our key (RFC 8945 §5.3): an unsigned or forged
            // "done" is not believed. Refusals may come unsigned (a server that does not know
            // the key cannot sign).
            0 => self.verify(&answer, &request_mac, now),
            rcode => Err(format!(
                "{} refused the update: {}",
                self.server,
                match rcode {
                    5 => "REFUSED (the key may not update this name)",
                    9 => "NOTAUTH (a bad TSIG key or clock, or not authoritative for the zone)",
                    10 => "NOTZONE (the name is outside the zone)",
                    2 => "SERVFAIL",
                    _ => "an error",
                }
            )),
        }
    }
}

fn read_u16(m: &[u8], i: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*m.get(i)?, *m.get(i + 1)?]))
}

/// The index after a (possibly compressed) name starting at `i`.
fn skip_name(m: &[u8], mut i: usize) -> Option<usize> {
    for _ in 0..128 {
        let len = *m.get(i)? as usize;
        if len == 0 {
            return Some(i + 1);
        }
        if len & 0xc0 == 0xc0 {
            return (i + 2 <= m.len()).then_some(i + 2);
        }
        i += 1 + len;
    }
    None
}

/// The index after a resource record starting at `i`.
fn skip_rr(m: &[u8], i: usize) -> Option<usize> {
    let j = skip_name(m, i)?;
    let end = j + 10 + read_u16(m, j + 8)? as usize;
    (end <= m.len()).then_some(end)
}

impl Rfc2136 {
    /// Check the answer's TSIG record: our key, signed over our request's MAC, the answer
    /// without the record, and its variables; within the fudge of our clock.
    fn verify(&self, answer: &[u8], request_mac: &[u8], now: u64) -> Result<(), String> {
        let bad = || {
            format!(
                "{} answered without a valid signature of our key",
                self.server
            )
        };
        let count = |k: usize| read_u16(answer, 4 + 2 * k).map(usize::from);
        let (zones, rest) = (count(0).ok_or_else(bad)?, [count(1), count(2), count(3)]);
        let records: usize = rest.iter().map(|c| c.unwrap_or(0)).sum();
        if count(3).unwrap_or(0) == 0 {
            return Err(bad());
        }
        let mut i = 12;
        for _ in 0..zones {
            i = skip_name(answer, i).ok_or_else(bad)? + 4;
        }
        for _ in 0..records - 1 {
            i = skip_rr(answer, i).ok_or_else(bad)?;
        }
        let tsig_start = i;
        let j = skip_name(answer, i).ok_or_else(bad)?;
        if read_u16(answer, j) != Some(TYPE_TSIG) {
            return Err(bad());
        }
        let rdlen = read_u16(answer, j + 8).ok_or_else(bad)? as usize;
        let rdata = answer.get(j + 10..j + 10 + rdlen).ok_or_else(bad)?;
        let k = skip_name(rdata, 0).ok_or_else(bad)?;
        let time = rdata.get(k..k + 6).ok_or_else(bad)?;
        let fudge = read_u16(rdata, k + 6).ok_or_else(bad)?;
        let mac_len = read_u16(rdata, k + 8).ok_or_else(bad)? as usize;
        let mac = rdata.get(k + 10..k + 10 + mac_len).ok_or_else(bad)?;
        let after = k + 10 + mac_len;
        let original_id = rdata.get(after..after + 2).ok_or_else(bad)?;
        let error_other = rdata.get(after + 2..).ok_or_else(bad)?;
        let signed =
            u64::from_be_bytes([0, 0, time[0], time[1], time[2], time[3], time[4], time[5]]);
        if now.abs_diff(signed) > u64::from(fudge) {
            return Err(format!(
                "{} signed its answer at a time off by more than {fudge} s",
                self.server
            ));
        }
        let mut body = answer[..tsig_start].to_vec();
        body[0..2].copy_from_slice(original_id);
        let arcount = read_u16(&body, 10).ok_or_else(bad)? - 1;
        body[10..12].copy_from_slice(&arcount.to_be_bytes());
        let mut vars = Vec::new();
        name(&mut vars, &self.key_name)?;
        u16be(&mut vars, CLASS_ANY);
        u32be(&mut vars, 0);
        name(&mut vars, ALGORITHM)?;
        vars.extend_from_slice(time);
        u16be(&mut vars, fudge);
        vars.extend_from_slice(error_other);
        let mut check = Hmac::<Sha256>::new_from_slice(&self.secret).expect("any key length");
        check.update(&(request_mac.len() as u16).to_be_bytes());
        check.update(request_mac);
        check.update(&body);
        check.update(&vars);
        check.verify_slice(mac).map_err(|_| bad())
    }
}

impl DnsProvider for Rfc2136 {
    fn publish<'a>(&'a self, name: &'a str, value: &'a str) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(self.update(name, value, true))
    }

    fn remove<'a>(&'a self, name: &'a str, value: &'a str) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(self.update(name, value, false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_update_is_a_well_formed_signed_message() {
        let p = Rfc2136 {
            server: "127.0.0.1:53".parse().unwrap(),
            zone: "Example.COM".into(),
            key_name: "panel".into(),
            secret: Zeroizing::new(b"0123456789abcdef".to_vec()),
        };
        let m = p
            .message(
                0x1234,
                "_acme-challenge.example.com",
                "abc",
                true,
                1_700_000_000,
            )
            .unwrap()
            .0;
        assert_eq!(&m[0..2], &[0x12, 0x34]);
        assert_eq!(u16::from_be_bytes([m[2], m[3]]) >> 11, 5, "opcode UPDATE");
        assert_eq!(&m[4..12], &[0, 1, 0, 0, 0, 1, 0, 1]);
        assert_eq!(&m[12..25], b"\x07example\x03com\x00", "zone in lower case");
        assert!(m.windows(4).any(|w| w == b"\x03abc"), "the TXT value");
        assert!(
            m.windows(13).any(|w| w == b"\x0bhmac-sha256\x00"),
            "the algorithm"
        );
        // A different secret signs differently.
        let other = Rfc2136 {
            secret: Zeroizing::new(b"another secret!!".to_vec()),
            ..p
        };
        let m2 = other
            .message(
                0x1234,
                "_acme-challenge.example.com",
                "abc",
                true,
                1_700_000_000,
            )
            .unwrap()
            .0;
        assert_ne!(m, m2);
        assert!(other.message(1, "a..b", "x", true, 0).is_err());
        // A "done" that is not signed, or signed by another key, is not believed.
        let (request, mac) = other
            .message(7, "_acme-challenge.example.com", "abc", true, 1_700_000_000)
            .unwrap();
        let mut unsigned = request[..12].to_vec();
        unsigned[10..12].copy_from_slice(&[0, 0]);
        assert!(other.verify(&unsigned, &mac, 1_700_000_000).is_err());
        // The request itself carries a TSIG record, but over other data than an answer's.
        assert!(other.verify(&request, &mac, 1_700_000_000).is_err());
    }
}
