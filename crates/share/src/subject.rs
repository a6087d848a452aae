//! The rights of a data subject as the API and the command line offer them: access (everything held about a
//! person as one JSON document) and erasure (through the store, which leaves a receipt).

use serde::Serialize;
use store::SubjectData;

/// The format name and version of a subject export.
pub const EXPORT_FORMAT: &str = "cdihub.subject-export/1";

/// A right-of-access export: the golden record, every source record with every version, quarantine entries,
/// history, scored pairs, stewards' decisions and the audit entries that name the person.
#[derive(Debug, Serialize)]
pub struct SubjectExport<'a> {
    /// [`EXPORT_FORMAT`].
    pub format: &'static str,
    /// The entity, `E12`.
    pub subject: String,
    /// When, seconds since the epoch.
    pub exported_at: i64,
    /// The hub and its version.
    pub exported_by: String,
    /// What the hub holds.
    pub data: &'a SubjectData,
}

impl<'a> SubjectExport<'a> {
    /// The export of `data`, made `now`.
    pub fn new(data: &'a SubjectData, now: i64) -> Self {
        SubjectExport {
            format: EXPORT_FORMAT,
            subject: data.entity.to_string(),
            exported_at: now,
            exported_by: format!("cdihub {}", env!("CARGO_PKG_VERSION")),
            data,
        }
    }
}
