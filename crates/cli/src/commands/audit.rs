//! `cdihub audit`: list the audit trail and verify its hash chain; and the entries commands add for the changes
//! they make (`record`).

use crate::config_file::{self, now};
use anyhow::Result;
use std::path::Path;
use store::{NewAuditEntry, Store};

/// Arguments of `audit`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Check the hash chain: exits with an error naming the first entry that was altered, removed or reordered.
    Verify {
        /// An entry's `SEQ:HASH` noted earlier (`cdihub audit head`), kept away from the database: the trail must
        /// still hold it, which catches the newest entries being cut off.
        #[arg(long)]
        anchor: Option<String>,
    },
    /// Print the newest entry's `SEQ:HASH`, to keep elsewhere as an anchor for `verify --anchor`.
    Head,
    /// List entries, oldest first.
    List {
        /// Entries after this sequence number.
        #[arg(long, default_value_t = 0)]
        after: i64,
        /// Most entries.
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
}

/// Runs `audit`.
pub fn run(config: &Path, args: Args) -> Result<()> {
    let (_, store) = config_file::load_with_store(config)?;
    match args.action {
        Action::Verify { anchor } => {
            let checked = match store.verify_audit()? {
                Err(b) => anyhow::bail!("the audit trail was tampered with: {b}"),
                Ok(n) => n,
            };
            if let Some(anchor) = anchor {
                let (seq, hash) = anchor
                    .split_once(':')
                    .and_then(|(s, h)| s.parse::<i64>().ok().map(|s| (s, h)))
                    .filter(|(s, h)| *s > 0 && h.len() == 64)
                    .ok_or_else(|| anyhow::anyhow!("--anchor must be SEQ:HASH as `cdihub audit head` prints it"))?;
                match store.audit(seq - 1, 1)?.first() {
                    Some(e) if e.seq == seq && e.hash == hash => {}
                    Some(e) if e.seq == seq => anyhow::bail!(
                        "the audit trail was tampered with: entry {seq} no longer has the anchored hash (now {})",
                        e.hash
                    ),
                    _ => anyhow::bail!(
                        "the audit trail was tampered with: the anchored entry {seq} is gone (the trail ends at {checked})"
                    ),
                }
            }
            println!("audit trail intact: {checked} entries, hash chain verified");
        }
        Action::Head => match store.audit_head()? {
            Some((seq, hash)) => println!("{seq}:{hash}"),
            None => println!("0:{}", govern::audit::GENESIS),
        },
        Action::List { after, limit } => {
            for e in store.audit(after, limit)? {
                println!(
                    "{:>6}  {}  {:<7} {:<24} {:<15} {:>3}  {}",
                    e.seq, e.at, e.action, e.actor, e.origin, e.status, e.target
                );
            }
        }
    }
    Ok(())
}

/// Records a change made by a command (`target` says what) as the operating-system user running it.
pub fn record(store: &mut dyn Store, target: String) -> Result<()> {
    record_as(store, "change", target)
}

/// Records what a command did (`change`, or `read` of personal data unmasked) as the operating-system user.
pub fn record_as(store: &mut dyn Store, action: &str, target: String) -> Result<()> {
    let entry = NewAuditEntry { actor: actor(), action: action.into(), target, origin: "local".into(), status: 0 };
    store.append_audit(&entry, now())?;
    Ok(())
}

/// Records that the command line just run showed personal data unmasked (`show`, `search`, `export`, …): the
/// command line is the target.
pub fn record_read(config: &Path) -> Result<()> {
    let (_, mut store) = config_file::load_with_store(config)?;
    let target = std::env::args().skip(1).collect::<Vec<_>>().join(" ");
    record_as(&mut store, "read", target)
}

/// How the audit trail and lineage name the operating-system user running a command: `cli:alice`.
pub fn actor() -> String {
    let user = std::env::var("USER").or_else(|_| std::env::var("USERNAME")).unwrap_or_else(|_| "unknown".into());
    format!("cli:{user}")
}
