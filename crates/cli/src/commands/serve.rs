//! `cdihub serve`: the HTTP API over the configured store (see `share::api`), until Ctrl-C or SIGTERM.

use crate::config_file;
use anyhow::{Context, Result};
use model::Config;
use share::api::ApiState;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Arguments of `serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on; port 0 picks a free port (the address is printed).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Serve over TLS with this certificate chain (PEM); overrides `[server] tls_cert`. Needs --tls-key.
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM); overrides `[server] tls_key`.
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}

/// Serves the API until interrupted.
pub fn run(config: &Path, args: Args) -> Result<()> {
    let (mut config, store) = config_file::load_with_store(config)?;
    if let (Some(cert), Some(key)) = (args.tls_cert, args.tls_key) {
        let absolute = |p: PathBuf| std::path::absolute(&p).unwrap_or(p).display().to_string();
        config.server.tls_cert = Some(absolute(cert));
        config.server.tls_key = Some(absolute(key));
    }
    serve(config, store, &args.listen)
}

/// Serves the API over an open store on `listen` until interrupted; prints the address first. The real-time hub
/// is opened first, so a blocking index that must be built is built before the first request.
pub fn serve(config: Config, mut store: store::SqliteStore, listen: &str) -> Result<()> {
    let started = std::time::Instant::now();
    let hub = share::realtime::Hub::open(config, &mut store).context("opening the real-time hub")?;
    let seconds = started.elapsed().as_secs_f64();
    if seconds >= 1.0 {
        eprintln!("cdihub: blocking index ready in {seconds:.1} s");
    }
    if !hub.has_model() {
        eprintln!(
            "cdihub: no trained model yet: records pushed in are joined only by deterministic rules and pins \
             until `cdihub resolve` trains one"
        );
    }
    let _checkpoints = store.prepare_for_serving().context("starting WAL checkpoints")?;
    let path = hub.config().store_path();
    let keyring = config_file::keyring(hub.config())?;
    let open: share::webhooks::StoreOpener = Arc::new(move || {
        Ok(Box::new(store::SqliteStore::open_with(&path, keyring.clone())?) as Box<dyn store::Store + Send>)
    });
    let _webhooks =
        share::webhooks::Dispatcher::start(hub.config().webhooks.clone(), open).context("starting webhook delivery")?;
    let tls = match (&hub.config().server.tls_cert, &hub.config().server.tls_key) {
        (Some(cert), Some(key)) => {
            let (cert, key) = (hub.config().resolve(cert), hub.config().resolve(key));
            Some(share::api::tls::server_config(&cert, &key).context("setting up TLS")?)
        }
        _ => None,
    };
    let listen = listen.to_string();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the server")?;
    runtime.block_on(async move {
        let listener =
            tokio::net::TcpListener::bind(&listen).await.with_context(|| format!("cannot listen on {listen}"))?;
        let address = listener.local_addr()?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        println!("cdihub serving {scheme}://{address} (API documentation: {scheme}://{address}/docs)");
        std::io::stdout().flush()?;
        let retention = !hub.config().retention().is_empty();
        let every = std::time::Duration::from_secs(hub.config().server.retention_every_seconds);
        let state = Arc::new(ApiState::with_hub(Box::new(store), hub));
        if retention {
            tokio::spawn(share::api::retention_schedule(Arc::clone(&state), every));
        }
        match tls {
            Some(config) => {
                let listener = share::api::tls::TlsListener::new(listener, config)?;
                share::api::serve(listener, state, shutdown()).await.context("serving")
            }
            None => share::api::serve(listener, state, shutdown()).await.context("serving"),
        }
    })
}

/// Completes on Ctrl-C or SIGTERM: requests in flight finish, then the server stops.
async fn shutdown() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
}
