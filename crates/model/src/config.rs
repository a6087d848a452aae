//! The `cdihub.toml` schema: store, sources with their column mapping, matching settings, survivorship.
//! Parsing and validation only; reading the file is the caller's job.

use crate::Field;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Everything wrong with a configuration, with enough context to fix it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The TOML itself does not parse or does not fit the schema.
    #[error("cdihub.toml: {0}")]
    Syntax(#[from] toml::de::Error),
    /// A value parses but makes no sense.
    #[error("cdihub.toml: {0}")]
    Invalid(String),
}

/// The whole configuration.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where the data lives.
    #[serde(default)]
    pub store: StoreConfig,
    /// The source systems, in declaration order.
    #[serde(default, rename = "source")]
    pub sources: Vec<SourceConfig>,
    /// Matching settings.
    #[serde(default)]
    pub master: MasterConfig,
    /// Which value survives into the golden record.
    #[serde(default)]
    pub survivorship: SurvivorshipConfig,
    /// How change-feed events are delivered to webhooks.
    #[serde(default)]
    pub webhooks: WebhookConfig,
    /// Custom roles by name, beside the built-in admin, steward, analyst, ingest-service and auditor.
    #[serde(default)]
    pub roles: BTreeMap<String, crate::RoleConfig>,
    /// How `cdihub serve` serves (TLS).
    #[serde(default)]
    pub server: ServerConfig,
    /// OpenID Connect: bearer tokens from an identity provider, accepted beside API keys.
    #[serde(default)]
    pub oidc: Option<OidcConfig>,
    /// Encryption of personal data at rest; absent: stored as it is.
    #[serde(default)]
    pub encryption: Option<EncryptionConfig>,
    /// Directory relative paths are resolved against (the config file's directory).
    #[serde(skip)]
    pub base_dir: PathBuf,
}

/// Store settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// SQLite database file, relative to the config file.
    #[serde(default = "default_store_path")]
    pub path: String,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig { path: default_store_path() }
    }
}

fn default_store_path() -> String {
    "cdihub.db".to_string()
}

/// File formats a source can be read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceFormat {
    /// Delimited text with a header row.
    Csv,
    /// One JSON object per line.
    Ndjson,
    /// One JSON array of objects.
    Json,
}

/// Text encodings a CSV source can be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    /// UTF-8 when the file is valid UTF-8, otherwise Windows-1252 (a superset of Latin-1).
    #[default]
    Auto,
    /// UTF-8; invalid bytes are an error.
    #[serde(alias = "utf-8", alias = "UTF-8")]
    Utf8,
    /// ISO-8859-1 / Windows-1252.
    #[serde(alias = "latin-1", alias = "iso-8859-1", alias = "windows-1252", alias = "cp1252")]
    Latin1,
}

/// One column name or several for one canonical field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FieldSource {
    /// A single column (or dotted path into a JSON document).
    One(String),
    /// Several columns, e.g. `["email_home", "email_work"]`.
    Many(Vec<String>),
}

impl FieldSource {
    /// The column names, in order.
    pub fn columns(&self) -> Vec<&str> {
        match self {
            FieldSource::One(c) => vec![c.as_str()],
            FieldSource::Many(cs) => cs.iter().map(String::as_str).collect(),
        }
    }
}

