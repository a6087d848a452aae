//! OpenID Connect bearer tokens end to end: the real server validates tokens signed with a key published by a
//! (local) identity provider, found by discovery; the role comes from the token, a role can demand multi-factor
//! login, and every kind of bad token is refused. API keys keep working beside them.

use crate::http::Server;
use crate::{ok, repo};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A minimal identity provider: discovery document and key set over HTTP. Returns its issuer URL and a counter
/// of key-set fetches.
fn provider() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let issuer = format!("http://{}", listener.local_addr().expect("address"));
    let jwks = std::fs::read_to_string(repo().join("crates/cli/tests/fixtures/oidc/jwks.json")).expect("jwks");
    let fetches = Arc::new(AtomicUsize::new(0));
    let (counter, base) = (Arc::clone(&fetches), issuer.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut line = String::new();
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).map_or(true, |n| n == 0) || header.trim().is_empty() {
                    break;
                }
            }
            let body = if line.contains("/.well-known/openid-configuration") {
                json!({"issuer": base, "jwks_uri": format!("{base}/keys")}).to_string()
            } else if line.contains("/keys") {
                counter.fetch_add(1, Ordering::SeqCst);
                jwks.clone()
            } else {
                let _ = write!(stream, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                continue;
            };
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (issuer, fetches)
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs() as i64
}

/// A token signed with the provider's key (or `kid` naming another).
fn token(claims: &Value, kid: &str) -> String {
    let pem = std::fs::read(repo().join("crates/cli/tests/fixtures/oidc/signing-key.pem")).expect("key");
    let key = EncodingKey::from_ec_pem(&pem).expect("pem");
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(kid.to_string());
    jsonwebtoken::encode(&header, claims, &key).expect("sign")
}

fn configure(dir: &Path, issuer: &str) {
    let mut config = std::fs::read_to_string(dir.join("cdihub.toml")).expect("config");
    config.push_str(&format!(
        "\n[oidc]\nissuer = \"{issuer}\"\naudience = \"cdihub\"\n[oidc.require.admin]\namr = [\"mfa\", \"hwk\"]\n"
    ));
    std::fs::write(dir.join("cdihub.toml"), config).expect("write");
}

#[test]
fn identity_provider_tokens_are_validated_with_roles_and_step_up() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    ok(d, &["generate", "--out", ".", "--records", "200", "--seed", "6"]);
    ok(d, &["-q", "ingest"]);
    ok(d, &["-q", "resolve"]);
    let (issuer, fetches) = provider();
    configure(d, &issuer);
    let server = Server::start(d);
    let claims = |sub: &str, roles: Value, extra: Value| {
        let mut c =
            json!({"iss": issuer, "aud": "cdihub", "sub": sub, "exp": now() + 600, "iat": now(), "roles": roles});
        if let (Some(c), Some(extra)) = (c.as_object_mut(), extra.as_object()) {
            c.extend(extra.clone());
        }
        c
    };
    let lookup = "/lookup?source=crm&id=K000001";
    let status = |token: &str, path: &str| server.request_as(Some(token), "GET", path, None);

    // A steward's token: the role from the token, the subject in the audit trail.
    let steward = token(&claims("alice", json!(["viewer", "steward"]), json!({})), "test-1");
    let (code, body) = status(&steward, lookup);
    assert_eq!(code, 200, "{body}");
    assert_eq!(status(&steward, "/api-keys").0, 403, "a steward may not manage keys");

    // Admin needs multi-factor login.
    let password_only = token(&claims("bob", json!("admin"), json!({"amr": ["pwd"]})), "test-1");
    let (code, body) = status(&password_only, "/api-keys");
    assert_eq!(code, 401, "{body}");
    assert!(body.contains("stronger login"), "{body}");
    let with_mfa = token(&claims("bob", json!("admin"), json!({"amr": ["pwd", "mfa"]})), "test-1");
    assert_eq!(status(&with_mfa, "/api-keys").0, 200);

    // Refused: expired, another audience, another issuer, a tampered signature, an unknown key, no cdihub role.
    let expired = token(&claims("eve", json!("steward"), json!({"exp": now() - 3600})), "test-1");
    let audience = token(&claims("eve", json!("steward"), json!({"aud": "someone-else"})), "test-1");
    let other_issuer = token(&claims("eve", json!("steward"), json!({"iss": "https://evil.example"})), "test-1");
    let mut tampered = steward.clone();
    let last = tampered.pop().map_or('A', |c| if c == 'A' { 'B' } else { 'A' });
    tampered.push(last);
    let unknown_key = token(&claims("eve", json!("steward"), json!({})), "test-9");
    for (what, bad) in [
        ("expired", &expired),
        ("audience", &audience),
        ("issuer", &other_issuer),
        ("signature", &tampered),
        ("key", &unknown_key),
    ] {
        let (code, body) = status(bad, lookup);
        assert_eq!(code, 401, "{what}: {body}");
    }
    let no_role = token(&claims("eve", json!(["viewer"]), json!({})), "test-1");
    let (code, body) = status(&no_role, lookup);
    assert_eq!(code, 403, "{body}");
    assert!(
        fetches.load(Ordering::SeqCst) <= 2,
        "the key set is fetched once, and again at most once for the unknown key"
    );

    // API keys still work beside tokens.
    assert_eq!(server.get(lookup).0, 200);
    drop(server);
    let trail = ok(d, &["audit", "list", "--limit", "1000"]);
    assert!(trail.contains("oidc:alice") && trail.contains("GET /lookup"), "{trail}");
    assert!(trail.lines().any(|l| l.contains("oidc:bob") && l.contains("denied")), "{trail}");
}
