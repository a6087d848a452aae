//! `cdihub ingest [SOURCE]` and `cdihub resolve`.

use crate::{config_file, pipeline};
use anyhow::Result;
use std::path::Path;

/// Arguments of `ingest`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only this source (default: all).
    pub source: Option<String>,
}

/// Ingests and prints what happened per source.
pub fn run(config: &Path, args: Args, quiet: bool) -> Result<()> {
    let (config, mut store) = config_file::load_with_store(config)?;
    let summaries = store.in_bulk(|store| pipeline::ingest(&config, store, args.source.as_deref(), quiet))?;
    for s in summaries {
        print_ingest(&s);
        let c = &s.counts;
        let what = format!(
            "ingest {}: {} new, {} changed, {} quarantined",
            s.source, c.inserted, c.updated, s.quarantined_records
        );
        super::audit::record(&mut store, what)?;
    }
    Ok(())
}

/// Prints one source's ingest summary.
pub fn print_ingest(s: &pipeline::IngestSummary) {
    println!(
        "{}: read {}, new {}, changed {}, unchanged {}, quarantined records {}, dropped values {}",
        s.source,
        s.read,
        s.counts.inserted,
        s.counts.updated,
        s.counts.unchanged,
        s.quarantined_records,
        s.quarantined_values
    );
    if s.suppressed > 0 {
        println!("  skipped {} erased records on the suppression list", s.suppressed);
    }
    println!(
        "  time: {:.2}s (clean and encode {:.2}s, overlapping reading and the store writes)",
        s.seconds, s.clean_seconds
    );
}

/// Resolves and prints the summary.
pub fn run_resolve(config: &Path, quiet: bool) -> Result<()> {
    crate::batch_memory::without_huge_pages();
    let (config, mut store) = config_file::load_with_store(config)?;
    let summary = store.in_bulk(|store| pipeline::resolve(&config, store, quiet))?;
    print_resolve(&summary);
    super::audit::record(
        &mut store,
        format!("resolve: {} records into {} entities", summary.records, summary.entities),
    )?;
    Ok(())
}

/// Prints a resolve summary with its per-stage timings.
pub fn print_resolve(s: &pipeline::ResolveSummary) {
    let r = &s.report;
    println!(
        "resolved {} records into {} entities: {} candidate pairs, {} merged pairs, {} for review ({} vetoed by the chaining guard)",
        s.records, s.entities, r.candidate_pairs, r.matched_pairs, r.review_pairs, r.vetoed_pairs
    );
    let sub_blocked: u64 = r.rules.iter().map(|r| r.sub_blocked).sum();
    if sub_blocked > 0 {
        println!("  note: {sub_blocked} large blocks were split by birth year or city (master.sub_block_above)");
    }
    for rule in r.rules.iter().filter(|r| r.oversized_blocks > 0) {
        println!(
            "  note: blocking rule {} skipped {} oversized blocks ({} records); raise master.max_block_size or add a narrower rule",
            rule.rule, rule.oversized_blocks, rule.oversized_records
        );
    }
    let timings: Vec<String> = r.timings.iter().map(|(stage, secs)| format!("{stage} {secs:.2}s")).collect();
    println!("  time: {}", timings.join(", "));
}
