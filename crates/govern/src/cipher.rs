//! Encryption of personal data at rest: AES-256-GCM under a keyring (the first key encrypts, every key decrypts,
//! so keys can be rotated), and keyed blind tokens (HMAC-SHA256) that let the search index match words without
//! holding them.
//!
//! A sealed value is `0xE1`, the key's 4-byte id, a 12-byte random nonce, then the ciphertext with its 16-byte tag.
//! The column it belongs to is authenticated with it (a value moved to another column does not open).

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::hmac;
use sha2::{Digest, Sha256};

/// First byte of a sealed value.
pub const SEALED: u8 = 0xE1;

/// Bytes before the ciphertext: marker, key id, nonce.
const HEADER: usize = 1 + 4 + NONCE_LEN;

/// Why keys could not be read or a value could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CipherError {
    /// A key is not 64 hexadecimal digits (32 bytes).
    #[error("a key must be 64 hexadecimal digits (32 bytes); generate one with `cdihub keys generate`")]
    BadKey,
    /// No keys were given.
    #[error("the keyring is empty")]
    NoKeys,
    /// The value was sealed under a key the keyring does not hold.
    #[error("sealed under key {0}, which is not configured (was it rotated out too early?)")]
    UnknownKey(String),
    /// The value is damaged, or sealed for another column.
    #[error("a sealed value does not open: it was altered or belongs to another column")]
    Damaged,
    /// The operating system gave no randomness.
    #[error("no randomness for a nonce")]
    Random,
}

/// One key: its id, the AES-256-GCM key and the blind-token key derived from it.
struct Key {
    id: [u8; 4],
    aead: LessSafeKey,
    blind: hmac::Key,
}

/// The keys in use: the first encrypts and makes blind tokens; all decrypt.
pub struct Keyring {
    keys: Vec<Key>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<String> = self.keys.iter().map(|k| hex(&k.id)).collect();
        f.debug_struct("Keyring").field("key_ids", &ids).finish()
    }
}

impl Keyring {
    /// A keyring from keys written as 64 hex digits, current key first; blank entries are skipped.
    pub fn from_hex<'a>(keys: impl IntoIterator<Item = &'a str>) -> Result<Self, CipherError> {
        let keys = keys
            .into_iter()
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .map(|text| {
                let bytes = unhex(text).ok_or(CipherError::BadKey)?;
                let material: [u8; 32] = bytes.try_into().map_err(|_| CipherError::BadKey)?;
                Ok(Key::new(&material))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if keys.is_empty() {
            return Err(CipherError::NoKeys);
        }
        Ok(Keyring { keys })
    }

    /// A new random key, as 64 hex digits.
    pub fn generate() -> Result<String, CipherError> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|_| CipherError::Random)?;
        Ok(hex(&key))
    }

    /// The id of the key that encrypts (8 hex digits).
    pub fn current_id(&self) -> String {
        self.keys.first().map_or_else(String::new, |k| hex(&k.id))
    }

    /// Encrypts `plain` for `column` under the current key.
    pub fn seal(&self, column: &str, plain: &[u8]) -> Result<Vec<u8>, CipherError> {
        let key = self.keys.first().ok_or(CipherError::NoKeys)?;
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|_| CipherError::Random)?;
        let mut out = Vec::with_capacity(HEADER + plain.len() + AES_256_GCM.tag_len());
        out.push(SEALED);
        out.extend_from_slice(&key.id);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(plain);
        let mut body = out.split_off(HEADER);
        key.aead
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(column.as_bytes()), &mut body)
            .map_err(|_| CipherError::Damaged)?;
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// Decrypts a value sealed for `column` (by any key of the ring).
    pub fn open(&self, column: &str, sealed: &[u8]) -> Result<Vec<u8>, CipherError> {
        if sealed.len() < HEADER + AES_256_GCM.tag_len() || sealed[0] != SEALED {
            return Err(CipherError::Damaged);
        }
        let id = &sealed[1..5];
        let key = self.keys.iter().find(|k| k.id == id).ok_or_else(|| CipherError::UnknownKey(hex(id)))?;
        let nonce = Nonce::try_assume_unique_for_key(&sealed[5..HEADER]).map_err(|_| CipherError::Damaged)?;
        let mut body = sealed[HEADER..].to_vec();
        let plain_len = key
            .aead
            .open_in_place(nonce, Aad::from(column.as_bytes()), &mut body)
            .map_err(|_| CipherError::Damaged)?
            .len();
        body.truncate(plain_len);
        Ok(body)
    }

    /// A word's blind token: the first 8 bytes of HMAC-SHA256 under the current key's blind key, as hex. Equal
    /// words give equal tokens; the word cannot be read back.
    pub fn blind(&self, word: &str) -> String {
        self.keys.first().map_or_else(String::new, |k| hex(&hmac::sign(&k.blind, word.as_bytes()).as_ref()[..8]))
    }
}

