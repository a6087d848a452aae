//! Governance of access to customer data: roles and the permissions they grant, API keys (hashed with Argon2id,
//! shown once), the masking of personal data for callers who may not see it, and what an erasure decides (suppression keys,
//! which audit entries name a person), and the encryption of personal data at rest (AES-256-GCM keyring, blind
//! tokens). Pure: no IO.

pub mod api_key;
pub mod audit;
pub mod cipher;
pub mod erasure;
pub mod mask;
pub mod roles;

pub use api_key::{ApiKeyError, IssuedKey, KeyToken};
pub use roles::{Role, Roles};
