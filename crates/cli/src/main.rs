//! `cdihub`: the command line. Parses arguments, loads `cdihub.toml`, runs one command and prints the error
//! chain if it fails. The work itself lives in the library crates; this file only wires them.

mod batch_memory;
mod commands;
mod config_file;
mod generate;
mod golden_chunks;
mod pipeline;
mod progress;

use clap::{Parser, Subcommand};

/// mimalloc: the pipeline allocates many small strings on several threads, where it is markedly faster than
/// the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::path::PathBuf;
use std::process::ExitCode;

/// Customer data integration hub: connect, clean, master and share customer records.
#[derive(Debug, Parser)]
#[command(name = "cdihub", version, about)]
struct Cli {
    /// Configuration file.
    #[arg(long, short, global = true, default_value = "cdihub.toml")]
    config: PathBuf,
    /// No progress bars.
    #[arg(long, short, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write a starter cdihub.toml and create the database.
    Init(commands::init::Args),
    /// Read sources (all, or the one named) into the store: map, clean, validate, version.
    Ingest(commands::ingest::Args),
    /// Match all records, cluster them into entities and build golden records.
    Resolve,
    /// Show an entity (E123) or the entity of a source record (source:id).
    Show(commands::show::Args),
    /// Search entities by name, email, phone or postcode.
    Search(commands::search::Args),
    /// Export golden records (CSV or NDJSON), or memberships with --members.
    Export(commands::export::Args),
    /// List quarantined records and values with their reasons.
    Quarantine(commands::quarantine::Args),
    /// List the pairs waiting for a data steward's review.
    Review(commands::review::Args),
    /// Serve the HTTP API (entities, lookup, search, explain; OpenAPI at /openapi.json, docs at /docs).
    Serve(commands::serve::Args),
    /// Issue, list and revoke the API keys the HTTP API accepts.
    #[command(name = "api-keys")]
    ApiKeys(commands::api_keys::Args),
    /// Verify the audit trail's hash chain, or list its entries.
    Audit(commands::audit::Args),
    /// Make an encryption key, or re-encrypt the database under the current one.
    Keys(commands::keys::Args),
    /// Purge records their source stopped sending, after the source's retention_days.
    Retention(commands::retention::Args),
    /// A person's rights: export everything held about them, erase it, list the erasure receipts.
    Gdpr(commands::gdpr::Args),
    /// Explain the match score of two source records (source:id source:id).
    Explain(commands::explain::Args),
    /// Print the trained match model, or move it between hubs (`--export FILE`, `--import FILE`).
    Model(commands::explain::ModelArgs),
    /// Score the stored result against a ground truth.
    Eval(commands::eval::Args),
    /// Generate synthetic multi-source customer data with ground truth and a config to load it.
    Generate(generate::Args),
    /// Generate, ingest, resolve and evaluate a demo data set in one go.
    Demo(commands::demo::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Commands that print personal data unmasked are audited as reads, like the API's.
    let reads_personal_data = matches!(
        cli.command,
        Command::Show(_)
            | Command::Search(_)
            | Command::Export(_)
            | Command::Explain(_)
            | Command::Quarantine(_)
            | Command::Review(_)
    );
    let result = match cli.command {
        Command::Init(args) => commands::init::run(&cli.config, args),
        Command::Ingest(args) => commands::ingest::run(&cli.config, args, cli.quiet),
        Command::Resolve => commands::ingest::run_resolve(&cli.config, cli.quiet),
        Command::Show(args) => commands::show::run(&cli.config, args),
        Command::Search(args) => commands::search::run(&cli.config, args),
        Command::Export(args) => commands::export::run(&cli.config, args),
        Command::Quarantine(args) => commands::quarantine::run(&cli.config, args),
        Command::Review(args) => commands::review::run(&cli.config, args),
        Command::Serve(args) => commands::serve::run(&cli.config, args),
        Command::Audit(args) => commands::audit::run(&cli.config, args),
        Command::ApiKeys(args) => commands::api_keys::run(&cli.config, args),
        Command::Gdpr(args) => commands::gdpr::run(&cli.config, args),
        Command::Retention(args) => commands::retention::run(&cli.config, args),
        Command::Keys(args) => commands::keys::run(&cli.config, args),
        Command::Explain(args) => commands::explain::run(&cli.config, args),
        Command::Model(args) => commands::explain::run_model(&cli.config, args),
        Command::Eval(args) => commands::eval::run(&cli.config, args),
        Command::Generate(args) => generate::run(args),
        Command::Demo(args) => commands::demo::run(args, cli.quiet),
    };
    let result =
        result.and_then(|()| if reads_personal_data { commands::audit::record_read(&cli.config) } else { Ok(()) });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}
