//! `cdihub export`: golden records as CSV or NDJSON, or memberships with `--members`.

use crate::config_file;
use anyhow::{Context, Result};
use share::ExportFormat;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Arguments of `export`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// csv or ndjson.
    #[arg(long, default_value = "csv", value_parser = ["csv", "ndjson"])]
    pub format: String,
    /// One `source,source_id,entity_id` row per source record instead of golden records.
    #[arg(long)]
    pub members: bool,
    /// Only entities whose consent for this purpose is granted (`email_marketing`; see `[source.consent]`).
    #[arg(long, conflicts_with = "members")]
    pub consent: Option<String>,
    /// Output file (default: standard output).
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

/// Writes the export.
pub fn run(config: &Path, args: Args) -> Result<()> {
    let (_, store) = config_file::load_with_store(config)?;
    let mut out: Box<dyn Write> = match &args.output {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let count = if args.members {
        share::export_members(&store, &mut out)?
    } else {
        let format = if args.format == "ndjson" { ExportFormat::Ndjson } else { ExportFormat::Csv };
        share::export_golden(&store, format, args.consent.as_deref(), &mut out)?
    };
    out.flush()?;
    if let Some(p) = &args.output {
        eprintln!("wrote {count} rows to {}", p.display());
    }
    Ok(())
}
