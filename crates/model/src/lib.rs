//! The canonical vocabulary of cdihub: what a source record is, what the canonical customer schema looks like,
//! what cleaning produces, and what a golden record is.
//!
//! Key types: [`SourceRecord`] (raw, as a connector read it), [`CustomerRecord`] (mapped onto the canonical
//! schema), [`CleanRecord`] (standardised), [`Golden`] (one surviving value per attribute, with provenance),
//! and [`Config`] (the `cdihub.toml` schema). This crate does no IO beyond parsing a config string.

mod access;
mod clean_record;
mod config;
mod customer;
mod field;
mod golden;
mod issue;
mod source_record;

pub use access::{BUILT_IN_ROLES, Permission, RoleConfig};
pub use clean_record::{BirthDate, CleanAddress, CleanRecord, PersonName};
pub use config::{
    AuthRequirement, BlockingRule, Config, ConfigError, DeterministicRule, Encoding, EncryptionConfig, FieldSource,
    MasterConfig, OidcConfig, ServerConfig, SourceConfig, SourceFormat, StoreConfig, SurvivorshipConfig,
    SurvivorshipRule, WebhookConfig,
};
pub use customer::CustomerRecord;
pub use field::Field;
pub use golden::{EntityId, Golden, GoldenValue, GoldenValueView, GoldenView};
pub use issue::{Issue, Severity};
pub use source_record::{RawFields, RawLayout, RecordKey, SourceRecord};
