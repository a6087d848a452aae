//! Webhooks end to end: the real server pushes its change feed to a receiver on a real socket — signed, in feed
//! order, retried until accepted — and reports how far delivery is.

use crate::http::Server;
use crate::ok;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One request a receiver got.
#[derive(Debug, Clone)]
struct Received {
    headers: BTreeMap<String, String>,
    body: String,
    status: u16,
}

/// A webhook receiver on a free port: answers the first `failures` requests with 503, the rest with 204.
pub(crate) struct Receiver {
    /// Where it listens.
    pub(crate) url: String,
    got: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    pub(crate) fn start(failures: usize) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}/hook", listener.local_addr().expect("address"));
        let got = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&got);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut headers = BTreeMap::new();
                let mut line = String::new();
                reader.read_line(&mut line).expect("request line");
                loop {
                    line.clear();
                    reader.read_line(&mut line).expect("header");
                    let Some((name, value)) = line.trim_end().split_once(':') else { break };
                    headers.insert(name.to_ascii_lowercase(), value.trim().to_string());
                }
                let length = headers.get("content-length").and_then(|l| l.parse().ok()).unwrap_or(0);
                let mut body = vec![0; length];
                reader.read_exact(&mut body).expect("body");
                let mut log = log.lock().expect("log");
                let status = if log.len() < failures { 503 } else { 204 };
                log.push(Received { headers, body: String::from_utf8(body).expect("UTF-8"), status });
                let reason = if status == 503 {
                    "Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy"
                } else {
                    "No Content\r\n\r\n"
                };
                let _ = write!(stream, "HTTP/1.1 {status} {reason}");
                drop(stream);
            }
        });
        Receiver { url, got }
    }

    fn received(&self) -> Vec<Received> {
        self.got.lock().expect("log").clone()
    }

    /// The events accepted (answered 2xx), in arrival order.
    pub(crate) fn accepted_events(&self) -> Vec<Value> {
        self.received().iter().filter(|r| r.status < 300).flat_map(|r| events(&r.body)).collect()
    }

    /// The sequence numbers of the events accepted (answered 2xx), in arrival order.
    fn accepted(&self) -> Vec<i64> {
        self.received()
            .iter()
            .filter(|r| r.status < 300)
            .flat_map(|r| events(&r.body).into_iter().map(|e| e["seq"].as_i64().expect("seq")))
            .collect()
    }
}

pub(crate) fn events(body: &str) -> Vec<Value> {
    let body: Value = serde_json::from_str(body).expect("a delivery is JSON");
    body["events"].as_array().expect("events").clone()
}

/// Waits up to 30 s for `done`.
pub(crate) fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The signature header checked independently: HMAC-SHA256 of "<t>.<body>" under the secret.
fn signed_by(secret: &str, received: &Received) -> bool {
    let header = received.headers.get("cdihub-signature").expect("signature header");
    let (t, v1) = header.split_once(',').expect("t=…,v1=…");
    let t = t.strip_prefix("t=").expect("t=");
    let v1 = v1.strip_prefix("v1=").expect("v1=");
    let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(format!("{t}.{}", received.body).as_bytes());
    let expected: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    expected == v1
}