impl Key {
    fn new(material: &[u8; 32]) -> Self {
        let derive = |label: &[u8]| -> [u8; 32] {
            let mut h = Sha256::new();
            h.update(label);
            h.update(material);
            h.finalize().into()
        };
        let id = derive(b"cdihub key id\n");
        let blind = derive(b"cdihub blind index\n");
        let aead = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, material).expect("a 32-byte key is an AES-256 key"));
        Key { id: [id[0], id[1], id[2], id[3]], aead, blind: hmac::Key::new(hmac::HMAC_SHA256, &blind) }
    }
}

/// True when `bytes` is a sealed value (by its first byte).
pub fn is_sealed(bytes: &[u8]) -> bool {
    bytes.first() == Some(&SEALED)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| text.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const A: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    const B: &str = "f0e0d0c0b0a090807060504030201000ffeeddccbbaa99887766554433221100";

    #[test]
    fn sealed_values_open_only_with_their_key_and_column() {
        let ring = Keyring::from_hex([A]).expect("ring");
        let sealed = ring.seal("golden.json", b"henk@ziggo.nl").expect("seal");
        assert!(is_sealed(&sealed));
        assert!(!sealed.windows(4).any(|w| w == b"henk"), "no plaintext in the sealed value");
        assert_eq!(ring.open("golden.json", &sealed).expect("open"), b"henk@ziggo.nl");
        assert_eq!(ring.open("golden.name", &sealed), Err(CipherError::Damaged));
        let mut altered = sealed.clone();
        let last = altered.len() - 1;
        altered[last] ^= 1;
        assert_eq!(ring.open("golden.json", &altered), Err(CipherError::Damaged));
        assert_ne!(ring.seal("golden.json", b"x").expect("a"), ring.seal("golden.json", b"x").expect("b"));
        let other = Keyring::from_hex([B]).expect("ring");
        assert!(matches!(other.open("golden.json", &sealed), Err(CipherError::UnknownKey(_))));
    }

    #[test]
    fn a_rotated_ring_opens_old_values_and_seals_with_the_new_key() {
        let old = Keyring::from_hex([A]).expect("old");
        let sealed = old.seal("c", b"data").expect("seal");
        let rotated = Keyring::from_hex([B, A]).expect("rotated");
        assert_eq!(rotated.open("c", &sealed).expect("open"), b"data");
        let resealed = rotated.seal("c", b"data").expect("seal");
        assert!(Keyring::from_hex([B]).expect("new").open("c", &resealed).is_ok());
        assert_ne!(rotated.current_id(), old.current_id());
        assert_eq!(rotated.blind("henk"), Keyring::from_hex([B]).expect("new").blind("henk"));
        assert_ne!(rotated.blind("henk"), old.blind("henk"));
    }

    #[test]
    fn keys_are_checked() {
        assert_eq!(Keyring::from_hex(["abc"]).err(), Some(CipherError::BadKey));
        assert_eq!(Keyring::from_hex([&A[..62]]).err(), Some(CipherError::BadKey));
        assert_eq!(Keyring::from_hex(["", " "]).err(), Some(CipherError::NoKeys));
        let generated = Keyring::generate().expect("generate");
        assert!(Keyring::from_hex([generated.as_str()]).is_ok());
        assert!(format!("{:?}", Keyring::from_hex([A]).expect("ring")).contains("key_ids"));
    }

    proptest! {
        #[test]
        fn anything_round_trips(plain in proptest::collection::vec(any::<u8>(), 0..200), column in "[a-z.]{1,12}") {
            let ring = Keyring::from_hex([A]).expect("ring");
            let sealed = ring.seal(&column, &plain).expect("seal");
            prop_assert_eq!(ring.open(&column, &sealed).expect("open"), plain);
        }

        #[test]
        fn opening_garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            let ring = Keyring::from_hex([A]).expect("ring");
            let _ = ring.open("c", &bytes);
        }
    }
}
