//! One webhook's delivery loop: read the events after its cursor, POST the wanted ones, move the cursor on a 2xx,
//! back off on anything else.

use super::{StoreOpener, connected, pause, sign};
use crate::api::{FeedEventResponse, WebhookDelivery};
use model::WebhookConfig;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use store::{Delivery, FeedEvent, Store, Webhook};

/// Delivers to webhook `id` until it is removed or `stop` is raised.
pub(super) fn run(id: i64, config: &WebhookConfig, open: &StoreOpener, stop: &AtomicBool) {
    let poll = Duration::from_millis(config.poll_ms);
    let agent = agent(config);
    let mut store: Option<Box<dyn Store + Send>> = None;
    while !stop.load(Ordering::Relaxed) {
        let Some(connection) = connected(&mut store, open, &format!("webhook {id}")) else {
            pause(stop, poll);
            continue;
        };
        match step(id, config, connection.as_mut(), &agent) {
            Ok(Step::Gone) => return,
            Ok(Step::Busy) => {}
            Ok(Step::Wait(duration)) => pause(stop, duration.min(poll)),
            Err(e) => {
                eprintln!("cdihub: webhook {id}: {e}");
                store = None;
                pause(stop, poll);
            }
        }
    }
}

/// What the loop does next.
enum Step {
    /// The webhook was removed.
    Gone,
    /// Go on at once: there may be more.
    Busy,
    /// Nothing to do for this long.
    Wait(Duration),
}

/// One round: wait for a retry that is not due yet, or deliver the next batch.
fn step(id: i64, config: &WebhookConfig, store: &mut dyn Store, agent: &ureq::Agent) -> store::Result<Step> {
    let Some(hook) = store.webhook(id)? else {
        return Ok(Step::Gone);
    };
    let now_ms = chrono::Utc::now().timestamp_millis();
    if let Some(due) = hook.retry_at.filter(|due| *due > now_ms) {
        return Ok(Step::Wait(Duration::from_millis((due - now_ms) as u64)));
    }
    let mut events = store.feed(hook.cursor, config.batch)?;
    // A retry sends the batch that failed, not one grown with the events that came since (same delivery id).
    if let Some(last) = hook.retry_through.filter(|last| *last > hook.cursor) {
        events.retain(|e| e.seq <= last);
    }
    let Some(through) = events.last().map(|e| e.seq) else {
        return Ok(Step::Wait(Duration::from_millis(config.poll_ms)));
    };
    let wanted: Vec<FeedEvent> =
        events.into_iter().filter(|e| hook.events.is_empty() || hook.events.contains(&e.kind)).collect();
    if wanted.is_empty() {
        store.record_delivery(id, &Delivery::Delivered { through, at: None })?;
        return Ok(Step::Busy);
    }
    let now = crate::clock::now();
    let outcome = match post(agent, &hook, wanted, through, now) {
        Ok(()) => Delivery::Delivered { through, at: Some(now) },
        Err(error) => {
            let wait = backoff(hook.attempts + 1, config, fastrand::f64());
            Delivery::Failed { error, retry_at: now_ms + wait as i64, at: now, through }
        }
    };
    store.record_delivery(id, &outcome)?;
    Ok(Step::Busy)
}

/// POSTs one batch; `Err` says why it was not accepted.
fn post(agent: &ureq::Agent, hook: &Webhook, events: Vec<FeedEvent>, through: i64, now: i64) -> Result<(), String> {
    let first = events.first().map_or(through, |e| e.seq);
    let body = WebhookDelivery { webhook: hook.id, events: events.into_iter().map(FeedEventResponse::from).collect() };
    let body = serde_json::to_vec(&body).map_err(|e| format!("cannot render the events: {e}"))?;
    let response = agent
        .post(&hook.url)
        .header(sign::HEADER, sign::signature(&hook.secret, now, &body))
        .header("Cdihub-Webhook", hook.id.to_string())
        .header("Cdihub-Delivery", format!("{}:{first}-{through}", hook.id))
        .content_type("application/json")
        .send(&body[..]);
    let mut response = response.map_err(|e| e.to_string())?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let text = response.body_mut().with_config().limit(512).read_to_string().unwrap_or_default();
    let text: String = text.chars().take(200).collect();
    Err(if text.trim().is_empty() { format!("HTTP {status}") } else { format!("HTTP {status}: {}", text.trim()) })
}

/// The HTTP client: the configured timeout for the whole exchange, no redirects (a webhook URL is meant as given),
/// answers of any status returned rather than raised.
fn agent(config: &WebhookConfig) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_millis(config.timeout_ms)))
        .max_redirects(0)
        .max_redirects_will_error(false)
        .http_status_as_error(false)
        .user_agent(concat!("cdihub/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

/// Milliseconds to wait after the `attempt`-th failure in a row: `first_retry_ms` doubled per further failure up to
/// `max_retry_ms`, spread by ±20 % (`unit` in [0, 1)) so receivers coming back are not hit by every sender at once.
fn backoff(attempt: u32, config: &WebhookConfig, unit: f64) -> u64 {
    let doublings = attempt.saturating_sub(1).min(40);
    let base = config.first_retry_ms.saturating_mul(1u64 << doublings).min(config.max_retry_ms);
    (base as f64 * (0.8 + 0.4 * unit)) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let config = WebhookConfig { first_retry_ms: 1_000, max_retry_ms: 60_000, ..WebhookConfig::default() };
        let middle: Vec<u64> = (1..=8).map(|a| backoff(a, &config, 0.5)).collect();
        assert_eq!(middle, [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000]);
        assert_eq!(backoff(1, &config, 0.0), 800);
        assert_eq!(backoff(1, &config, 0.999_999), 1_199);
        assert_eq!(backoff(u32::MAX, &config, 0.5), 60_000);
    }
}
