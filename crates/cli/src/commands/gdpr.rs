//! `cdihub gdpr`: a person's rights — `export` everything held about them as one JSON document (right of
//! access), `erase` it (right to be forgotten, leaving a receipt), and list the `erasures` done.

use crate::commands::audit::record_as;
use crate::config_file::{self, now};
use anyhow::{Context, Result, anyhow, bail};
use share::subject::{SubjectExport, nothing_held, subject_named};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use store::{ErasureRequest, Store};

/// Arguments of `gdpr`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Everything held about a person (golden record, every source record and version, quarantine entries,
    /// history, pairs, stewards' decisions, audit entries naming them) as one JSON document.
    Export {
        /// The person: an entity id (E12) or one of their source records (source:id), also one in no entity
        /// (quarantined, or not resolved yet).
        subject: String,
        /// Write the document to this file instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Erase a person everywhere the hub keeps them, and keep only a receipt. Irreversible.
    Erase {
        /// The person: an entity id (E12) or one of their source records (source:id), also one in no entity
        /// (quarantined, or not resolved yet).
        subject: String,
        /// On whose behalf or under which request (a ticket number; kept in the receipt).
        #[arg(long)]
        requested_by: String,
        /// Why (kept in the receipt).
        #[arg(long)]
        reason: Option<String>,
        /// Do not put the source records on the suppression list (ingesting them again would bring them back).
        #[arg(long)]
        no_suppress: bool,
    },
    /// List the erasure receipts.
    Erasures,
}

/// Runs `gdpr`.
pub fn run(config: &Path, args: Args) -> Result<()> {
    let (_, mut store) = config_file::load_with_store(config)?;
    match args.action {
        Action::Export { subject, output } => {
            let who = subject_named(&subject).map_err(|m| anyhow!(m))?;
            let data = store.subject(&who)?.with_context(|| nothing_held(&who))?;
            let export = SubjectExport::new(&who, &data, now());
            let id = export.subject.clone();
            let document = serde_json::to_string_pretty(&export)?;
            match &output {
                Some(path) => {
                    std::fs::write(path, document + "\n").with_context(|| format!("cannot write {}", path.display()))?
                }
                None => writeln!(std::io::stdout().lock(), "{document}")?,
            }
            record_as(&mut store, "read", format!("gdpr export {id}"))?;
            if let Some(path) = output {
                eprintln!("exported {id}: {} records to {}", data.records.len(), path.display());
            }
        }
        Action::Erase { subject, requested_by, reason, no_suppress } => {
            let who = subject_named(&subject).map_err(|m| anyhow!(m))?;
            let requested_by = requested_by.trim().to_string();
            if requested_by.is_empty() {
                bail!("--requested-by must say on whose behalf (a ticket or case number)");
            }
            let request = ErasureRequest {
                actor: crate::commands::audit::actor(),
                requested_by,
                reason: reason.map(|r| r.trim().to_string()).filter(|r| !r.is_empty()),
                suppress: !no_suppress,
            };
            let outcome = store.erase_subject(&who, &request, now(), None)?.with_context(|| nothing_held(&who))?;
            let r = &outcome.receipt;
            // The trail names the entity, or for a record in none the receipt: not the key just erased.
            let erased = r.entity.map_or_else(|| format!("receipt {}", r.id), |e| e.to_string());
            record_as(&mut store, "change", format!("gdpr erase {erased}"))?;
            let entities: Vec<String> = r.entities.iter().map(ToString::to_string).collect();
            match r.entity {
                Some(entity) => {
                    println!("erased {entity} (entities {}): {} source records", entities.join(", "), r.records)
                }
                None => {
                    println!("erased {who} (in no entity): {} source records and its quarantine entries", r.records)
                }
            }
            println!("  receipt {}  digest {}", r.id, r.digest);
            println!("  suppressed {} source records; feed event {}", r.suppressed, outcome.event);
            if !outcome.log_cleared {
                println!(
                    "  note: readers kept the write-ahead log busy; its old pages are cleared at the next checkpoint"
                );
            }
        }
        Action::Erasures => {
            for r in store.erasures()? {
                println!(
                    "{:>5}  {}  {:<8} {:>3} records  {:<20} {:<24} {}",
                    r.id,
                    r.at,
                    r.entity.map_or_else(|| "-".to_string(), |e| e.to_string()),
                    r.records,
                    r.actor,
                    r.requested_by,
                    r.digest
                );
            }
        }
    }
    Ok(())
}
