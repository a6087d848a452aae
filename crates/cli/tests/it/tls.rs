//! `cdihub serve` over TLS: with a certificate configured it speaks HTTPS only, clients that trust the issuer get
//! the API (authentication and audit as over HTTP), and a broken TLS configuration stops it with a clear error.

use crate::http::issue_key;
use crate::{fails, ok, repo};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

fn fixture(name: &str) -> PathBuf {
    repo().join("crates/cli/tests/fixtures/tls").join(name)
}

/// `cdihub serve` with `args` in `dir`; the child and the URL it prints.
fn start(dir: &Path, args: &[&str]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cdihub"))
        .current_dir(dir)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("cdihub serve starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("first line");
    let url = line.split_whitespace().find(|w| w.starts_with("http")).unwrap_or_else(|| panic!("{line:?}"));
    (child, url.to_string())
}

/// An HTTPS client that trusts only the test CA.
fn client() -> ureq::Agent {
    let ca = std::fs::read(fixture("ca.pem")).expect("ca");
    let ca = ureq::tls::Certificate::from_pem(&ca).expect("pem");
    let tls = ureq::tls::TlsConfig::builder().root_certs(ureq::tls::RootCerts::Specific(Arc::new(vec![ca]))).build();
    ureq::Agent::new_with_config(ureq::Agent::config_builder().tls_config(tls).http_status_as_error(false).build())
}

#[test]
fn serve_speaks_https_with_a_configured_certificate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    ok(d, &["generate", "--out", ".", "--records", "200", "--seed", "4"]);
    ok(d, &["-q", "ingest"]);
    ok(d, &["-q", "resolve"]);
    let key = issue_key(d, "tls", "admin", &[]);
    let mut config = std::fs::read_to_string(d.join("cdihub.toml")).expect("config");
    config.push_str(&format!(
        "\n[server]\ntls_cert = {:?}\ntls_key = {:?}\n",
        fixture("cert.pem").display().to_string(),
        fixture("key.pem").display().to_string()
    ));
    std::fs::write(d.join("cdihub.toml"), config).expect("write");
    let (mut child, url) = start(d, &[]);
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");

    let agent = client();
    let health = agent.get(&format!("{url}/health")).call().expect("https works");
    assert_eq!(health.status(), 200);
    let mut anonymous = agent.get(&format!("{url}/lookup?source=crm&id=K000001")).call().expect("answer");
    assert_eq!(anonymous.status(), 401, "{}", anonymous.body_mut().read_to_string().unwrap_or_default());
    let mut found = agent
        .get(&format!("{url}/lookup?source=crm&id=K000001"))
        .header("Authorization", &format!("Bearer {key}"))
        .call()
        .expect("answer");
    assert_eq!(found.status(), 200, "{}", found.body_mut().read_to_string().unwrap_or_default());

    // A client that does not trust the issuer fails the handshake; plain HTTP gets no HTTP answer.
    let untrusting = ureq::Agent::new_with_config(ureq::Agent::config_builder().build());
    assert!(untrusting.get(&format!("{url}/health")).call().is_err(), "an unknown issuer is refused");
    let address = url.trim_start_matches("https://");
    let mut plain = TcpStream::connect(address).expect("connect");
    plain.set_read_timeout(Some(std::time::Duration::from_secs(15))).expect("timeout");
    // The server may close the connection while the request is still being written (a broken pipe): that too
    // means no HTTP was served.
    let _ = write!(plain, "GET /health HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    let mut answer = Vec::new();
    let _ = plain.read_to_end(&mut answer);
    assert!(!answer.starts_with(b"HTTP/"), "plain HTTP is not served: {:?}", String::from_utf8_lossy(&answer));
    let _ = child.kill();
    let _ = child.wait();

    // The client's address reaches the audit trail over TLS too.
    let trail = ok(d, &["audit", "list", "--limit", "1000"]);
    assert!(trail.lines().any(|l| l.contains("127.0.0.1") && l.contains("GET /lookup")), "{trail}");

    // The command-line flags override the configuration; a broken setup stops the server with a reason.
    let error = fails(d, &["serve", "--listen", "127.0.0.1:0", "--tls-cert", "missing.pem", "--tls-key", "key.pem"]);
    assert!(error.contains("TLS") && error.contains("missing.pem"), "{error}");
    let error = fails(
        d,
        &[
            "serve",
            "--tls-cert",
            &fixture("cert.pem").display().to_string(),
            "--tls-key",
            &fixture("ca.pem").display().to_string(),
        ],
    );
    assert!(error.contains("private key"), "{error}");
    let config = std::fs::read_to_string(d.join("cdihub.toml")).expect("config");
    let half: String = config.lines().filter(|l| !l.starts_with("tls_key")).map(|l| format!("{l}\n")).collect();
    std::fs::write(d.join("cdihub.toml"), half).expect("write");
    let error = fails(d, &["serve", "--listen", "127.0.0.1:0"]);
    assert!(error.contains("tls_cert and tls_key go together"), "{error}");
}
