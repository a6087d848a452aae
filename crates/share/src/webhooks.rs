//! Webhooks: the change feed pushed to registered endpoints. Each endpoint has its own worker thread (a slow or
//! failing receiver holds up no other) that POSTs the feed's events after its cursor in batches, in feed order,
//! signed with HMAC-SHA256 ([`sign`]). A batch the receiver does not accept with a 2xx is retried, with
//! exponential backoff, until it is; only then does the cursor move, and it is kept in the store — so every event
//! is delivered at least once (again after a crash between the answer and the cursor update: receivers dedupe by
//! `seq`), and the events about one entity arrive in the order they happened.

pub mod sign;
mod worker;

use model::WebhookConfig;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;
use store::Store;

/// Opens a connection to the store for one worker (each thread has its own).
pub type StoreOpener = Arc<dyn Fn() -> store::Result<Box<dyn Store + Send>> + Send + Sync>;

/// What can go wrong registering or running webhooks.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// The registration is not acceptable.
    #[error("{field}: {message}")]
    Invalid {
        /// The field at fault.
        field: &'static str,
        /// Why.
        message: String,
    },
    /// The system's random source failed.
    #[error("cannot draw a random secret: {0}")]
    Random(String),
    /// A thread could not be started.
    #[error("cannot start the webhook dispatcher: {0}")]
    Thread(#[from] std::io::Error),
}

/// Checks that `url` is an absolute `http` or `https` URL with a host.
pub fn check_url(url: &str) -> Result<(), WebhookError> {
    let invalid = |message: String| WebhookError::Invalid { field: "url", message };
    let uri: axum::http::Uri = url.parse().map_err(|e| invalid(format!("`{url}` is not a URL: {e}")))?;
    match uri.scheme_str() {
        Some("http" | "https") => {}
        _ => return Err(invalid(format!("`{url}` must start with http:// or https://"))),
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(invalid(format!("`{url}` has no host")));
    }
    Ok(())
}

/// Checks that every event kind asked for exists.
pub fn check_events(events: &[String]) -> Result<(), WebhookError> {
    match events.iter().find(|e| !store::FEED_KINDS.contains(&e.as_str())) {
        Some(unknown) => Err(WebhookError::Invalid {
            field: "events",
            message: format!("unknown event kind `{unknown}`; known: {}", store::FEED_KINDS.join(", ")),
        }),
        None => Ok(()),
    }
}

/// Checks a secret chosen by the caller: 16 to 256 printable ASCII characters.
pub fn check_secret(secret: &str) -> Result<(), WebhookError> {
    if (16..=256).contains(&secret.len()) && secret.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(())
    } else {
        Err(WebhookError::Invalid {
            field: "secret",
            message: "a secret must be 16 to 256 printable ASCII characters without spaces".into(),
        })
    }
}

/// A new random signing secret: `whsec_` and 64 hex digits (256 bits from the operating system).
pub fn new_secret() -> Result<String, WebhookError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| WebhookError::Random(e.to_string()))?;
    Ok(format!("whsec_{}", sign::hex(&bytes)))
}

/// Runs the workers: one per registered webhook, started within a poll interval of its registration and ended
/// when it is removed. Stops (waiting for deliveries in flight) when dropped.
pub struct Dispatcher {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Dispatcher {
    /// Starts dispatching; `open` gives each thread its own store connection.
    pub fn start(config: WebhookConfig, open: StoreOpener) -> Result<Self, WebhookError> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread =
            std::thread::Builder::new().name("webhooks".into()).spawn(move || supervise(&config, &open, &flag))?;
        Ok(Dispatcher { stop, thread: Some(thread) })
    }
}

impl Drop for Dispatcher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Keeps one worker running per registered webhook until `stop`.
fn supervise(config: &WebhookConfig, open: &StoreOpener, stop: &Arc<AtomicBool>) {
    let poll = Duration::from_millis(config.poll_ms);
    let mut workers: HashMap<i64, JoinHandle<()>> = HashMap::new();
    let mut store: Option<Box<dyn Store + Send>> = None;
    while !stop.load(Ordering::Relaxed) {
        workers.retain(|_, w| !w.is_finished());
        let listed = connected(&mut store, open, "webhooks").map(|s| s.webhooks());
        match listed {
            None => {}
            Some(Ok(hooks)) => {
                for hook in hooks {
                    if workers.contains_key(&hook.id) {
                        continue;
                    }
                    let (config, open, stop) = (config.clone(), Arc::clone(open), Arc::clone(stop));
                    let spawned = std::thread::Builder::new()
                        .name(format!("webhook-{}", hook.id))
                        .spawn(move || worker::run(hook.id, &config, &open, &stop));
                    match spawned {
                        Ok(handle) => {
                            workers.insert(hook.id, handle);
                        }
                        Err(e) => eprintln!("cdihub: cannot start the worker of webhook {}: {e}", hook.id),
                    }
                }
            }
            Some(Err(e)) => {
                eprintln!("cdihub: webhooks: cannot list registrations: {e}");
                store = None;
            }
        }
        pause(stop, poll);
    }
    for (_, worker) in workers {
        let _ = worker.join();
    }
}

/// The connection in `slot`, opened first when there is none; `None` (and a line on stderr naming `who`) when the
/// store cannot be opened.
fn connected<'a>(
    slot: &'a mut Option<Box<dyn Store + Send>>,
    open: &StoreOpener,
    who: &str,
) -> Option<&'a mut Box<dyn Store + Send>> {
    if slot.is_none() {
        match open() {
            Ok(opened) => *slot = Some(opened),
            Err(e) => eprintln!("cdihub: {who}: cannot open the store: {e}"),
        }
    }
    slot.as_mut()
}

/// Sleeps for `duration`, or less when `stop` is raised.
fn pause(stop: &AtomicBool, duration: Duration) {
    let step = Duration::from_millis(50);
    let mut left = duration;
    while !left.is_zero() && !stop.load(Ordering::Relaxed) {
        let nap = left.min(step);
        std::thread::sleep(nap);
        left -= nap;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registrations_are_checked() {
        assert!(check_url("https://hooks.example.com/cdihub?x=1").is_ok());
        assert!(check_url("http://127.0.0.1:9000/").is_ok());
        for bad in ["ftp://example.com/", "example.com/hook", "http:///path", "", "https://exa mple.com/"] {
            assert!(check_url(bad).is_err(), "{bad} accepted");
        }
        assert!(check_events(&["entity.merged".into(), "record.quarantined".into()]).is_ok());
        let err = check_events(&["entity.deleted".into()]).expect_err("unknown kind");
        assert!(err.to_string().contains("entity.deleted"));
        assert!(check_secret("0123456789abcdef").is_ok());
        assert!(check_secret("short").is_err());
        assert!(check_secret("has a space in it!").is_err());
        let (a, b) = (new_secret().expect("random"), new_secret().expect("random"));
        assert_ne!(a, b);
        assert!(a.starts_with("whsec_") && a.len() == 70);
        assert!(check_secret(&a).is_ok());
    }
}
