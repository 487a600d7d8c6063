//! The one-time setup code of a fresh install: while no user exists, the first-run
//! screen (`/setup`) creates the first admin only for a visitor who gives this code.
//! `portico serve` prints it to its log at start-up and writes it to the file
//! `setup-code` in the data directory (removed once the first admin exists), so a
//! visitor who reaches a fresh install before its operator cannot take it over.
//!
//! A new code is made at every start; it is 20 characters of a 30-letter alphabet
//! (98 bits), shown in groups of five, and compared in constant time (case, spaces
//! and dashes do not matter).

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use app::error::AppError;
use rand::Rng;
use subtle::ConstantTimeEq;

/// The name of the file in the data directory that holds the code.
pub const SETUP_CODE_FILE: &str = "setup-code";

/// No 0/O, 1/I/L or U: nothing to misread when typing it from a log.
const ALPHABET: &[u8; 30] = b"23456789ABCDEFGHJKMNPQRSTVWXYZ";
const LEN: usize = 20;

/// A setup code, and the file it was written to (if any).
#[derive(Debug)]
pub struct SetupCode {
    code: String,
    file: Mutex<Option<PathBuf>>,
}

impl Default for SetupCode {
    fn default() -> Self {
        Self::generate()
    }
}

fn normalized(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

impl SetupCode {
    /// A new random code.
    pub fn generate() -> Self {
        let mut rng = rand::rng();
        let code = (0..LEN)
            .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
            .collect();
        Self {
            code,
            file: Mutex::new(None),
        }
    }

    /// The code as shown to the operator: `ABCDE-FGHJK-MNPQR-STVWX`.
    pub fn display(&self) -> String {
        self.code
            .as_bytes()
            .chunks(5)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join("-")
    }

    /// `Ok` when `given` is the code; else a field error on `setup_code`.
    pub fn check(&self, given: &str) -> Result<(), AppError> {
        let given = normalized(given);
        if given.is_empty() {
            return Err(AppError::validation(
                "setup_code",
                "Enter the setup code: Portico prints it to its log at start-up, and writes it to the file setup-code in its data directory.",
            ));
        }
        if bool::from(given.as_bytes().ct_eq(self.code.as_bytes())) {
            Ok(())
        } else {
            Err(AppError::validation(
                "setup_code",
                "This is not the setup code. Copy it from the log of the running Portico (\"setup code: …\", printed at its last start), or from the file setup-code in its data directory.",
            ))
        }
    }

    /// Writes the code to `dir/setup-code` (readable by its owner only), to be removed
    /// by [`SetupCode::used`].
    pub fn write_file(&self, dir: &Path) -> std::io::Result<PathBuf> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(SETUP_CODE_FILE);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&path)?;
        std::io::Write::write_all(&mut file, format!("{}\n", self.display()).as_bytes())?;
        if let Ok(mut f) = self.file.lock() {
            *f = Some(path.clone());
        }
        Ok(path)
    }

    /// The first admin exists: the file of the code is removed.
    pub fn used(&self) {
        let path = self.file.lock().ok().and_then(|mut f| f.take());
        if let Some(path) = path {
            if let Err(e) = std::fs::remove_file(&path) {
                tracing::warn!("could not remove {}: {e}", path.display());
            }
        }
    }
}

/// Removes a stale `setup-code` file of an install that has users.
pub fn remove_stale_file(dir: &Path) {
    let path = dir.join(SETUP_CODE_FILE);
    match std::fs::remove_file(&path) {
        Ok(()) => tracing::info!("removed the stale {}", path.display()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => tracing::warn!("could not remove {}: {e}", path.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_random_and_checked_loosely_but_exactly() {
        let a = SetupCode::generate();
        let b = SetupCode::generate();
        assert_ne!(a.code, b.code);
        assert_eq!(a.code.len(), LEN);
        let shown = a.display();
        assert_eq!(shown.len(), LEN + 3);
        assert!(a.check(&shown).is_ok());
        assert!(a.check(&format!("  {} ", shown.to_lowercase())).is_ok());
        assert!(a.check(&a.code).is_ok());
        for wrong in ["", "   ", &b.display(), &a.code[..LEN - 1]] {
            let e = a.check(wrong).unwrap_err();
            assert_eq!(e.field(), Some("setup_code"), "{wrong:?}");
        }
    }

    #[test]
    fn the_file_holds_the_code_until_used() {
        let dir = tempfile::tempdir().unwrap();
        let code = SetupCode::generate();
        let path = code.write_file(&dir.path().join("data")).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(code.check(text.trim()).is_ok());
        code.used();
        assert!(!path.exists());
    }
}
