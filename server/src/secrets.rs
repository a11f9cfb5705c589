//! The key that seals secrets stored in the database (the Facebook access token and app secret),
//! so a copy of the database alone does not give away the Facebook account.
//!
//! Where the key comes from, first match wins: `SECRET_KEY_FILE` (a file holding the key),
//! `SECRET_KEY` (the key itself), or `secret.key` next to the SQLite database (`data/` for
//! PostgreSQL), created with mode 0600 on first run. A key is 32 bytes, written as base64 or hex.

use std::path::{Path, PathBuf};

use aes_gcm::{
    Aes256Gcm, Key, Nonce,
    aead::{Aead, KeyInit, Payload},
};
use anyhow::Context;
use base64::{Engine, engine::general_purpose::STANDARD as B64};

/// The file name of a generated key.
pub const KEY_FILE_NAME: &str = "secret.key";

#[derive(Clone)]
pub struct SecretKey(Key<Aes256Gcm>);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(***)")
    }
}

impl SecretKey {
    /// Parses 32 bytes written as base64 or hex (surrounding whitespace ignored).
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let text = text.trim();
        let bytes = if text.len() == 64 && text.chars().all(|c| c.is_ascii_hexdigit()) {
            hex::decode(text)?
        } else {
            B64.decode(text)
                .context("the secret key is neither hex nor base64")?
        };
        anyhow::ensure!(
            bytes.len() == 32,
            "the secret key must be 32 bytes, got {}",
            bytes.len()
        );
        Ok(Self(*Key::<Aes256Gcm>::from_slice(&bytes)))
    }

    /// Finds or creates the key as the module documentation describes.
    pub fn load(
        key_file: Option<&Path>,
        key: Option<&str>,
        database_url: &str,
    ) -> anyhow::Result<Self> {
        if let Some(path) = key_file {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading SECRET_KEY_FILE={}", path.display()))?;
            return Self::parse(&text)
                .with_context(|| format!("SECRET_KEY_FILE={}", path.display()));
        }
        if let Some(key) = key {
            return Self::parse(key).context("SECRET_KEY");
        }
        let path = default_key_path(database_url);
        match std::fs::read_to_string(&path) {
            Ok(text) => Self::parse(&text).with_context(|| format!("key file {}", path.display())),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => generate(&path),
            Err(err) => Err(err).with_context(|| format!("reading {}", path.display())),
        }
    }

    /// AES-256-GCM with a fresh random nonce; `label` (the field's name) is bound in as
    /// associated data so one sealed value cannot be passed off as another.
    pub fn seal(&self, label: &str, plain: &str) -> anyhow::Result<String> {
        let mut nonce = [0u8; 12];
        getrandom::getrandom(&mut nonce).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
        let sealed = Aes256Gcm::new(&self.0)
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plain.as_bytes(),
                    aad: label.as_bytes(),
                },
            )
            .map_err(|_| anyhow::anyhow!("encryption failed"))?;
        let mut out = nonce.to_vec();
        out.extend(sealed);
        Ok(B64.encode(out))
    }

    pub fn open(&self, label: &str, sealed: &str) -> anyhow::Result<String> {
        let bytes = B64
            .decode(sealed)
            .context("a stored secret is not base64")?;
        anyhow::ensure!(bytes.len() > 12, "a stored secret is truncated");
        let (nonce, body) = bytes.split_at(12);
        let plain = Aes256Gcm::new(&self.0)
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: label.as_bytes(),
                },
            )
            .map_err(|_| {
                anyhow::anyhow!(
                    "a stored secret cannot be decrypted: the secret key changed since it was saved"
                )
            })?;
        String::from_utf8(plain).context("a stored secret is not text")
    }
}

/// `secret.key` in the SQLite database's folder; `data/secret.key` otherwise (relative to the
/// working directory).
pub fn default_key_path(database_url: &str) -> PathBuf {
    let dir = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))
        .map(|rest| rest.split('?').next().unwrap_or(rest))
        .filter(|path| !path.is_empty() && !path.starts_with(':'))
        .and_then(|path| Path::new(path).parent().map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from("data"));
    dir.join(KEY_FILE_NAME)
}

fn generate(path: &Path) -> anyhow::Result<SecretKey> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(mut file) => {
            use std::io::Write;
            file.write_all(format!("{}\n", B64.encode(bytes)).as_bytes())
                .with_context(|| format!("writing {}", path.display()))?;
            tracing::info!(path = %path.display(), "generated the secret key for stored credentials");
            Ok(SecretKey(*Key::<Aes256Gcm>::from_slice(&bytes)))
        }
        // Another process on the same folder created it first: use theirs.
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
            let text = std::fs::read_to_string(path)?;
            SecretKey::parse(&text)
        }
        Err(err) => Err(err).with_context(|| format!("creating {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_text_opens_only_with_the_same_key_and_label() {
        let key = SecretKey::parse(&"ab".repeat(32)).unwrap();
        let sealed = key.seal("access_token", "EAAB-secret-token").unwrap();
        assert!(!sealed.contains("EAAB"));
        assert_eq!(
            key.open("access_token", &sealed).unwrap(),
            "EAAB-secret-token"
        );
        assert!(key.open("app_secret", &sealed).is_err());
        let other = SecretKey::parse(&B64.encode([7u8; 32])).unwrap();
        assert!(other.open("access_token", &sealed).is_err());
    }

    #[test]
    fn the_key_file_sits_next_to_the_sqlite_database() {
        assert_eq!(
            default_key_path("sqlite://data/fb-audiences.db"),
            PathBuf::from("data/secret.key")
        );
        assert_eq!(
            default_key_path("postgres://u@h/db"),
            PathBuf::from("data/secret.key")
        );
        assert_eq!(
            default_key_path("sqlite:///tmp/x/test.db?mode=rwc"),
            PathBuf::from("/tmp/x/secret.key")
        );
    }

    #[test]
    fn a_key_of_the_wrong_size_is_refused() {
        assert!(SecretKey::parse("abcd").is_err());
        assert!(format!("{:?}", SecretKey::parse(&"ab".repeat(32)).unwrap()).contains("***"));
    }
}