/// One source system.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// Short unique name, used in record keys (`crm:1001`).
    pub name: String,
    /// File format.
    pub format: SourceFormat,
    /// File path, relative to the config file.
    pub path: String,
    /// Column (or dotted path) that holds the record's identifier in the source.
    pub id: String,
    /// Higher is more trusted by the `trust` survivorship rule.
    #[serde(default)]
    pub trust: i32,
    /// Text encoding (CSV only; JSON is always UTF-8).
    #[serde(default)]
    pub encoding: Encoding,
    /// Field delimiter (CSV only); detected from the header line when absent.
    #[serde(default)]
    pub delimiter: Option<String>,
    /// Default country (ISO code) for phone numbers and postcodes without one.
    #[serde(default)]
    pub country: Option<String>,
    /// Order of day and month in ambiguous dates such as 03/04/1980: `dmy` (default) or `mdy`.
    #[serde(default)]
    pub date_order: Option<String>,
    /// Canonical field name → source column(s).
    #[serde(default)]
    pub fields: BTreeMap<String, FieldSource>,
    /// Identifier name → source column.
    #[serde(default)]
    pub identifiers: BTreeMap<String, String>,
    /// Extra attribute name → source column.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// Consent purpose (and channel) → source column holding the customer's answer: `email_marketing =
    /// "newsletter_opt_in"`. Answers are yes/no, true/false, 1/0, opt-in/opt-out and the like.
    #[serde(default)]
    pub consent: BTreeMap<String, String>,
    /// Purge records this source has not sent (in a file ingest or over the API) for this many days; their
    /// entities' golden records are recomputed. Absent: kept until deleted.
    #[serde(default)]
    pub retention_days: Option<u32>,
    /// Canonical fields a record must have; records without them are quarantined.
    #[serde(default)]
    pub required: Vec<String>,
}

impl SourceConfig {
    /// The field mapping with canonical field names resolved.
    pub fn mapping(&self) -> Result<Vec<(Field, Vec<String>)>, ConfigError> {
        self.fields
            .iter()
            .map(|(name, source)| {
                let field: Field =
                    name.parse().map_err(|e| ConfigError::Invalid(format!("source `{}`: {e}", self.name)))?;
                Ok((field, source.columns().into_iter().map(str::to_string).collect()))
            })
            .collect()
    }

    /// The delimiter as one byte, if configured.
    pub fn delimiter_byte(&self) -> Result<Option<u8>, ConfigError> {
        let Some(d) = &self.delimiter else {
            return Ok(None);
        };
        let d = if d == "\\t" || d == "tab" { "\t" } else { d.as_str() };
        match d.as_bytes() {
            [b] => Ok(Some(*b)),
            _ => Err(ConfigError::Invalid(format!(
                "source `{}`: delimiter must be one ASCII character, got `{d}`",
                self.name
            ))),
        }
    }

    /// True when ambiguous dates put the month first (US style).
    pub fn month_first(&self) -> bool {
        self.date_order.as_deref().is_some_and(|o| o.eq_ignore_ascii_case("mdy"))
    }
}

/// A blocking rule: the match keys two records must share to be compared (e.g. `["postcode", "house_number"]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BlockingRule(pub Vec<String>);

/// A deterministic rule: records that agree exactly on all these match keys are the same customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeterministicRule {
    /// Name recorded as the reason of the match.
    pub name: String,
    /// Match keys that must all be present and equal.
    pub keys: Vec<String>,
}

/// Matching settings; every value has a default that suits typical customer data.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MasterConfig {
    /// Match probability at or above which two records are merged. The probability is calibrated (it weighs
    /// the evidence against unrelated and related records), so 0.7 means "seven in ten likely the same person".
    pub match_threshold: f64,
    /// Match probability at or above which (and below `match_threshold`) a pair goes to the review queue.
    pub review_threshold: f64,
    /// Compare records of the same source with each other (false: link across sources only).
    pub within_source: bool,
    /// Blocking rules; absent means the built-in defaults.
    pub blocking: Option<Vec<BlockingRule>>,
    /// Blocks with more records than this are split by birth year and by city (a common name shared by a dozen
    /// people is not a reason to compare them all: the pairs that matter share more than the name), by whichever
    /// of the two the rule does not fix already (a rule with the city splits by birth year only); reported in the
    /// run summary. Default 8.
    pub sub_block_above: usize,
    /// Blocks (or sub-blocks) with more records than this are skipped, and reported in the run summary.
    pub max_block_size: usize,
    /// Deterministic rules applied beside the probabilistic model.
    pub rules: Vec<DeterministicRule>,
    /// When merging two clusters, a cross pair below this probability vetoes the merge unless the cross pairs
    /// on average say "same" (anti-chaining guard).
    pub guard_threshold: f64,
    /// Random pairs sampled to estimate u-probabilities (default 300,000; a fifth as many namesake pairs
    /// estimate the email levels made of the name).
    pub u_sample_pairs: usize,
    /// Candidate pairs sampled per blocking rule for EM training of m-probabilities.
    pub em_sample_pairs: usize,
}