#[test]
fn the_feed_is_pushed_signed_in_order_and_retried_until_accepted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    ok(d, &["generate", "--out", ".", "--records", "300", "--seed", "5"]);
    // Quick retries and small batches, so the test sees several of each.
    let mut config = std::fs::read_to_string(d.join("cdihub.toml")).expect("config");
    config.push_str(
        "\n[webhooks]\nbatch = 2\nfirst_retry_ms = 100\nmax_retry_ms = 400\npoll_ms = 50\ntimeout_ms = 2000\n",
    );
    std::fs::write(d.join("cdihub.toml"), config).expect("config");
    ok(d, &["-q", "ingest"]);
    ok(d, &["-q", "resolve"]);
    let server = Server::start(d);

    // A receiver that is down for its first two requests, registered for everything from now on.
    let flaky = Receiver::start(2);
    let (status, created) = server.send("POST", "/webhooks", &json!({"url": flaky.url}));
    assert_eq!(status, 201, "{created}");
    let secret = created["secret"].as_str().expect("the secret is shown once").to_string();
    assert!(secret.starts_with("whsec_"), "{created}");
    let id = created["webhook"]["id"].as_i64().expect("id");
    let start = created["webhook"]["cursor"].as_i64().expect("cursor");
    assert_eq!(Some(start), created["webhook"]["feed_head"].as_i64(), "new webhooks start at the head: {created}");
    // Another that wants only quarantine events, the whole feed from the beginning, with its own secret.
    let quarantine = Receiver::start(0);
    let (status, q) = server.send(
        "POST",
        "/webhooks",
        &json!({"url": quarantine.url, "events": ["record.quarantined"], "after": 0, "secret": "0123456789abcdef-q"}),
    );
    assert_eq!((status, q["secret"].as_str()), (201, Some("0123456789abcdef-q")), "{q}");
    let (_, listed) = server.get("/webhooks");
    assert_eq!(listed["webhooks"].as_array().map(Vec::len), Some(2), "{listed}");
    assert!(listed.to_string().find("whsec_").is_none(), "secrets are not listed: {listed}");

    // Changes: a record joins an entity, another changes, a third is deleted.
    let shop = json!({"customer": {"first_name": "Jürgen", "last_name": "Sanders"}, "dob": "1995-08-23",
        "address": {"street": "Utrechtseweg", "number": "7", "zip": "6223UZ", "city": "Maastricht"},
        "phones": ["06 41205638"], "email": "j.sanders@example.nl"});
    assert_eq!(server.send("PUT", "/sources/webshop/records/W900001", &shop).0, 200);
    let other = json!({"customer": {"first_name": "Wilhelmina", "last_name": "Oosterhuis"}, "dob": "1931-02-03",
        "email": "w.oosterhuis@example.nl"});
    assert_eq!(server.send("PUT", "/sources/webshop/records/W900001", &other).0, 200);
    assert_eq!(server.send("PUT", "/sources/webshop/records/W900002", &shop).0, 200);
    assert_eq!(server.send("DELETE", "/sources/webshop/records/W900002", &Value::Null).0, 200);
    assert_eq!(
        server.send("PUT", "/sources/support/records/S-9", &json!({"customer_ref": "S-9", "contact": "X"})).0,
        200
    );
    let (_, feed) = server.get(&format!("/feed?after={start}"));
    let expected: Vec<i64> =
        feed["events"].as_array().expect("events").iter().map(|e| e["seq"].as_i64().expect("seq")).collect();
    assert!(expected.len() >= 6, "{feed}");
    let head = *expected.last().expect("events");

    // Every event arrives, in feed order, after the receiver came back; the failed batch was sent again.
    eventually("every event delivered", || flaky.accepted().last() == Some(&head));
    let received = flaky.received();
    assert_eq!(received.iter().filter(|r| r.status == 503).count(), 2);
    assert_eq!(received[0].headers.get("cdihub-delivery"), received[2].headers.get("cdihub-delivery"), "retried");
    let mut accepted = flaky.accepted();
    assert!(accepted.windows(2).all(|w| w[0] < w[1]), "in feed order: {accepted:?}");
    accepted.dedup();
    assert_eq!(accepted, expected, "each event delivered");
    for r in &received {
        assert!(signed_by(&secret, r), "signed: {r:?}");
        assert!(!signed_by("whsec_wrong", r));
        assert_eq!(r.headers.get("cdihub-webhook").map(String::as_str), Some(id.to_string().as_str()));
        assert_eq!(r.headers.get("content-type").map(String::as_str), Some("application/json"));
        assert!(events(&r.body).len() <= 2, "batches of at most `batch`");
    }
    // The delivered events are the feed's, as `GET /feed` shows them.
    let first = events(&received[2].body);
    assert_eq!(first[0], feed["events"][0]);
    // Delivery state: healthy again, cursor at the head.
    let (status, state) = server.get(&format!("/webhooks/{id}"));
    assert_eq!(status, 200, "{state}");
    assert_eq!((state["cursor"].as_i64(), state["attempts"].as_i64()), (Some(head), Some(0)), "{state}");
    assert!(state["delivered_at"].is_i64() && state["last_error"].is_null(), "{state}");

    // The filtered webhook got exactly the feed's quarantine events, from the beginning.
    let (_, all) = server.get("/feed?limit=10000");
    let quarantined: Vec<i64> = all["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["kind"] == "record.quarantined")
        .map(|e| e["seq"].as_i64().expect("seq"))
        .collect();
    assert!(quarantined.len() >= 2, "the generated data has bad records, and S-9 is one");
    eventually("quarantine events delivered", || quarantine.accepted() == quarantined);
    assert!(quarantine.received().iter().all(|r| signed_by("0123456789abcdef-q", r)));

    // An endpoint that is down: the events stay due, the state says why and when it is tried next.
    let closed = TcpListener::bind("127.0.0.1:0").expect("bind");
    let dead = format!("http://{}/hook", closed.local_addr().expect("address"));
    drop(closed);
    let (_, down) = server.send("POST", "/webhooks", &json!({"url": dead, "after": start}));
    let down = down["webhook"]["id"].as_i64().expect("id");
    eventually("failures recorded", || server.get(&format!("/webhooks/{down}")).1["attempts"].as_i64() >= Some(2));
    let (_, state) = server.get(&format!("/webhooks/{down}"));
    assert_eq!(state["cursor"].as_i64(), Some(start), "{state}");
    assert!(state["last_error"].as_str().is_some_and(|e| !e.is_empty()), "{state}");
    assert!(state["retry_at"].is_i64() && state["failing_since"].is_i64(), "{state}");
    // Removed: gone from the list and from delivery.
    assert_eq!(server.request("DELETE", &format!("/webhooks/{down}"), None).0, 204);
    assert_eq!(server.get(&format!("/webhooks/{down}")).0, 404);
    assert_eq!(server.request("DELETE", &format!("/webhooks/{down}"), None).0, 404);

    // Registrations are checked.
    for (body, field) in [
        (json!({"url": "ftp://example.com/"}), "url"),
        (json!({"url": "example.com/hook"}), "url"),
        (json!({"url": flaky.url, "events": ["entity.exploded"]}), "events"),
        (json!({"url": flaky.url, "secret": "short"}), "secret"),
        (json!({"url": flaky.url, "after": -1}), "after"),
        (json!({"url": flaky.url, "extra": 1}), "body"),
        (json!({}), "body"),
    ] {
        let (status, e) = server.send("POST", "/webhooks", &body);
        assert_eq!((status, e["field"].as_str()), (400, Some(field)), "{body}: {e}");
    }
    assert_eq!(server.get("/webhooks/W1").1["field"], "id");
}
