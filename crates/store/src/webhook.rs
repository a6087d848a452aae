//! Webhooks as the store keeps them: a registered endpoint, how far the change feed has been delivered to it,
//! and where its retries stand.

use serde::Serialize;

/// A registered endpoint and its delivery state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Webhook {
    /// Its id (never reused).
    pub id: i64,
    /// Where events are POSTed (`http` or `https`).
    pub url: String,
    /// The key deliveries are signed with (HMAC-SHA256).
    #[serde(skip)]
    pub secret: String,
    /// The event kinds it receives; empty means all.
    pub events: Vec<String>,
    /// When it was registered, seconds since the epoch.
    pub created_at: i64,
    /// The last feed sequence delivered to it, or passed over because its kind is not wanted.
    pub cursor: i64,
    /// Failed attempts at delivering the events after `cursor`; 0 when the last attempt succeeded.
    pub attempts: u32,
    /// When the next attempt is due, milliseconds since the epoch; `None`: at once.
    pub retry_at: Option<i64>,
    /// When the current run of failures began, seconds since the epoch.
    pub failing_since: Option<i64>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When events were last delivered, seconds since the epoch.
    pub delivered_at: Option<i64>,
    /// The last feed sequence of the batch that failed, while it is being retried: the retry sends that batch
    /// again, not one grown with later events.
    #[serde(skip)]
    pub retry_through: Option<i64>,
}

/// A webhook to register.
#[derive(Debug, Clone, PartialEq)]
pub struct NewWebhook {
    /// Where events are POSTed.
    pub url: String,
    /// The signing key.
    pub secret: String,
    /// The event kinds it receives; empty means all.
    pub events: Vec<String>,
    /// Deliveries start after this feed sequence.
    pub after: i64,
}

/// The outcome of one delivery attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum Delivery {
    /// The receiver accepted everything up to and including feed sequence `through` (or there was nothing it
    /// wanted up to there). Resets the retry state.
    Delivered {
        /// The new cursor.
        through: i64,
        /// When, seconds since the epoch; `None` when nothing was sent.
        at: Option<i64>,
    },
    /// The attempt failed; the events stay due.
    Failed {
        /// Why.
        error: String,
        /// When the next attempt is due, milliseconds since the epoch.
        retry_at: i64,
        /// When the attempt was made, seconds since the epoch.
        at: i64,
        /// The last feed sequence of the batch that failed (its retry ends there too).
        through: i64,
    },
}