impl Default for MasterConfig {
    fn default() -> Self {
        MasterConfig {
            match_threshold: 0.7,
            review_threshold: 0.3,
            within_source: true,
            blocking: None,
            sub_block_above: 8,
            max_block_size: 1000,
            rules: Vec::new(),
            guard_threshold: 0.01,
            u_sample_pairs: 300_000,
            em_sample_pairs: 200_000,
        }
    }
}

/// Delivery of change-feed events to registered webhooks: each endpoint receives its events in feed order, in
/// batches; a failed batch is retried (exponential backoff with jitter, from `first_retry_ms` up to
/// `max_retry_ms`) until the endpoint accepts it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebhookConfig {
    /// Most events in one delivery (default 100).
    pub batch: usize,
    /// How long one delivery may take, connecting included, before it counts as failed (default 10,000 ms).
    pub timeout_ms: u64,
    /// Wait before the first retry (default 1,000 ms); each further failure doubles it.
    pub first_retry_ms: u64,
    /// Longest wait between retries (default 600,000 ms: ten minutes).
    pub max_retry_ms: u64,
    /// How often an idle endpoint looks for new events (default 200 ms).
    pub poll_ms: u64,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookConfig { batch: 100, timeout_ms: 10_000, first_retry_ms: 1_000, max_retry_ms: 600_000, poll_ms: 200 }
    }
}

/// How `cdihub serve` serves: with a certificate and its key (PEM files, relative to the config file), over TLS
/// only; without, plain HTTP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// The certificate chain, leaf first (PEM).
    #[serde(default)]
    pub tls_cert: Option<String>,
    /// Its private key (PEM: PKCS#8, PKCS#1 or SEC1).
    #[serde(default)]
    pub tls_key: Option<String>,
    /// How often a running server purges records past their source's `retention_days` (default 3,600 s; the
    /// first run is at start).
    #[serde(default = "default_retention_every")]
    pub retention_every_seconds: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig { tls_cert: None, tls_key: None, retention_every_seconds: default_retention_every() }
    }
}

fn default_retention_every() -> u64 {
    3_600
}

/// OpenID Connect bearer tokens (`[oidc]`): JWTs signed by the identity provider (keys from its JWKS), naming the
/// caller's cdihub role in a claim. Multi-factor login is the provider's job; a role can demand proof of it
/// (`[oidc.require.ROLE]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcConfig {
    /// The provider's issuer URL, exactly as tokens carry it in `iss`.
    pub issuer: String,
    /// The audience tokens must be issued for (`aud`): the client id cdihub is registered under.
    pub audience: String,
    /// Where the signing keys are published; default: the `jwks_uri` of `<issuer>/.well-known/openid-configuration`.
    #[serde(default)]
    pub jwks_url: Option<String>,
    /// The claim listing the caller's roles (a string or a list; a dotted path reaches into objects, as in
    /// `realm_access.roles`); the first role cdihub knows is taken. Default `roles`.
    #[serde(default = "default_role_claim")]
    pub role_claim: String,
    /// Clock skew tolerated on `exp` and `nbf`, in seconds (default 60).
    #[serde(default = "default_leeway")]
    pub leeway_seconds: u64,
    /// Per role, the authentication a token must prove (`amr` methods, `acr` levels; any one listed suffices).
    #[serde(default)]
    pub require: BTreeMap<String, AuthRequirement>,
}

