//! One module per subcommand; each has an `Args` (when it takes any) and a `run`.

pub mod api_keys;
pub mod audit;
pub mod demo;
pub mod eval;
pub mod explain;
pub mod export;
pub mod gdpr;
pub mod ingest;
pub mod init;
pub mod keys;
pub mod quarantine;
pub mod retention;
pub mod review;
pub mod search;
pub mod serve;
pub mod show;
