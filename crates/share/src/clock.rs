//! The wall clock, in the two forms the hub uses: seconds since the epoch for timestamps, and today's date for
//! validating birth dates.

use chrono::Datelike;
use model::BirthDate;

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Today's date (UTC).
pub fn today() -> BirthDate {
    let today = chrono::Utc::now().date_naive();
    BirthDate { year: today.year() as u16, month: today.month() as u8, day: today.day() as u8 }
}