/// Where the encryption keys come from (`[encryption]`): each a 32-byte key as 64 hex digits (`cdihub keys
/// generate`), the current one first, older ones after it until `cdihub keys rotate` has re-encrypted everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EncryptionConfig {
    /// A file with one key per line (`#` starts a comment), relative to the config file.
    #[serde(default)]
    pub key_file: Option<String>,
    /// An environment variable holding the keys, separated by commas or spaces (default `CDIHUB_KEYS`; used when
    /// no `key_file` is given).
    #[serde(default)]
    pub key_env: Option<String>,
}

impl EncryptionConfig {
    /// The environment variable read when there is no key file.
    pub fn env_name(&self) -> &str {
        self.key_env.as_deref().unwrap_or("CDIHUB_KEYS")
    }
}

/// What a token must show about how its holder logged in, for one role.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthRequirement {
    /// Accepted authentication methods (`amr` claim), e.g. `["mfa", "hwk", "otp"]`: at least one must be present.
    #[serde(default)]
    pub amr: Vec<String>,
    /// Accepted authentication context classes (`acr` claim): the token's must be one of them.
    #[serde(default)]
    pub acr: Vec<String>,
}

fn default_role_claim() -> String {
    "roles".to_string()
}

fn default_leeway() -> u64 {
    60
}

/// A survivorship rule: how to choose among the members' values of one attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SurvivorshipRule {
    /// The value from the most trusted source.
    Trust,
    /// The value from the most recently updated record.
    Recent,
    /// The most complete value (longest, most parts).
    Complete,
    /// The value most members agree on.
    Frequent,
}

impl SurvivorshipRule {
    /// The rule's name as stored in provenance.
    pub fn name(self) -> &'static str {
        match self {
            SurvivorshipRule::Trust => "trust",
            SurvivorshipRule::Recent => "recent",
            SurvivorshipRule::Complete => "complete",
            SurvivorshipRule::Frequent => "frequent",
        }
    }
}

/// Survivorship per attribute: an ordered list of rules, each breaking the ties of the one before.
/// Attributes named in the file replace the built-in rules of those attributes only.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(from = "SurvivorshipOverrides")]
pub struct SurvivorshipConfig {
    /// Rules for attributes not listed in `attributes`.
    pub default: Vec<SurvivorshipRule>,
    /// Attribute name → rules.
    pub attributes: BTreeMap<String, Vec<SurvivorshipRule>>,
}

impl Default for SurvivorshipConfig {
    fn default() -> Self {
        use SurvivorshipRule::*;
        let names = [Frequent, Trust, Recent];
        let contact = [Recent, Trust, Frequent];
        let mut attributes = BTreeMap::new();
        for a in ["given_name", "family_name", "name_prefix", "initials", "birth_date"] {
            attributes.insert(a.to_string(), names.to_vec());
        }
        for a in ["email", "phone", "address"] {
            attributes.insert(a.to_string(), contact.to_vec());
        }
        SurvivorshipConfig { default: vec![Trust, Recent, Complete], attributes }
    }
}

/// What the file says about survivorship, before it is laid over the defaults.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SurvivorshipOverrides {
    #[serde(default)]
    default: Option<Vec<SurvivorshipRule>>,
    #[serde(default)]
    attributes: BTreeMap<String, Vec<SurvivorshipRule>>,
}

impl From<SurvivorshipOverrides> for SurvivorshipConfig {
    fn from(o: SurvivorshipOverrides) -> Self {
        let mut config = SurvivorshipConfig::default();
        if let Some(default) = o.default {
            config.default = default;
        }
        config.attributes.extend(o.attributes);
        config
    }
}

impl SurvivorshipConfig {
    /// The rules that decide `attribute`.
    pub fn rules_for(&self, attribute: &str) -> &[SurvivorshipRule] {
        self.attributes.get(attribute).map(Vec::as_slice).unwrap_or(&self.default)
    }
}

