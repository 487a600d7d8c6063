//! A snapshot's consumers, compiled: by id, by username, and key-auth credentials by
//! the SHA-256 of their key (the data plane never sees a key, only hashes; a presented
//! key is hashed and looked up).

use std::collections::HashMap;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::gateway::snapshot::ConsumerConfig;

/// A consumer as plugins see it.
#[derive(Debug)]
pub(crate) struct Consumer {
    pub id: Arc<str>,
    pub username: Option<String>,
    pub custom_id: Option<String>,
    /// ACL groups.
    pub groups: Vec<String>,
}

/// A key-auth credential.
#[derive(Debug)]
pub(crate) struct KeyEntry {
    pub consumer: Arc<Consumer>,
    /// The credential's id.
    pub id: Arc<str>,
    /// Unix seconds after which the key no longer works.
    pub expires_at: Option<i64>,
}

/// All consumers of a snapshot.
#[derive(Debug, Default)]
pub(crate) struct Consumers {
    by_id: HashMap<String, Arc<Consumer>>,
    by_username: HashMap<String, Arc<Consumer>>,
    keys: HashMap<[u8; 32], KeyEntry>,
}

fn unhex(s: &str) -> Option<[u8; 32]> {
    let b = s.as_bytes();
    if b.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        let hi = (b[2 * i] as char).to_digit(16)?;
        let lo = (b[2 * i + 1] as char).to_digit(16)?;
        *o = (hi * 16 + lo) as u8;
    }
    Some(out)
}

impl Consumers {
    /// Compile; a key hash that is not 64 hex digits refuses the snapshot.
    pub(crate) fn compile(list: &[ConsumerConfig]) -> Result<Consumers, String> {
        let mut c = Consumers::default();
        for cc in list {
            let consumer = Arc::new(Consumer {
                id: Arc::from(cc.id.as_str()),
                username: cc.username.clone(),
                custom_id: cc.custom_id.clone(),
                groups: cc.acl_groups.clone(),
            });
            for k in &cc.keys {
                let hash = unhex(&k.key_sha256).ok_or_else(|| {
                    format!(
                        "consumer {}: key-auth credential {}: key_sha256 is not 64 hex digits",
                        cc.id, k.id
                    )
                })?;
                c.keys.insert(
                    hash,
                    KeyEntry {
                        consumer: consumer.clone(),
                        id: Arc::from(k.id.as_str()),
                        expires_at: k.expires_at,
                    },
                );
            }
            if let Some(u) = &cc.username {
                c.by_username.insert(u.clone(), consumer.clone());
            }
            c.by_id.insert(cc.id.clone(), consumer);
        }
        Ok(c)
    }

    /// By id, else by username (Kong's `anonymous` takes either).
    pub(crate) fn find(&self, id_or_username: &str) -> Option<Arc<Consumer>> {
        self.by_id
            .get(id_or_username)
            .or_else(|| self.by_username.get(id_or_username))
            .cloned()
    }

    /// The credential of a presented key, unless unknown or expired at `now` (Unix
    /// seconds).
    pub(crate) fn key(&self, key: &[u8], now: i64) -> Option<&KeyEntry> {
        let hash: [u8; 32] = Sha256::digest(key).into();
        let e = self.keys.get(&hash)?;
        match e.expires_at {
            Some(t) if t <= now => None,
            _ => Some(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::snapshot::KeyCredential;

    pub(crate) fn sha(key: &str) -> String {
        Sha256::digest(key.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    #[test]
    fn keys_are_found_by_hash_and_expire() {
        let cs = Consumers::compile(&[ConsumerConfig {
            id: "c1".into(),
            username: Some("alice".into()),
            custom_id: None,
            keys: vec![
                KeyCredential {
                    id: "k1".into(),
                    key_sha256: sha("secret"),
                    expires_at: None,
                },
                KeyCredential {
                    id: "k2".into(),
                    key_sha256: sha("old"),
                    expires_at: Some(100),
                },
            ],
            acl_groups: vec![],
        }])
        .unwrap();
        assert_eq!(&*cs.key(b"secret", 0).unwrap().id, "k1");
        assert!(cs.key(b"other", 0).is_none());
        assert!(cs.key(b"old", 99).is_some());
        assert!(cs.key(b"old", 100).is_none(), "expired at its time");
        assert_eq!(&*cs.find("alice").unwrap().id, "c1");
        assert_eq!(&*cs.find("c1").unwrap().id, "c1");
    }

    #[test]
    fn a_bad_hash_refuses_the_snapshot() {
        let err = Consumers::compile(&[ConsumerConfig {
            id: "c1".into(),
            username: None,
            custom_id: None,
            keys: vec![KeyCredential {
                id: "k1".into(),
                key_sha256: "plain-key".into(),
                expires_at: None,
            }],
            acl_groups: vec![],
        }])
        .unwrap_err();
        assert!(err.contains("key_sha256"), "{err}");
    }
}
