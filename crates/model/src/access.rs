//! Who may do what: the permissions an API endpoint can require, and the roles that grant them.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// One thing a caller may be allowed to do. Every endpoint except `/health` requires exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Permission {
    /// Read entities, golden records, history, lookups, search and match explanations (PII masked without
    /// [`Permission::PiiRead`]).
    EntitiesRead,
    /// See personal data unmasked wherever it is shown.
    PiiRead,
    /// Push, change and delete source records.
    RecordsWrite,
    /// Merge and unmerge entities (a steward's decisions).
    Steward,
    /// Read the change feed, polled or streamed.
    FeedRead,
    /// Register, list and remove webhooks.
    WebhooksManage,
    /// Create, list and revoke API keys.
    KeysManage,
    /// Read the audit trail.
    AuditRead,
    /// Read the API's own documentation (`/openapi.json`, `/docs`).
    DocsRead,
    /// Export everything held about a person, and erase it (the rights of access and to erasure).
    SubjectsManage,
}

impl Permission {
    /// Every permission, in a fixed order.
    pub const ALL: [Permission; 10] = [
        Permission::EntitiesRead,
        Permission::PiiRead,
        Permission::RecordsWrite,
        Permission::Steward,
        Permission::FeedRead,
        Permission::WebhooksManage,
        Permission::KeysManage,
        Permission::AuditRead,
        Permission::DocsRead,
        Permission::SubjectsManage,
    ];

    /// The name used in configuration and error messages: `entities.read`.
    pub fn name(self) -> &'static str {
        match self {
            Permission::EntitiesRead => "entities.read",
            Permission::PiiRead => "pii.read",
            Permission::RecordsWrite => "records.write",
            Permission::Steward => "entities.steward",
            Permission::FeedRead => "feed.read",
            Permission::WebhooksManage => "webhooks.manage",
            Permission::KeysManage => "keys.manage",
            Permission::AuditRead => "audit.read",
            Permission::DocsRead => "docs.read",
            Permission::SubjectsManage => "subjects.manage",
        }
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Permission {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Permission::ALL.into_iter().find(|p| p.name() == s).ok_or_else(|| {
            let known: Vec<&str> = Permission::ALL.iter().map(|p| p.name()).collect();
            format!("unknown permission `{s}`; known: {}", known.join(", "))
        })
    }
}

/// A role declared in `cdihub.toml` (`[roles.NAME]`), beside the built-in ones.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleConfig {
    /// Permission names the role grants (`entities.read`, `feed.read`, …).
    #[serde(default)]
    pub permissions: Vec<String>,
}

/// The built-in roles and what they grant.
pub const BUILT_IN_ROLES: [(&str, &[Permission]); 5] = [
    ("admin", &Permission::ALL),
    (
        "steward",
        &[
            Permission::EntitiesRead,
            Permission::PiiRead,
            Permission::Steward,
            Permission::FeedRead,
            Permission::DocsRead,
        ],
    ),
    ("analyst", &[Permission::EntitiesRead, Permission::FeedRead, Permission::DocsRead]),
    ("ingest-service", &[Permission::RecordsWrite, Permission::DocsRead]),
    ("auditor", &[Permission::AuditRead, Permission::EntitiesRead, Permission::FeedRead, Permission::DocsRead]),
];

/// Checks custom roles: names not taken by a built-in role, known permissions only.
pub(crate) fn validate_roles(roles: &BTreeMap<String, RoleConfig>) -> Result<(), String> {
    for (name, role) in roles {
        if BUILT_IN_ROLES.iter().any(|(built_in, _)| built_in == name) {
            return Err(format!("roles: `{name}` is a built-in role and cannot be redefined"));
        }
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(format!("roles: role name `{name}` may use only letters, digits, `-` and `_`"));
        }
        for p in &role.permissions {
            p.parse::<Permission>().map_err(|e| format!("roles.{name}: {e}"))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permission_names_round_trip() {
        for p in Permission::ALL {
            assert_eq!(p.name().parse::<Permission>(), Ok(p));
        }
        assert!("entities.write".parse::<Permission>().expect_err("unknown").contains("entities.read"));
    }

    #[test]
    fn custom_roles_are_checked() {
        let role = |p: &[&str]| RoleConfig { permissions: p.iter().map(|s| s.to_string()).collect() };
        let ok: BTreeMap<String, RoleConfig> = [("marketing".to_string(), role(&["entities.read"]))].into();
        assert!(validate_roles(&ok).is_ok());
        let shadow: BTreeMap<String, RoleConfig> = [("admin".to_string(), role(&[]))].into();
        assert!(validate_roles(&shadow).expect_err("built in").contains("built-in"));
        let unknown: BTreeMap<String, RoleConfig> = [("x".to_string(), role(&["everything"]))].into();
        assert!(validate_roles(&unknown).expect_err("unknown").contains("roles.x"));
        let spaced: BTreeMap<String, RoleConfig> = [("a b".to_string(), role(&[]))].into();
        assert!(validate_roles(&spaced).is_err());
    }
}
