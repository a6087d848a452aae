//! Roles by name: the built-in ones and those declared in `cdihub.toml`, each a set of permissions.

use model::{BUILT_IN_ROLES, Config, Permission};
use std::collections::{BTreeMap, BTreeSet};

/// A role and what it grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    /// The role's name (`steward`).
    pub name: String,
    /// The permissions it grants.
    pub permissions: BTreeSet<Permission>,
}

impl Role {
    /// True when the role grants `permission`.
    pub fn allows(&self, permission: Permission) -> bool {
        self.permissions.contains(&permission)
    }
}

/// Every role a credential can name.
#[derive(Debug, Clone)]
pub struct Roles {
    by_name: BTreeMap<String, Role>,
}

impl Roles {
    /// The built-in roles plus the configuration's custom roles (already validated with the configuration).
    pub fn new(config: &Config) -> Self {
        let mut by_name = BTreeMap::new();
        for (name, permissions) in BUILT_IN_ROLES {
            by_name.insert(
                name.to_string(),
                Role { name: name.to_string(), permissions: permissions.iter().copied().collect() },
            );
        }
        for (name, role) in &config.roles {
            let permissions = role.permissions.iter().filter_map(|p| p.parse().ok()).collect();
            by_name.insert(name.clone(), Role { name: name.clone(), permissions });
        }
        Roles { by_name }
    }

    /// The role called `name`, if there is one.
    pub fn get(&self, name: &str) -> Option<&Role> {
        self.by_name.get(name)
    }

    /// All role names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.by_name.keys().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_and_custom_roles() {
        let config = Config::parse(
            "[roles.marketing]\npermissions = [\"entities.read\", \"feed.read\"]\n",
            std::path::Path::new("."),
        )
        .expect("config");
        let roles = Roles::new(&config);
        assert_eq!(
            roles.names().collect::<Vec<_>>(),
            ["admin", "analyst", "auditor", "ingest-service", "marketing", "steward"]
        );
        let admin = roles.get("admin").expect("admin");
        assert!(Permission::ALL.iter().all(|p| admin.allows(*p)));
        let analyst = roles.get("analyst").expect("analyst");
        assert!(analyst.allows(Permission::EntitiesRead) && !analyst.allows(Permission::PiiRead));
        assert!(roles.get("steward").expect("steward").allows(Permission::PiiRead));
        let ingest = roles.get("ingest-service").expect("ingest");
        assert!(ingest.allows(Permission::RecordsWrite) && !ingest.allows(Permission::EntitiesRead));
        let marketing = roles.get("marketing").expect("custom");
        assert_eq!(marketing.permissions, [Permission::EntitiesRead, Permission::FeedRead].into());
        assert!(roles.get("root").is_none());
    }
}