impl Config {
    /// Parses and validates a configuration; `base_dir` anchors relative paths.
    pub fn parse(text: &str, base_dir: &Path) -> Result<Config, ConfigError> {
        let mut config: Config = toml::from_str(text)?;
        config.base_dir = base_dir.to_path_buf();
        config.validate()?;
        Ok(config)
    }

    /// Resolves a path from the config against its directory.
    pub fn resolve(&self, path: &str) -> PathBuf {
        let p = Path::new(path);
        if p.is_absolute() { p.to_path_buf() } else { self.base_dir.join(p) }
    }

    /// The sources that purge records after `retention_days`: (name, days), in declaration order.
    pub fn retention(&self) -> Vec<(String, u32)> {
        self.sources.iter().filter_map(|s| s.retention_days.map(|d| (s.name.clone(), d))).collect()
    }

    /// The SQLite file this configuration uses.
    pub fn store_path(&self) -> PathBuf {
        self.resolve(&self.store.path)
    }

    /// The source with this name.
    pub fn source(&self, name: &str) -> Option<&SourceConfig> {
        self.sources.iter().find(|s| s.name == name)
    }

    /// A declared source's position in the configuration (its index in match features); `u32::MAX` for a source
    /// the configuration no longer declares.
    pub fn source_index(&self, name: &str) -> u32 {
        self.sources.iter().position(|s| s.name == name).map_or(u32::MAX, |i| i as u32)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |m: String| Err(ConfigError::Invalid(m));
        let mut seen = std::collections::BTreeSet::new();
        for s in &self.sources {
            if s.name.is_empty() || s.name.contains(':') || s.name.contains(char::is_whitespace) {
                return invalid(format!("source name `{}` must be non-empty, without spaces or colons", s.name));
            }
            if !seen.insert(s.name.as_str()) {
                return invalid(format!("source `{}` is declared twice", s.name));
            }
            if s.id.trim().is_empty() {
                return invalid(format!("source `{}`: `id` must name the column holding the record id", s.name));
            }
            s.mapping()?;
            s.delimiter_byte()?;
            if s.retention_days == Some(0) {
                return invalid(format!("source `{}`: retention_days must be at least 1", s.name));
            }
            for purpose in s.consent.keys() {
                if purpose.is_empty()
                    || !purpose.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                {
                    return invalid(format!(
                        "source `{}`: consent purpose `{purpose}` may use only lower-case letters, digits and `_`",
                        s.name
                    ));
                }
            }
            for r in &s.required {
                r.parse::<Field>().map_err(|e| ConfigError::Invalid(format!("source `{}`: required: {e}", s.name)))?;
            }
            if let Some(o) = &s.date_order
                && !["dmy", "mdy"].contains(&o.to_ascii_lowercase().as_str())
            {
                return invalid(format!("source `{}`: date_order must be `dmy` or `mdy`, got `{o}`", s.name));
            }
        }
        let m = &self.master;
        if !(0.0..=1.0).contains(&m.match_threshold) || !(0.0..=1.0).contains(&m.review_threshold) {
            return invalid("master: thresholds are probabilities between 0 and 1".into());
        }
        if m.review_threshold > m.match_threshold {
            return invalid("master: review_threshold must not exceed match_threshold".into());
        }
        if m.max_block_size < 2 {
            return invalid("master: max_block_size must be at least 2".into());
        }
        crate::access::validate_roles(&self.roles).map_err(ConfigError::Invalid)?;
        let w = &self.webhooks;
        if w.batch == 0 || w.timeout_ms == 0 || w.first_retry_ms == 0 || w.poll_ms == 0 {
            return invalid("webhooks: batch, timeout_ms, first_retry_ms and poll_ms must be above 0".into());
        }
        if w.max_retry_ms < w.first_retry_ms {
            return invalid("webhooks: max_retry_ms must not be below first_retry_ms".into());
        }
        if let Some(o) = &self.oidc {
            for (what, url) in [("issuer", Some(&o.issuer)), ("jwks_url", o.jwks_url.as_ref())] {
                if let Some(url) = url
                    && !(url.starts_with("https://") || url.starts_with("http://"))
                {
                    return invalid(format!("oidc: {what} must be an http(s) URL, got `{url}`"));
                }
            }
            if o.audience.trim().is_empty() || o.role_claim.trim().is_empty() {
                return invalid("oidc: audience and role_claim must not be empty".into());
            }
            for (role, need) in &o.require {
                let known = crate::BUILT_IN_ROLES.iter().any(|(r, _)| r == role) || self.roles.contains_key(role);
                if !known {
                    return invalid(format!("oidc.require: `{role}` is not a role"));
                }
                if need.amr.is_empty() && need.acr.is_empty() {
                    return invalid(format!("oidc.require.{role}: list the accepted `amr` or `acr` values"));
                }
            }
        }
        if self.server.retention_every_seconds == 0 {
            return invalid("server: retention_every_seconds must be above 0".into());
        }
        if self.server.tls_cert.is_some() != self.server.tls_key.is_some() {
            return invalid("server: tls_cert and tls_key go together: give both, or neither for plain HTTP".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
        [store]
        path = "hub.db"

        [[source]]
        name = "crm"
        format = "csv"
        path = "crm.csv"
        id = "klantnr"
        trust = 3
        encoding = "latin1"
        delimiter = ";"
        country = "NL"
        [source.fields]
        full_name = "naam"
        email = ["email", "email2"]
        address_line = "adres"
        [source.identifiers]
        kvk = "kvk"

        [master]
        match_threshold = 0.95
        blocking = [["email"], ["postcode", "house_number"]]
        [[master.rules]]
        name = "same_kvk"
        keys = ["identifier:kvk"]

        [survivorship.attributes]
        email = ["trust"]
    "#;

    #[test]
    fn parses_a_full_example() {
        let c = Config::parse(EXAMPLE, Path::new("/data")).expect("valid config");
        assert_eq!(c.store_path(), PathBuf::from("/data/hub.db"));
        let crm = c.source("crm").expect("crm");
        assert_eq!(crm.encoding, Encoding::Latin1);
        assert_eq!(crm.delimiter_byte().ok().flatten(), Some(b';'));
        let mapping = crm.mapping().expect("mapping");
        assert!(mapping.contains(&(Field::Email, vec!["email".into(), "email2".into()])));
        assert_eq!(c.master.match_threshold, 0.95);
        assert_eq!(c.master.review_threshold, 0.3);
        assert_eq!(c.survivorship.rules_for("email"), &[SurvivorshipRule::Trust]);
        assert_eq!(c.survivorship.rules_for("given_name")[0], SurvivorshipRule::Frequent);
    }

    fn error_of(text: &str) -> String {
        match Config::parse(text, Path::new(".")) {
            Ok(_) => panic!("expected an error for {text}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn rejects_bad_configs_with_a_reason() {
        let src = |extra: &str| format!("[[source]]\nname=\"a\"\nformat=\"csv\"\npath=\"a.csv\"\nid=\"id\"\n{extra}");
        assert!(error_of(&src("[source.fields]\nshoe = \"x\"")).contains("unknown canonical field `shoe`"));
        assert!(error_of(&src("delimiter = \";;\"")).contains("delimiter"));
        assert!(error_of(&src("colour = 1")).contains("colour"));
        assert!(error_of(&format!("{}\n{}", src(""), src(""))).contains("declared twice"));
        assert!(error_of("[master]\nmatch_threshold = 0.4\nreview_threshold = 0.6").contains("review_threshold"));
        assert!(error_of(&src("format2 = 1")).contains("format2"));
    }
}
