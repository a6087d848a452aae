//! Issuing API keys, the same way from the command line and over the API: the holder's name and the role are
//! checked, a random secret is made and hashed, the hash stored, and the whole key returned — the only time it
//! is ever shown.

use govern::Roles;
use store::{ApiKey, NewApiKey, Store};

/// Longest a key may live: ten years.
pub const MAX_DAYS: u32 = 3650;

/// Lifetime of a key when none is asked for.
pub const DEFAULT_DAYS: u32 = 90;

/// Why a key could not be issued.
#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    /// A request value is unusable; `field` names it.
    #[error("{message}")]
    Invalid {
        /// The field at fault.
        field: &'static str,
        /// Why.
        message: String,
    },
    /// Making or hashing the secret failed.
    #[error(transparent)]
    Key(#[from] govern::ApiKeyError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] store::Error),
}

/// What to issue.
#[derive(Debug, Clone)]
pub struct KeyRequest {
    /// Who or what will hold the key (1–100 printable characters).
    pub name: String,
    /// A built-in or configured role.
    pub role: String,
    /// Days until it expires (1 to [`MAX_DAYS`]); `None`: no expiry.
    pub expires_in_days: Option<u32>,
    /// Who issues it (`cli`, or the issuing key's actor name).
    pub created_by: String,
}

/// Issues a key; returns it as stored and the full key to hand over (`cdh_<id>_<secret>`).
pub fn issue(
    store: &mut dyn Store,
    roles: &Roles,
    request: KeyRequest,
    now: i64,
) -> Result<(ApiKey, String), IssueError> {
    let invalid = |field, message: String| Err(IssueError::Invalid { field, message });
    let name = request.name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return invalid("name", "name the key's holder in 1 to 100 printable characters".into());
    }
    if roles.get(&request.role).is_none() {
        let known: Vec<&str> = roles.names().collect();
        return invalid("role", format!("unknown role `{}`; roles: {}", request.role, known.join(", ")));
    }
    if let Some(days) = request.expires_in_days
        && !(1..=MAX_DAYS).contains(&days)
    {
        return invalid("expires_in_days", format!("a key lives 1 to {MAX_DAYS} days; asked {days}"));
    }
    let issued = govern::api_key::new_secret()?;
    let key = store.add_api_key(
        &NewApiKey {
            name: name.to_string(),
            role: request.role,
            hash: issued.hash.clone(),
            created_by: request.created_by,
            expires_at: request.expires_in_days.map(|d| now + i64::from(d) * 86_400),
        },
        now,
    )?;
    let token = issued.token(key.id);
    Ok((key, token))
}
