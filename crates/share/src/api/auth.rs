//! Who is calling and what they may do. Every endpoint is declared in [`ENDPOINTS`] with what it requires; an
//! endpoint missing there is refused to everyone (default deny). Callers authenticate with an API key
//! (`Authorization: Bearer cdh_<id>_<secret>`); its role's permissions decide the rest. Answers to callers who may
//! not see personal data are masked here, in one place (`govern::mask`), whatever the handler returned.

use super::ApiState;
use super::error::ApiError;
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use govern::{KeyToken, Role};
use model::Permission;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use store::NewAuditEntry;

/// What an endpoint requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, without a credential.
    Public,
    /// A credential whose role grants this permission.
    Needs(Permission),
}

/// Every endpoint (method and route) and what it requires.
pub const ENDPOINTS: &[(&str, &str, Access)] = {
    use Access::{Needs, Public};
    use Permission::*;
    &[
        ("GET", "/health", Public),
        ("GET", "/entities/{id}", Needs(EntitiesRead)),
        ("GET", "/entities/{id}/history", Needs(EntitiesRead)),
        ("GET", "/lookup", Needs(EntitiesRead)),
        ("GET", "/search", Needs(EntitiesRead)),
        ("GET", "/explain", Needs(EntitiesRead)),
        ("POST", "/entities/merge", Needs(Steward)),
        ("POST", "/entities/{id}/unmerge", Needs(Steward)),
        ("PUT", "/sources/{source}/records/{id}", Needs(RecordsWrite)),
        ("DELETE", "/sources/{source}/records/{id}", Needs(RecordsWrite)),
        ("POST", "/sources/{source}/records:batch", Needs(RecordsWrite)),
        ("GET", "/feed", Needs(FeedRead)),
        ("GET", "/feed/stream", Needs(FeedRead)),
        ("POST", "/webhooks", Needs(WebhooksManage)),
        ("GET", "/webhooks", Needs(WebhooksManage)),
        ("GET", "/webhooks/{id}", Needs(WebhooksManage)),
        ("DELETE", "/webhooks/{id}", Needs(WebhooksManage)),
        ("POST", "/api-keys", Needs(KeysManage)),
        ("GET", "/api-keys", Needs(KeysManage)),
        ("DELETE", "/api-keys/{id}", Needs(KeysManage)),
        ("GET", "/audit", Needs(AuditRead)),
        ("GET", "/subjects/{id}/export", Needs(SubjectsManage)),
        ("POST", "/subjects/{id}/erase", Needs(SubjectsManage)),
        ("GET", "/erasures", Needs(AuditRead)),
        ("GET", "/openapi.json", Needs(DocsRead)),
        ("GET", "/docs", Needs(DocsRead)),
    ]
};

/// What `method route` requires; `None` when it is not declared (and so refused). HEAD asks what GET asks.
pub fn access(method: &Method, route: &str) -> Option<Access> {
    let method = if method == Method::HEAD { &Method::GET } else { method };
    ENDPOINTS.iter().find(|(m, r, _)| *m == method.as_str() && *r == route).map(|(_, _, a)| *a)
}

/// The methods declared for `route` (GET with HEAD), for the `Allow` header of a 405.
fn allowed(route: &str) -> Vec<&'static str> {
    let mut methods: Vec<&'static str> = Vec::new();
    for (m, _, _) in ENDPOINTS.iter().filter(|(_, r, _)| *r == route) {
        methods.push(m);
        if *m == "GET" {
            methods.push("HEAD");
        }
    }
    methods
}

/// The authenticated caller, available to handlers as a request extension.
#[derive(Debug, Clone)]
pub struct Principal {
    /// How lineage and audit name the caller: `key:3:crm-sync` (an API key) or `oidc:<sub>` (a bearer token).
    actor: String,
    /// The role it acts with.
    pub role: Role,
}

impl Principal {
    /// How lineage and audit name this caller: `key:3:crm-sync`, `oidc:248289761001`.
    pub fn actor(&self) -> String {
        self.actor.clone()
    }

    /// True when the caller may see personal data unmasked.
    pub fn sees_pii(&self) -> bool {
        self.role.allows(Permission::PiiRead)
    }
}

/// What the audit trail records as a request's target instead of its method and path: a handler that erased
/// what the path names (a source record key) puts this on its response, so the trail does not name it again.
#[derive(Debug, Clone)]
pub struct AuditTarget(pub String);

