//! ULID newtypes for every table's primary key, so a `ServerId` can never be passed where a
//! `SiteId` is meant. Stored as the 26-character Crockford text form (sortable by creation time).

use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;

/// One generator for the process, so ids made in the same millisecond still sort in creation
/// order (plain `Ulid::generate` randomises the low bits each time).
static GENERATOR: Mutex<ulid::Generator> = Mutex::new(ulid::Generator::new());

fn next_ulid() -> ulid::Ulid {
    let mut generator = GENERATOR.lock().unwrap_or_else(|e| e.into_inner());
    match generator.generate() {
        Ok(id) => id,
        // 2^80 ids in one millisecond: take a fresh random one rather than fail.
        Err(overflow) => overflow.commit_overflow_random(),
    }
}

macro_rules! ulid_id {
    ($($(#[$meta:meta])* $name:ident),+ $(,)?) => {$(
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub ulid::Ulid);

        impl $name {
            /// A fresh id, strictly increasing within this process.
            pub fn generate() -> Self {
                Self(next_ulid())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl FromStr for $name {
            type Err = ulid::DecodeError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                ulid::Ulid::from_string(s).map(Self)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(&self.0)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }

        impl sqlx::Type<sqlx::Sqlite> for $name {
            fn type_info() -> sqlx::sqlite::SqliteTypeInfo {
                <String as sqlx::Type<sqlx::Sqlite>>::type_info()
            }
        }

        impl<'q> sqlx::Encode<'q, sqlx::Sqlite> for $name {
            fn encode_by_ref(
                &self,
                buf: &mut Vec<sqlx::sqlite::SqliteArgumentValue<'q>>,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <String as sqlx::Encode<'q, sqlx::Sqlite>>::encode(self.0.to_string(), buf)
            }
        }

        impl<'r> sqlx::Decode<'r, sqlx::Sqlite> for $name {
            fn decode(value: sqlx::sqlite::SqliteValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
                let s = <&str as sqlx::Decode<'r, sqlx::Sqlite>>::decode(value)?;
                Ok(s.parse()?)
            }
        }
    )+};
}

ulid_id!(
    /// A panel user (a person who logs in with a passkey).
    UserId,
    /// One row of `user_preferences`.
    PreferenceId,
    /// An SSH key pair (or a public key alone) the panel knows.
    SshKeyId,
    /// A managed server.
    ServerId,
    /// A site on a managed server.
    SiteId,
    /// A Unix user the panel created on a server.
    SystemUserId,
    /// A MariaDB or PostgreSQL database on a server.
    DatabaseId,
    /// One deployment of a site.
    DeploymentId,
    /// One of a site's cron jobs.
    CronJobId,
    /// One of a site's workers (long-running processes).
    WorkerId,
    /// One software package installed (or being installed) on a server.
    SoftwareInstallationId,
    /// A server log row.
    ServerLogId,
    /// A collected SELinux audit record.
    AuditLogId,
    /// A passkey registered to a user.
    CredentialId,
    /// A login (or pre-login) session.
    SessionId,
    /// A one-time enrolment link.
    EnrolmentTokenId,
    /// A durable remote job.
    JobId,
    /// One step of a job.
    JobStepId,
    /// A one-time setup URL of a server.
    SetupTokenId,
    /// A message in the alert mail outbox.
    MailId,
    /// An API token.
    ApiTokenId,
    /// One row of the panel's own audit log (who did what).
    AuditEntryId,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_text() {
        let id = ServerId::generate();
        let text = id.to_string();
        assert_eq!(text.len(), 26);
        assert_eq!(text.parse::<ServerId>().unwrap(), id);
        assert!("not-a-ulid".parse::<ServerId>().is_err());
    }

    #[test]
    fn ids_are_ordered_by_creation() {
        let a = SiteId::generate();
        let b = SiteId::generate();
        assert!(a < b);
        assert!(a.to_string() < b.to_string());
    }
}
