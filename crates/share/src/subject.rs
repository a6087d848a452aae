//! The rights of a data subject as the API and the command line offer them: access (everything held about a
//! person as one JSON document) and erasure (through the store, which leaves a receipt).

use serde::Serialize;
use store::{Subject, SubjectData};

/// The format name and version of a subject export.
pub const EXPORT_FORMAT: &str = "cdihub.subject-export/1";

/// A right-of-access export: the golden record, every source record with every version, quarantine entries,
/// history, scored pairs, stewards' decisions and the audit entries that name the person.
#[derive(Debug, Serialize)]
pub struct SubjectExport<'a> {
    /// [`EXPORT_FORMAT`].
    pub format: &'static str,
    /// The entity, `E12`; or the source record, `crm:K1`, when it is in no entity.
    pub subject: String,
    /// When, seconds since the epoch.
    pub exported_at: i64,
    /// The hub and its version.
    pub exported_by: String,
    /// What the hub holds.
    pub data: &'a SubjectData,
}

/// The subject a command-line or request argument names: an entity id (`E12`) or a source record (`crm:K1`).
pub fn subject_named(text: &str) -> Result<Subject, String> {
    match (text.parse::<model::EntityId>(), model::RecordKey::parse(text)) {
        (Ok(id), _) => Ok(Subject::Entity(id)),
        (_, Some(key)) => Ok(Subject::Record(key)),
        _ => Err(format!("`{text}` is neither an entity id (E12) nor a source record (source:id)")),
    }
}

/// Why there is nothing to export or erase.
pub fn nothing_held(who: &Subject) -> String {
    match who {
        Subject::Entity(id) => format!("no live entity {id}"),
        Subject::Record(key) => format!("nothing is held under {key}: no record, quarantine entry or entity"),
    }
}

impl<'a> SubjectExport<'a> {
    /// The export of `data`, gathered for `who`, made `now`.
    pub fn new(who: &Subject, data: &'a SubjectData, now: i64) -> Self {
        SubjectExport {
            format: EXPORT_FORMAT,
            subject: data.entity.map_or_else(|| who.to_string(), |e| e.to_string()),
            exported_at: now,
            exported_by: format!("cdihub {}", env!("CARGO_PKG_VERSION")),
            data,
        }
    }
}
