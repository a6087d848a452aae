//! `GET /feed/stream`: the change feed as Server-Sent Events, live. A client resumes where it left off with
//! `after`, or with the `Last-Event-ID` header that browsers' `EventSource` sends when it reconnects.

use super::ApiState;
use super::auth::Principal;
use super::error::ApiError;
use super::types::FeedEventResponse;
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use serde::Deserialize;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;
use utoipa::IntoParams;

/// How often the store is asked for new events while the stream is idle.
const POLL: Duration = Duration::from_millis(250);

/// Events fetched per store call.
const PAGE: usize = 1000;

/// Parameters of `GET /feed/stream`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StreamParams {
    /// Sequence number of the last event already seen (default 0, or the `Last-Event-ID` header).
    after: Option<i64>,
}

/// The change feed, live: every event after `after` and then each new one as it is written, as Server-Sent
/// Events (`id` = sequence number, `event` = kind, `data` = the event as JSON). Comments keep an idle
/// connection open. If the store fails, an `error` event (the common error body) ends the stream; reconnecting
/// with `Last-Event-ID` resumes it.
#[utoipa::path(
    get,
    path = "/feed/stream",
    tag = "feed",
    params(StreamParams, ("Last-Event-ID" = Option<i64>, Header, description = "Resume after this sequence number")),
    responses(
        (status = 200, description = "text/event-stream of change-feed events", content_type = "text/event-stream"),
        (status = 400, description = "after or Last-Event-ID is not a sequence number", body = ApiError),
    )
)]
pub async fn stream(
    State(state): State<Arc<ApiState>>,
    Extension(caller): Extension<Principal>,
    Query(params): Query<StreamParams>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, std::convert::Infallible>>>, ApiError> {
    let resume = match headers.get("last-event-id") {
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|s| s.trim().parse::<i64>().ok())
                .ok_or_else(|| ApiError::invalid("Last-Event-ID", "Last-Event-ID must be a sequence number"))?,
        ),
        None => None,
    };
    let after = resume.or(params.after).unwrap_or(0);
    if after < 0 {
        return Err(ApiError::invalid("after", "after must be 0 or a sequence number"));
    }
    // State: the API, the last sequence sent, events fetched but not sent, and whether the stream must end.
    // Streamed events bypass the masking of JSON answers, so they are masked here, by the same rules.
    let masked = !caller.sees_pii();
    let start = (state, after, VecDeque::new(), false);
    let events = futures_util::stream::unfold(start, move |(state, last, mut pending, ended)| async move {
        loop {
            if let Some(event) = pending.pop_front() {
                return Some((Ok(event), (state, last, pending, ended)));
            }
            if ended {
                return None;
            }
            let store_state = Arc::clone(&state);
            let fetched = tokio::task::spawn_blocking(move || {
                let store =
                    store_state.store.lock().map_err(|_| "the store is unusable after a failure".to_string())?;
                store.feed(last, PAGE).map_err(|e| format!("store: {e}"))
            })
            .await
            .map_err(|e| format!("reading the feed failed: {e}"))
            .and_then(|read| read);
            match fetched {
                Ok(page) if !page.is_empty() => {
                    let mut next = last;
                    for e in page {
                        next = e.seq;
                        let response = FeedEventResponse::from(e);
                        let sse = Event::default().id(response.seq.to_string()).event(response.kind.clone());
                        let mut data = serde_json::to_value(&response).unwrap_or_default();
                        if masked {
                            govern::mask::mask_json(&mut data);
                        }
                        pending.push_back(
                            sse.json_data(&data).unwrap_or_else(|_| Event::default().comment("unencodable event")),
                        );
                    }
                    return Some((Ok(pending.pop_front()?), (state, next, pending, false)));
                }
                // Nothing new: look again shortly.
                Ok(_) => tokio::time::sleep(POLL).await,
                // The store failed: say so and end the stream (a client resumes with Last-Event-ID).
                Err(message) => {
                    let error = Event::default()
                        .event("error")
                        .json_data(ApiError::internal(message))
                        .unwrap_or_else(|_| Event::default().comment("the store failed"));
                    return Some((Ok(error), (state, last, pending, true)));
                }
            }
        }
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
