//! `cdihub demo`: the whole pipeline on generated data with no set-up — generate → ingest → resolve → evaluate
//! against the generated truth — then a summary of what happened and what to try next.

use crate::{generate, pipeline};
use anyhow::{Context, Result};
use std::path::PathBuf;
use std::time::Instant;

/// Arguments of `demo`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Directory for the demo data and database (replaced if it exists).
    #[arg(long, default_value = "cdihub-demo")]
    pub dir: PathBuf,
    /// About how many source records to generate.
    #[arg(long, default_value_t = 10_000)]
    pub records: u64,
    /// Random seed of the generated data.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Then serve the HTTP API on the demo data until Ctrl-C (plain `demo` exits when done).
    #[arg(long)]
    pub serve: bool,
    /// Address for --serve; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
}

/// Runs the demo and prints the summary.
pub fn run(args: Args, quiet: bool) -> Result<()> {
    crate::batch_memory::without_huge_pages();
    let started = Instant::now();
    for stale in ["cdihub.db", "cdihub.db-wal", "cdihub.db-shm"] {
        let path = args.dir.join(stale);
        if path.exists() {
            std::fs::remove_file(&path)
                .with_context(|| format!("removing the previous demo database {}", path.display()))?;
        }
    }
    let generated = generate::generate(&args.dir, args.records, args.seed)?;
    let total: u64 = generated.records.iter().map(|(_, n)| n).sum();
    println!("generated {total} records of {} people in 4 sources (crm, webshop, support, billing)", generated.people);
    let config = crate::config_file::load(&generated.config)?;
    let mut store = crate::config_file::open_store(&config)?;
    let ingest_clock = Instant::now();
    for s in store.in_bulk(|store| pipeline::ingest(&config, store, None, quiet))? {
        super::ingest::print_ingest(&s);
    }
    let ingest_secs = ingest_clock.elapsed().as_secs_f64();
    let resolve_clock = Instant::now();
    let summary = store.in_bulk(|store| pipeline::resolve(&config, store, quiet))?;
    let resolve_secs = resolve_clock.elapsed().as_secs_f64();
    super::ingest::print_resolve(&summary);
    let truth = super::eval::Truth::File(super::eval::read_truth(&generated.truth)?);
    let evaluation = super::eval::evaluate(&store, &truth, config.master.match_threshold)?;
    println!();
    super::eval::print(&evaluation);
    let stats = store::Store::stats(&store)?;
    let quarantined: u64 = stats.sources.iter().map(|(_, _, q)| q).sum();
    let c = generated.config.display();
    println!();
    println!("summary");
    println!(
        "  records      {total} read, {quarantined} quarantined whole, {} quarantine entries in all",
        stats.quarantine_entries
    );
    println!("  entities     {} golden records ({} people in the truth)", stats.entities, generated.people);
    println!(
        "  accuracy     cluster precision {:.4}, recall {:.4}, F1 {:.4}",
        evaluation.cluster.precision, evaluation.cluster.recall, evaluation.cluster.f1
    );
    println!(
        "  time         ingest {ingest_secs:.2}s, resolve {resolve_secs:.2}s, total {:.2}s",
        started.elapsed().as_secs_f64()
    );
    println!("  database     {}", config.store_path().display());
    println!();
    let binary = std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_else(|_| "cdihub".into());
    println!("try next (cdihub is {binary}):");
    println!("  cdihub -c {c} search de vries");
    println!("  cdihub -c {c} show crm:K000001");
    println!("  cdihub -c {c} review");
    println!("  cdihub -c {c} quarantine");
    println!("  cdihub -c {c} model");
    println!("  cdihub -c {c} export --format ndjson -o golden.ndjson");
    println!("  cdihub -c {c} gdpr export crm:K000001   # everything held on one person");
    println!("  cdihub -c {c} serve        # the HTTP API");
    if args.serve {
        println!();
        // Every endpoint but /health needs a key: the demo issues an admin key that lives one day.
        let roles = govern::Roles::new(&config);
        let request = share::api_keys::KeyRequest {
            name: "demo".into(),
            role: "admin".into(),
            expires_in_days: Some(1),
            created_by: "demo".into(),
        };
        let (_, token) = share::api_keys::issue(&mut store, &roles, request, crate::config_file::now())
            .context("issuing the demo's API key")?;
        println!("serving the HTTP API on this data until Ctrl-C; an admin API key for it (valid one day):");
        println!("  {token}");
        println!("try: curl -H 'Authorization: Bearer {token}' 'http://ADDRESS/lookup?source=crm&id=K000001'");
        super::serve::serve(config, store, &args.listen)?;
    }
    Ok(())
}