/// The middleware: authenticates, authorises, runs the handler, masks the answer if needed.
pub async fn authorize(State(state): State<Arc<ApiState>>, mut request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map(|m| m.as_str().to_string()).unwrap_or_default();
    let needed = match access(request.method(), &route) {
        Some(Access::Public) => return next.run(request).await,
        Some(Access::Needs(p)) => Some(p),
        None => None,
    };
    let allow = if needed.is_none() { allowed(&route).join(", ") } else { String::new() };
    if !allow.is_empty() {
        // A known route, another method: what HTTP says for it, before any credential is looked at (the methods
        // are in the published OpenAPI document anyway).
        let message = format!("{} is not a method of {route}; it takes {allow}", request.method());
        let mut response = ApiError::method_not_allowed(message).into_response();
        if let Ok(value) = HeaderValue::from_str(&allow) {
            response.headers_mut().insert(header::ALLOW, value);
        }
        return response;
    }
    let target = format!("{} {}", request.method(), request.uri());
    let origin = request
        .extensions()
        .get::<axum::extract::ConnectInfo<super::tls::Peer>>()
        .map_or_else(|| "unknown".to_string(), |c| c.0.0.ip().to_string());
    let principal = match authenticate(&state, request.headers().get(header::AUTHORIZATION)).await {
        Ok(p) => p,
        Err((e, claimed)) => return refused(&state, e, claimed, target, origin).await,
    };
    let Some(needed) = needed else {
        let e =
            ApiError::forbidden(format!("{} {route} declares no access rule, so no one may use it", request.method()));
        return refused(&state, e, principal.actor(), target, origin).await;
    };
    if !principal.role.allows(needed) {
        let e = ApiError::forbidden(format!("role `{}` lacks the permission `{needed}`", principal.role.name));
        return refused(&state, e, principal.actor(), target, origin).await;
    }
    let masked = !principal.sees_pii();
    let audited = audit_action(request.method(), needed, &principal);
    let actor = principal.actor();
    request.extensions_mut().insert(principal);
    let response = next.run(request).await;
    if let Some(action) = audited {
        let status = response.status();
        // A read that failed showed nothing; a change is recorded whatever its outcome.
        if action == "change" || status.is_success() {
            let target = response.extensions().get::<AuditTarget>().map_or(target, |t| t.0.clone());
            let entry =
                NewAuditEntry { actor, action: action.into(), target, origin, status: i64::from(status.as_u16()) };
            let appended =
                super::with_store_mut(&state, move |store, _| Ok(store.append_audit(&entry, crate::clock::now())?))
                    .await;
            if let Err(e) = appended {
                // Fail closed: personal data is not handed out unrecorded, and a change says it went unrecorded.
                let what = if action == "change" { "the change was made but" } else { "the answer is withheld: it" };
                return ApiError::internal(format!("{what} could not be recorded in the audit trail: {}", e.message))
                    .into_response();
            }
        }
    }
    if masked { mask_response(response).await } else { response }
}

/// Answers a request refused for want of a usable credential (401) or permission (403), after recording it in
/// the audit trail as `denied` (who claimed to call: `anonymous`, `claimed:key:7`, or the key). Should the entry
/// not be written, the refusal stands all the same.
async fn refused(state: &Arc<ApiState>, error: ApiError, actor: String, target: String, origin: String) -> Response {
    let entry =
        NewAuditEntry { actor, action: "denied".into(), target, origin, status: i64::from(error.status().as_u16()) };
    let _ = super::with_store_mut(state, move |store, _| Ok(store.append_audit(&entry, crate::clock::now())?)).await;
    error.into_response()
}

/// What the audit trail records of a request: every change (`change`), and reads that show personal data
/// unmasked (`read`); `None` for the rest.
fn audit_action(method: &Method, needed: Permission, principal: &Principal) -> Option<&'static str> {
    if method != Method::GET && method != Method::HEAD {
        Some("change")
    } else if principal.sees_pii()
        && matches!(needed, Permission::EntitiesRead | Permission::FeedRead | Permission::SubjectsManage)
    {
        Some("read")
    } else {
        None
    }
}

/// Finds and checks the caller's API key. A refusal comes with who the caller claimed to be (`anonymous` when
/// no key could be read), for the audit trail.
async fn authenticate(state: &Arc<ApiState>, header: Option<&HeaderValue>) -> Result<Principal, (ApiError, String)> {
    let anonymous = |e: ApiError| (e, "anonymous".to_string());
    let value = header.ok_or_else(|| {
        anonymous(ApiError::unauthenticated("this endpoint needs an API key: send `Authorization: Bearer cdh_…`"))
    })?;
    let token =
        value.to_str().ok().and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer "))).ok_or_else(
            || anonymous(ApiError::unauthenticated("the Authorization header must be `Bearer <API key>`")),
        )?;
    if let Some(oidc) = state.oidc.as_ref().filter(|_| !token.starts_with("cdh_")) {
        return bearer_token(state, oidc, token).await;
    }
    let token = KeyToken::parse(token).map_err(|e| anonymous(ApiError::unauthenticated(e.to_string())))?;
    let id = token.id;
    check_key(state, &token).await.map_err(|e| (e, format!("claimed:key:{id}")))
}

