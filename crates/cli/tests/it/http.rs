//! A minimal HTTP client for the end-to-end tests: the real `cdihub serve` on a free port, spoken to over TCP.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A running server, stopped when dropped.
pub struct Server {
    /// The server process.
    pub child: Child,
    /// host:port it listens on.
    pub address: String,
    /// The admin API key requests are sent with (`None`: anonymous).
    pub token: Option<String>,
}

/// Issues an API key with `cdihub api-keys create` in `dir`; returns the key.
pub fn issue_key(dir: &Path, name: &str, role: &str, extra: &[&str]) -> String {
    let mut args = vec!["api-keys", "create", "--name", name, "--role", role];
    args.extend_from_slice(extra);
    let key = crate::ok(dir, &args).trim().to_string();
    assert!(key.starts_with("cdh_"), "{key}");
    key
}

impl Server {
    /// Starts `cdihub serve` in `dir` on a free port, with an admin key to send.
    pub fn start(dir: &Path) -> Server {
        let token = issue_key(dir, "tests", "admin", &[]);
        let mut child = Command::new(env!("CARGO_BIN_EXE_cdihub"))
            .current_dir(dir)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("cdihub serve starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("first line");
        let address = line
            .split_whitespace()
            .find_map(|w| w.strip_prefix("http://"))
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .to_string();
        Server { child, address, token: Some(token) }
    }

    /// GET `path`; returns the status and the body as JSON (or as a JSON string when it is not JSON).
    pub fn get(&self, path: &str) -> (u16, serde_json::Value) {
        let (status, body) = self.get_text(path);
        let json = serde_json::from_str(&body).unwrap_or(serde_json::Value::String(body));
        (status, json)
    }

    /// GET `path`; returns the status and the body as text.
    pub fn get_text(&self, path: &str) -> (u16, String) {
        self.request("GET", path, None)
    }

    /// Sends a request with a JSON body; returns the status and the body as JSON.
    pub fn send(&self, method: &str, path: &str, body: &serde_json::Value) -> (u16, serde_json::Value) {
        let (status, text) = self.request(method, path, Some(&body.to_string()));
        (status, serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)))
    }

    /// Sends a request with the server's admin key; returns the status and the body as text.
    pub fn request(&self, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
        self.request_as(self.token.as_deref(), method, path, body)
    }

    /// The `Authorization` header line for `token` (empty for none).
    pub fn authorization(token: Option<&str>) -> String {
        token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default()
    }

    /// Sends a request with `token` (or none); returns the status and the body as text.
    pub fn request_as(&self, token: Option<&str>, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
        let mut stream = TcpStream::connect(&self.address).expect("connect");
        let body = body.unwrap_or_default();
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Type: application/json\r\n\
             {}Content-Length: {}\r\n\r\n{body}",
            self.address,
            Self::authorization(token),
            body.len()
        )
        .expect("send");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("read");
        let (head, body) = response.split_once("\r\n\r\n").expect("head and body");
        let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).expect("status");
        (status, body.to_string())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
