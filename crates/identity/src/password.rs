//! Password hashing: argon2id with the library's default parameters, in PHC string form.
use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 with default parameters accepts any password")
        .to_string()
}

pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash to verify against when the account does not exist, so both cases take the same time.
pub fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password that matches nothing"))
}

/// Verifies on the blocking pool: argon2 is deliberately slow and must not stall async workers.
pub async fn verify_off_thread(hash: String, password: String) -> bool {
    tokio::task::spawn_blocking(move || verify_password(&hash, &password))
        .await
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_against_their_hash() {
        let hash = hash_password("Shanghai#2026");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password(&hash, "Shanghai#2026"));
        assert!(!verify_password(&hash, "shanghai#2026"));
        assert!(!verify_password("not a hash", "Shanghai#2026"));
        assert!(!verify_password(decoy_hash(), ""));
    }
}