/// Checks an identity provider's token: valid (signature, issuer, audience, lifetime), naming a role cdihub knows,
/// with the login that role requires.
async fn bearer_token(
    state: &Arc<ApiState>,
    oidc: &Arc<super::oidc::Oidc>,
    token: &str,
) -> Result<Principal, (ApiError, String)> {
    let (checker, token) = (Arc::clone(oidc), token.to_string());
    let identity = tokio::task::spawn_blocking(move || checker.validate(&token))
        .await
        .map_err(|e| (ApiError::internal(format!("checking the token failed: {e}")), "anonymous".to_string()))?
        .map_err(|e| match e {
            super::oidc::OidcError::Invalid(_) => (ApiError::unauthenticated(e.to_string()), "anonymous".to_string()),
            super::oidc::OidcError::Keys(_) => (ApiError::unavailable(e.to_string()), "anonymous".to_string()),
        })?;
    let actor = format!("oidc:{}", identity.subject);
    let claim = &oidc.config().role_claim;
    let Some(role) = identity.roles.iter().find_map(|r| state.roles.get(r)) else {
        let message = format!("the token's `{claim}` claim names no cdihub role (it has {:?})", identity.roles);
        return Err((ApiError::forbidden(message), actor));
    };
    if let Some(need) = oidc.config().require.get(&role.name)
        && !identity.satisfies(need)
    {
        let message = format!(
            "role `{}` needs a stronger login: the token's amr must include one of {:?} or its acr be one of {:?}",
            role.name, need.amr, need.acr
        );
        return Err((ApiError::unauthenticated(message), actor));
    }
    Ok(Principal { actor, role: role.clone() })
}

/// Checks a well-formed key against the store: known, the right secret, not revoked or expired, a defined role.
async fn check_key(state: &Arc<ApiState>, token: &KeyToken) -> Result<Principal, ApiError> {
    let id = token.id;
    let key = super::with_store_mut(state, move |store, _| Ok(store.api_key(id)?)).await?;
    let key = key.ok_or_else(|| ApiError::unauthenticated("unknown API key"))?;
    if !verified(state, token, &key.hash).await? {
        return Err(ApiError::unauthenticated("unknown API key"));
    }
    let now = crate::clock::now();
    if key.revoked_at.is_some() {
        return Err(ApiError::unauthenticated(format!("API key {id} was revoked")));
    }
    if !key.usable_at(now) {
        return Err(ApiError::unauthenticated(format!("API key {id} has expired")));
    }
    let role = state.roles.get(&key.role).ok_or_else(|| {
        ApiError::forbidden(format!("API key {id} has the role `{}`, which is not defined", key.role))
    })?;
    Ok(Principal { actor: format!("key:{id}:{}", key.name), role: role.clone() })
}

/// Checks the secret against the stored hash. Argon2 is slow on purpose (tens of milliseconds), so a key that
/// verified once is remembered (by a digest of its secret, for that stored hash) and later requests compare
/// digests only.
async fn verified(state: &Arc<ApiState>, token: &KeyToken, hash: &str) -> Result<bool, ApiError> {
    let digest: [u8; 32] = Sha256::digest(token.secret().as_bytes()).into();
    if cache(state)?.get(&token.id).is_some_and(|(h, d)| h == hash && *d == digest) {
        return Ok(true);
    }
    let (check, stored) = (token.clone(), hash.to_string());
    let ok = tokio::task::spawn_blocking(move || check.verify(&stored))
        .await
        .map_err(|e| ApiError::internal(format!("verifying the key failed: {e}")))?;
    if ok {
        cache(state)?.insert(token.id, (hash.to_string(), digest));
    }
    Ok(ok)
}

fn cache(state: &ApiState) -> Result<std::sync::MutexGuard<'_, VerifiedKeys>, ApiError> {
    state.verified_keys.lock().map_err(|_| ApiError::internal("the key cache is unusable after a failure"))
}

/// API keys whose secret verified: key id → (its stored hash, SHA-256 of the secret).
pub(super) type VerifiedKeys = std::collections::HashMap<i64, (String, [u8; 32])>;

/// Masks the personal data in a JSON answer.
async fn mask_response(response: Response) -> Response {
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(e) => return ApiError::internal(format!("reading the answer: {e}")).into_response(),
    };
    let Ok(mut json) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return ApiError::internal("an answer to mask is not JSON").into_response();
    };
    govern::mask::mask_json(&mut json);
    let body = json.to_string();
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_declared_once_and_only_health_is_public() {
        for (i, (m, r, a)) in ENDPOINTS.iter().enumerate() {
            assert!(!ENDPOINTS[..i].iter().any(|(m2, r2, _)| m2 == m && r2 == r), "{m} {r} declared twice");
            assert_eq!(*a == Access::Public, *r == "/health", "{m} {r}");
        }
        assert_eq!(access(&Method::GET, "/feed"), Some(Access::Needs(Permission::FeedRead)));
        assert_eq!(access(&Method::POST, "/feed"), None);
    }
}
