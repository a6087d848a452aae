//! `cdihub show E12` / `cdihub show crm:1001`: the golden record with provenance, and its members.

use crate::config_file;
use anyhow::{Context, Result, anyhow};
use model::EntityId;
use share::subject::subject_named;
use std::path::Path;
use store::{Store, Subject};

/// Arguments of `show`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// An entity id (E12) or a source record (source:id).
    pub target: String,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// The entity a command-line argument names: an entity id (`E12`), or the entity of a source record (`crm:1001`).
pub fn entity_named(store: &dyn Store, text: &str) -> Result<EntityId> {
    match subject_named(text).map_err(|m| anyhow!(m))? {
        Subject::Entity(id) => Ok(id),
        Subject::Record(key) => store.entity_of(&key)?.with_context(|| {
            format!("record {key} is not in any entity (not ingested, quarantined, or not resolved yet)")
        }),
    }
}

/// Prints the entity.
pub fn run(config: &Path, args: Args) -> Result<()> {
    let (_, store) = config_file::load_with_store(config)?;
    let id = entity_named(&store, &args.target)?;
    let view = store.entity(id)?.with_context(|| format!("no entity {id}"))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&view)?);
        return Ok(());
    }
    if let Some(old) = view.redirected_from {
        println!("{old} was merged into {}", view.id);
    }
    println!("entity {}", view.id);
    for v in &view.golden.values {
        println!("  {:<24} {:<36} from {} ({})", v.attribute, v.value, v.from, v.rule);
    }
    println!("members ({}):", view.members.len());
    for (key, rec) in &view.members {
        let name = [
            rec.name.given.as_deref().or(rec.name.initials.as_deref()),
            rec.name.prefix.as_deref(),
            rec.name.family.as_deref(),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
        let birth = rec.birth_date.map(|d| d.to_string()).unwrap_or_default();
        println!("  {key:<24} {name:<32} {birth}");
    }
    Ok(())
}
