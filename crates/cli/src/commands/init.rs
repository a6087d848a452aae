//! `cdihub init`: a starter configuration and an empty database.

use crate::config_file;
use anyhow::{Context, Result};
use std::path::Path;

/// Arguments of `init`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Overwrite an existing configuration file.
    #[arg(long)]
    pub force: bool,
}

/// The starter configuration: one CSV source, every setting shown with its default.
pub const STARTER: &str = r#"# cdihub configuration. Paths are relative to this file.
[store]
path = "cdihub.db"

# One [[source]] per source system. `fields` maps canonical fields to the source's columns:
# given_name, family_name, name_prefix, initials, full_name, birth_date, email, phone, street, house_number,
# house_number_addition, address_line, postcode, city, country, organisation, updated_at.
# A field may take several columns: email = ["email", "email_work"]. JSON sources use dotted paths: "address.city".
[[source]]
name = "crm"
format = "csv"              # csv | ndjson | json
path = "crm.csv"
id = "customer_id"          # column holding the record id
trust = 2                   # higher wins the `trust` survivorship rule
encoding = "auto"           # auto | utf-8 | latin1
# delimiter = ";"           # detected when absent
country = "NL"              # default country for phones and postcodes
# date_order = "dmy"        # dmy | mdy, for ambiguous dates like 03/04/1980
# required = ["family_name"]
[source.fields]
full_name = "name"
email = "email"
phone = "phone"
address_line = "address"
postcode = "zip"
city = "city"
birth_date = "date_of_birth"
[source.identifiers]
# crm_number = "customer_id"
# Consent per purpose and channel -> the column with the answer (yes/no, opt-in/opt-out, ...); one refusal
# among an entity's records wins.
# [source.consent]
# email_marketing = "newsletter"

[master]
match_threshold = 0.7       # merge at or above this probability
review_threshold = 0.3      # steward review between the two thresholds
within_source = true        # false: only link records of different sources
# blocking = [["email"], ["phone"], ["postcode", "house_number"]]   # default rules suit most data
# [[master.rules]]          # deterministic rules beside the model
# name = "same_email"
# keys = ["email"]

[survivorship]
default = ["trust", "recent", "complete"]
# [survivorship.attributes]
# email = ["recent", "trust"]

# Delivery of the change feed to webhooks registered with `POST /webhooks` (cdihub serve).
[webhooks]
batch = 100                 # most events in one delivery
timeout_ms = 10000          # a delivery not answered 2xx within this is retried
first_retry_ms = 1000       # first pause after a failure; doubles per failure
max_retry_ms = 600000       # longest pause between retries
poll_ms = 200               # how often an idle webhook looks for new events

# Roles for API keys beside the built-in admin, steward, analyst, ingest-service and auditor
# (issue keys with `cdihub api-keys create --name NAME --role ROLE`).
# [roles.marketing]
# permissions = ["entities.read", "feed.read"]

# Single sign-on: bearer tokens (JWT) from an OpenID Connect provider, beside API keys.
# [oidc]
# issuer = "https://login.example.com/realms/acme"
# audience = "cdihub"
# role_claim = "roles"      # the claim naming the caller's cdihub role
# [oidc.require.admin]      # demand multi-factor login for a role
# amr = ["mfa", "hwk", "otp"]

# Encryption of personal data at rest (AES-256-GCM). Keys: `cdihub keys generate`; current key first.
# [encryption]
# key_file = "cdihub.keys"  # or: key_env = "CDIHUB_KEYS"

# HTTPS for `cdihub serve`: a certificate chain and its key (PEM). Without them it speaks plain HTTP.
# [server]
# tls_cert = "cert.pem"
# tls_key = "key.pem"
"#;

/// Writes the starter configuration (unless one exists) and creates the database.
pub fn run(config_path: &Path, args: Args) -> Result<()> {
    if config_path.exists() && !args.force {
        println!("{} already exists (use --force to overwrite)", config_path.display());
    } else {
        std::fs::write(config_path, STARTER).with_context(|| format!("writing {}", config_path.display()))?;
        println!("wrote {}", config_path.display());
    }
    let config = config_file::load(config_path)?;
    config_file::open_store(&config)?;
    println!("database ready at {}", config.store_path().display());
    println!("next: describe your sources in {}, then `cdihub ingest` and `cdihub resolve`", config_path.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_starter_config_is_valid() {
        let parsed = model::Config::parse(super::STARTER, std::path::Path::new("."));
        assert!(parsed.is_ok(), "{parsed:?}");
    }
}
