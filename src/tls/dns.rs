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
    /// The update message: add (`true`) or delete one TXT record, signed; its id.
    fn message(
        &self,
        id: u16,
        fqdn: &str,
        value: &str,
        add: bool,
        now: u64,
    ) -> Result<Vec<u8>, String> {
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
        Ok(m)
    }

    async fn update(&self, fqdn: &str, value: &str, add: bool) -> Result<(), String> {
        let id = u16::from_be_bytes(crate::crypto::random::bytes::<2>());
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let msg = self.message(id, fqdn, value, add, now)?;
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
        // Our id, a response (QR), to an UPDATE. (Its TSIG signature is not checked yet: a
        // forged success only makes the CA's check fail, which is then explained.)
        if answer.len() < 12
            || answer[0..2] != id.to_be_bytes()
            || answer[2] & 0x80 == 0
            || (answer[2] >> 3) & 0x0f != 5
        {
            return Err(format!("{} sent an answer that is not ours", self.server));
        }
        match answer[3] & 0x0f {
            0 => Ok(()),
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
            .unwrap();
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
            .unwrap();
        assert_ne!(m, m2);
        assert!(other.message(1, "a..b", "x", true, 0).is_err());
    }
}
