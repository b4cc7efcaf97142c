//! The server's secret key and what is derived from it. No token that grants anything is
//! stored in clear: a token that is only checked is stored as its SHA-256 (seller tokens,
//! seller sessions); one that must be served again is derived here, an HMAC of what it
//! names under this key (a session's `session_secret`, a subscription's customer token,
//! the creator-link signing key), so the database alone yields none of them.
//!
//! The key comes from `MIGHTY_SECRET_KEY` (what several instances share), else from a key
//! file beside an SQLite database (`mighty.db.key`, created 0600 on first run), never from
//! the database itself.

use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::store::DatabaseUrl;

/// The shortest `MIGHTY_SECRET_KEY` accepted.
pub const MIN_SECRET_KEY_LENGTH: usize = 32;

/// The server key, and what is derived from it.
#[derive(Clone)]
pub struct Secrets {
    key: [u8; 32],
    link_key: Vec<u8>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("Secrets([redacted])")
    }
}

impl Secrets {
    /// The key of this configuration: `MIGHTY_SECRET_KEY`, else the key file beside the
    /// SQLite database (created on first run), else (an in-memory database) a random one.
    pub fn load(config: &Config) -> Result<Secrets, String> {
        let key = match (&config.secret_key, &config.database) {
            (Some(text), _) => Sha256::digest(text.as_bytes()).into(),
            (None, DatabaseUrl::Sqlite(path)) => key_file(&key_file_path(path))?,
            (None, DatabaseUrl::Postgres(_)) => {
                return Err(format!(
                    "MIGHTY_SECRET_KEY is required with PostgreSQL: every instance must derive the same secrets (a creator link issued by one verifies on another); set it to at least {MIN_SECRET_KEY_LENGTH} random characters, the same on every instance"
                ));
            }
            (None, DatabaseUrl::SqliteMemory) => random_key(),
        };
        Ok(Secrets::from_key(key, config.link_secret.as_deref()))
    }

    /// From a key; `link_secret` (`MIGHTY_LINK_SECRET`) overrides the derived link key.
    pub fn from_key(key: [u8; 32], link_secret: Option<&str>) -> Secrets {
        let mut secrets = Secrets {
            key,
            link_key: Vec::new(),
        };
        secrets.link_key = match link_secret {
            Some(secret) => secret.as_bytes().to_vec(),
            None => secrets.derive("creator-link-key", "").into_bytes(),
        };
        secrets
    }

    fn derive(&self, purpose: &str, subject: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key");
        mac.update(purpose.as_bytes());
        mac.update(b"\0");
        mac.update(subject.as_bytes());
        mighty_core::signing::hex(&mac.finalize().into_bytes()[..20])
    }

    /// The key that signs creator-link tokens (section 5).
    pub fn link_key(&self) -> &[u8] {
        &self.link_key
    }

    /// A checkout session's `session_secret` (SPEC section 4).
    pub fn session_secret(&self, session_id: &str) -> String {
        format!("mss_{}", self.derive("session-secret", session_id))
    }

    /// Whether `given` is `session_id`'s secret (compared in constant time).
    pub fn is_session_secret(&self, session_id: &str, given: &str) -> bool {
        constant_time_eq(
            self.session_secret(session_id).as_bytes(),
            given.trim().as_bytes(),
        )
    }

    /// A subscription's customer token: the shopper's key to their membership (upgrade,
    /// cancel, the manage page). Only its SHA-256 is stored.
    pub fn customer_token(&self, subscription_id: &str) -> String {
        format!("cus_{}", self.derive("customer-token", subscription_id))
    }

    /// A webhook endpoint's signing secret (section 8's `Mighty-Signature` key), shown to
    /// the seller once at registration.
    pub fn webhook_secret(&self, endpoint_id: &str) -> String {
        format!("whsec_{}", self.derive("webhook-secret", endpoint_id))
    }

    /// A secret only the browser that paid on the pay page holds (its receipt cookie).
    pub fn receipt_secret(&self, session_id: &str) -> String {
        self.derive("receipt", session_id)
    }
}

/// Equal bytes, in time that depends only on the lengths.
pub fn constant_time_eq(left: &[u8], right: &[u8]) -> bool {
    left.len() == right.len()
        && left
            .iter()
            .zip(right)
            .fold(0u8, |difference, (a, b)| difference | (a ^ b))
            == 0
}

fn random_key() -> [u8; 32] {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).expect("the operating system provides randomness");
    key
}

/// `mighty.db` → `mighty.db.key`.
pub fn key_file_path(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".key");
    PathBuf::from(name)
}

/// Reads the key file, or creates it (readable by this user only) with a random key.
fn key_file(path: &Path) -> Result<[u8; 32], String> {
    let parse = |text: &str| -> Result<[u8; 32], String> {
        let text = text.trim();
        let bytes: Vec<u8> = (0..text.len())
            .step_by(2)
            .filter_map(|index| u8::from_str_radix(text.get(index..index + 2)?, 16).ok())
            .collect();
        bytes.try_into().map_err(|_| {
            format!(
                "{} is not a key file (64 hex digits); move it away to have a new key made, or set MIGHTY_SECRET_KEY",
                path.display()
            )
        })
    };
    match std::fs::read_to_string(path) {
        Ok(text) => return parse(&text),
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
            return Err(format!("reading the key file {}: {error}", path.display()));
        }
        Err(_) => {}
    }
    if let Some(parent) = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent)
            .map_err(|error| format!("creating {}: {error}", parent.display()))?;
    }
    let key = random_key();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(mut file) => {
            use std::io::Write;
            file.write_all(mighty_core::signing::hex(&key).as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(|error| format!("writing the key file {}: {error}", path.display()))?;
            Ok(key)
        }
        // Another instance made it first: use theirs.
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
            let text = std::fs::read_to_string(path)
                .map_err(|error| format!("reading the key file {}: {error}", path.display()))?;
            parse(&text)
        }
        Err(error) => Err(format!("creating the key file {}: {error}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_secrets_differ_by_purpose_and_subject_and_key() {
        let secrets = Secrets::from_key([7; 32], None);
        let other = Secrets::from_key([8; 32], None);
        assert_ne!(
            secrets.session_secret("cs_1"),
            secrets.session_secret("cs_2")
        );
        assert_ne!(secrets.session_secret("cs_1"), other.session_secret("cs_1"));
        assert_ne!(
            secrets.customer_token("x")[4..],
            secrets.session_secret("x")[4..]
        );
        assert!(secrets.customer_token("sub_1").starts_with("cus_"));
        assert_eq!(secrets.customer_token("sub_1").len(), 44);
        assert!(secrets.is_session_secret("cs_1", &secrets.session_secret("cs_1")));
        assert!(!secrets.is_session_secret("cs_1", &secrets.session_secret("cs_2")));
        assert!(!secrets.is_session_secret("cs_1", ""));
        assert_eq!(
            Secrets::from_key([7; 32], Some("shared")).link_key(),
            b"shared"
        );
    }

    #[test]
    fn the_key_file_is_made_once_and_private() {
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes).unwrap();
        let dir =
            std::env::temp_dir().join(format!("mighty-key-{}", mighty_core::signing::hex(&bytes)));
        let path = key_file_path(&dir.join("mighty.db"));
        let first = key_file(&path).unwrap();
        assert_eq!(key_file(&path).unwrap(), first, "read back, not made anew");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, "not hex").unwrap();
        assert!(key_file(&path).unwrap_err().contains("is not a key file"));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
