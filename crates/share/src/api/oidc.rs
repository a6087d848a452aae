//! OpenID Connect bearer tokens: JWTs signed by the configured identity provider, checked against its published
//! keys (JWKS, fetched on first use and again when a token names a key not seen yet, at most every
//! [`REFETCH_AFTER`]), its issuer, cdihub's audience and the token's lifetime; the caller's role comes from a claim,
//! and a role can demand proof of multi-factor login (`amr`/`acr`).

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use model::OidcConfig;
use serde_json::Value;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Shortest pause between two fetches of the signing keys (an unknown key id cannot make cdihub hammer the
/// provider).
pub const REFETCH_AFTER: Duration = Duration::from_secs(30);

/// Signature algorithms accepted: public-key ones only (a shared-secret token could be forged by anyone who
/// knows a published key).
const ALGORITHMS: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// Why a token was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// The token is malformed, badly signed, expired, or for another issuer or audience.
    #[error("the bearer token is not valid: {0}")]
    Invalid(String),
    /// The provider's keys could not be had.
    #[error("the identity provider's signing keys are unavailable: {0}")]
    Keys(String),
}

/// Who a valid token says the caller is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The `sub` claim.
    pub subject: String,
    /// Role names from the role claim, in the token's order.
    pub roles: Vec<String>,
    /// Authentication methods (`amr`).
    pub amr: Vec<String>,
    /// Authentication context class (`acr`).
    pub acr: Option<String>,
}

impl Identity {
    /// True when the login meets `need`: one of its `amr` methods, or its `acr` level, is listed.
    pub fn satisfies(&self, need: &model::AuthRequirement) -> bool {
        need.amr.iter().any(|m| self.amr.contains(m)) || self.acr.as_ref().is_some_and(|a| need.acr.contains(a))
    }
}

/// The validator: the configuration and the keys fetched so far.
pub struct Oidc {
    config: OidcConfig,
    keys: Mutex<Keys>,
    /// Held during a fetch of the key set (one at a time), which the cache is not locked for.
    fetching: Mutex<()>,
}

#[derive(Default)]
struct Keys {
    set: Option<JwkSet>,
    fetched: Option<Instant>,
}

impl Oidc {
    /// A validator for this provider (nothing is fetched until the first token).
    pub fn new(config: OidcConfig) -> Self {
        Oidc { config, keys: Mutex::default(), fetching: Mutex::default() }
    }

    /// The configuration.
    pub fn config(&self) -> &OidcConfig {
        &self.config
    }

    /// Checks a token and reads who it names. Blocking: it may fetch the provider's keys.
    pub fn validate(&self, token: &str) -> Result<Identity, OidcError> {
        let invalid = |e: jsonwebtoken::errors::Error| OidcError::Invalid(e.to_string());
        let header = jsonwebtoken::decode_header(token).map_err(invalid)?;
        if !ALGORITHMS.contains(&header.alg) {
            return Err(OidcError::Invalid(format!("the algorithm {:?} is not accepted", header.alg)));
        }
        let key = self.key(header.kid.as_deref())?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.config.issuer]);
        validation.set_audience(&[&self.config.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = self.config.leeway_seconds;
        validation.validate_nbf = true;
        let claims = jsonwebtoken::decode::<Value>(token, &key, &validation).map_err(invalid)?.claims;
        let strings = |v: Option<&Value>| -> Vec<String> {
            match v {
                Some(Value::String(s)) => vec![s.clone()],
                Some(Value::Array(items)) => items.iter().filter_map(|i| i.as_str().map(str::to_string)).collect(),
                _ => Vec::new(),
            }
        };
        let role_claim = self.config.role_claim.split('.').try_fold(&claims, |v, part| v.get(part));
        Ok(Identity {
            subject: claims.get("sub").and_then(Value::as_str).unwrap_or_default().to_string(),
            roles: strings(role_claim),
            amr: strings(claims.get("amr")),
            acr: claims.get("acr").and_then(Value::as_str).map(str::to_string),
        })
    }

    /// The decoding key for `kid` (or the only key, when the token names none), fetching the key set when it is
    /// not known yet. The cache is not locked while the provider answers (up to 10 s): tokens signed with a known
    /// key are checked meanwhile, whatever key id another token made up.
    fn key(&self, kid: Option<&str>) -> Result<DecodingKey, OidcError> {
        let find = |set: &JwkSet| -> Option<DecodingKey> {
            let jwk = match kid {
                Some(kid) => set.find(kid),
                None if set.keys.len() == 1 => set.keys.first(),
                None => None,
            }?;
            DecodingKey::from_jwk(jwk).ok()
        };
        let unusable = || OidcError::Keys("the key cache is unusable".into());
        let unknown = || {
            OidcError::Invalid(format!("no signing key {} published by the provider", kid.unwrap_or("(none named)")))
        };
        if let Some(key) = self.keys.lock().map_err(|_| unusable())?.set.as_ref().and_then(find) {
            return Ok(key);
        }
        let _one_fetch = self.fetching.lock().map_err(|_| unusable())?;
        {
            let mut keys = self.keys.lock().map_err(|_| unusable())?;
            // Another thread's fetch may have brought it while this one waited.
            if let Some(key) = keys.set.as_ref().and_then(find) {
                return Ok(key);
            }
            if keys.fetched.is_some_and(|at| at.elapsed() < REFETCH_AFTER) {
                return Err(unknown());
            }
            keys.fetched = Some(Instant::now());
        }
        let set = self.fetch()?;
        let key = find(&set);
        self.keys.lock().map_err(|_| unusable())?.set = Some(set);
        key.ok_or_else(unknown)
    }

    /// Fetches the key set, finding its URL by discovery when none is configured.
    fn fetch(&self) -> Result<JwkSet, OidcError> {
        let url = match &self.config.jwks_url {
            Some(url) => url.clone(),
            None => {
                let discovery =
                    format!("{}/.well-known/openid-configuration", self.config.issuer.trim_end_matches('/'));
                let document: Value = get_json(&discovery)?;
                document
                    .get("jwks_uri")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .ok_or_else(|| OidcError::Keys(format!("{discovery} names no jwks_uri")))?
            }
        };
        get_json(&url)
    }
}

/// GETs a JSON document (10 s limit).
fn get_json<T: serde::de::DeserializeOwned>(url: &str) -> Result<T, OidcError> {
    let failed = |e: String| OidcError::Keys(format!("{url}: {e}"));
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(10))).build(),
    );
    let mut response = agent.get(url).call().map_err(|e| failed(e.to_string()))?;
    let text = response.body_mut().read_to_string().map_err(|e| failed(e.to_string()))?;
    serde_json::from_str(&text).map_err(|e| failed(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::AuthRequirement;

    #[test]
    fn step_up_needs_one_listed_method_or_level() {
        let who = Identity {
            subject: "u1".into(),
            roles: vec!["admin".into()],
            amr: vec!["pwd".into(), "otp".into()],
            acr: Some("silver".into()),
        };
        let need = |amr: &[&str], acr: &[&str]| AuthRequirement {
            amr: amr.iter().map(|s| s.to_string()).collect(),
            acr: acr.iter().map(|s| s.to_string()).collect(),
        };
        assert!(who.satisfies(&need(&["mfa", "otp"], &[])));
        assert!(who.satisfies(&need(&[], &["gold", "silver"])));
        assert!(!who.satisfies(&need(&["mfa", "hwk"], &["gold"])));
    }

    #[test]
    fn shared_secret_and_unsigned_tokens_are_refused_before_any_key_is_fetched() {
        let oidc = Oidc::new(OidcConfig {
            issuer: "http://127.0.0.1:9/".into(),
            audience: "cdihub".into(),
            jwks_url: None,
            role_claim: "roles".into(),
            leeway_seconds: 60,
            require: Default::default(),
        });
        // {"alg":"HS256","typ":"JWT"} and {"alg":"none"}
        for header in ["eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9", "eyJhbGciOiJub25lIn0"] {
            let token = format!("{header}.eyJzdWIiOiJ4In0.c2ln");
            assert!(matches!(oidc.validate(&token), Err(OidcError::Invalid(_))), "{header}");
        }
    }

    #[test]
    fn known_keys_are_found_while_a_fetch_waits_for_the_provider() {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}/keys", listener.local_addr().expect("address"));
        let (asked, asked_rx) = std::sync::mpsc::channel::<()>();
        let (answer, answer_rx) = std::sync::mpsc::channel::<()>();
        let provider = std::thread::spawn(move || {
            let (stream, _) = listener.accept().expect("accept");
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            asked.send(()).expect("tell");
            // The provider answers only when the test says so.
            answer_rx.recv().expect("wait");
            let body = r#"{"keys": []}"#;
            let mut stream = stream;
            let _ =
                write!(stream, "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
        });
        let oidc = std::sync::Arc::new(Oidc::new(OidcConfig {
            issuer: "http://127.0.0.1:9/".into(),
            audience: "cdihub".into(),
            jwks_url: Some(url),
            role_claim: "roles".into(),
            leeway_seconds: 60,
            require: Default::default(),
        }));
        let known = r#"{"keys": [{"kty": "EC", "crv": "P-256", "kid": "test-1", "use": "sig", "alg": "ES256",
            "x": "y-XfpZuIlFHoT6-MfyDhyOggZpkgp60K7DOlIzu_u0E", "y": "jWmPQxImHbZQoDfgUApm_mEA79kD5bIwAT81DTwf-mw"}]}"#;
        oidc.keys.lock().expect("lock").set = Some(serde_json::from_str(known).expect("jwks"));
        let fetching = {
            let oidc = std::sync::Arc::clone(&oidc);
            std::thread::spawn(move || oidc.key(Some("made-up")).map(|_| ()))
        };
        asked_rx.recv().expect("the fetch reached the provider");
        let (found, found_rx) = std::sync::mpsc::channel();
        let lookup = std::sync::Arc::clone(&oidc);
        std::thread::spawn(move || found.send(lookup.key(Some("test-1")).is_ok()));
        // A lookup behind the fetch would wait for it until the fetch gives up (10 s): the provider answers only
        // after this.
        let known_found = found_rx.recv_timeout(Duration::from_secs(5));
        answer.send(()).expect("answer");
        assert_eq!(known_found, Ok(true), "the known key was found while the provider had not answered");
        let made_up = fetching.join().expect("join");
        assert!(matches!(made_up, Err(OidcError::Invalid(m)) if m.contains("made-up")));
        provider.join().expect("provider");
    }
}
