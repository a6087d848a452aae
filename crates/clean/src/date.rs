//! Dates in the formats real systems use: YYYY-MM-DD, YYYYMMDD, DD-MM-YYYY, DD/MM/YY, MM/DD/YYYY (when the
//! source says so), "12 March 1980", "mrt 12, 1980", ISO timestamps. Impossible dates are rejected.

use chrono::{NaiveDate, NaiveDateTime};
use model::BirthDate;

/// Parses a calendar date. `month_first` settles ambiguous day/month order (03/04/1980); a value above 12
/// settles it by itself.
pub fn parse_date(raw: &str, month_first: bool) -> Result<BirthDate, String> {
    let text = raw.trim();
    let date_part = text.split(['T', ' ']).next().unwrap_or(text);
    let date_part = if date_part.chars().filter(char::is_ascii_digit).count() >= 6 { date_part } else { text };
    let lower = date_part.to_lowercase();
    let groups: Vec<&str> = lower.split(|c: char| !c.is_alphanumeric()).filter(|g| !g.is_empty()).collect();
    let well_formed = |g: &&str| g.bytes().all(|b| b.is_ascii_digit()) || g.chars().all(char::is_alphabetic);
    if !groups.iter().all(well_formed) {
        return Err(format!("`{text}` is not a date in a known format"));
    }
    let month_word = groups.iter().position(|g| g.chars().all(char::is_alphabetic));
    let (y, m, d) = match (groups.as_slice(), month_word) {
        ([one], None) if one.len() == 8 => {
            let head: u32 = num(&one[..4])?;
            if (1800..=2200).contains(&head) {
                (head, num(&one[4..6])?, num(&one[6..])?)
            } else {
                (num(&one[4..])?, num(&one[2..4])?, num(&one[..2])?)
            }
        }
        ([a, b, c], None) if a.len() == 4 => (num(a)?, num(b)?, num(c)?),
        ([a, b, c], None) if c.len() == 4 || c.len() == 2 => {
            let (first, second): (u32, u32) = (num(a)?, num(b)?);
            let year = full_year(num(c)?, c.len());
            if first > 12 || (!month_first && second <= 12) { (year, second, first) } else { (year, first, second) }
        }
        (parts @ [_, _, _], Some(i)) => {
            let month = month_number(parts[i]).ok_or_else(|| format!("`{}` is not a month", parts[i]))?;
            let rest: Vec<&str> = parts.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, p)| *p).collect();
            let (day, year) = if rest[0].len() == 4 { (rest[1], rest[0]) } else { (rest[0], rest[1]) };
            (full_year(num(year)?, year.len()), month, num(day)?)
        }
        _ => return Err(format!("`{text}` is not a date in a known format")),
    };
    let year = u16::try_from(y).map_err(|_| format!("`{text}`: year out of range"))?;
    NaiveDate::from_ymd_opt(i32::from(year), m, d)
        .map(|_| BirthDate { year, month: m as u8, day: d as u8 })
        .ok_or_else(|| format!("`{text}` is not a real date"))
}

/// Parses a birth date and checks that it is plausible: not after `today`, not before 1880.
pub fn clean_birth_date(raw: &str, month_first: bool, today: BirthDate) -> Result<BirthDate, String> {
    let date = parse_date(raw, month_first)?;
    if date > today {
        return Err(format!("birth date `{date}` lies in the future"));
    }
    if date.year < 1880 {
        return Err(format!("birth date `{date}` is before 1880"));
    }
    Ok(date)
}

/// Seconds since the epoch as an RFC 3339 UTC timestamp: `2025-06-08T12:00:00Z` (empty when out of range).
pub fn format_timestamp(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0).map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string()).unwrap_or_default()
}

/// Parses a timestamp (RFC 3339, `YYYY-MM-DD HH:MM:SS`, or a date) into seconds since the Unix epoch (UTC).
pub fn parse_timestamp(raw: &str, month_first: bool) -> Result<i64, String> {
    let text = raw.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(t.timestamp());
    }
    for format in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%d-%m-%Y %H:%M:%S"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
            return Ok(t.and_utc().timestamp());
        }
    }
    let d = parse_date(text, month_first)?;
    NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))
        .and_then(|n| n.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp())
        .ok_or_else(|| format!("`{text}` is not a timestamp"))
}

fn num(s: &str) -> Result<u32, String> {
    s.parse().map_err(|_| format!("`{s}` is not a number"))
}

/// Two-digit years: 00–29 are this century, 30–99 the last (birth dates of living customers).
fn full_year(y: u32, digits: usize) -> u32 {
    match digits {
        2 if y < 30 => 2000 + y,
        2 => 1900 + y,
        _ => y,
    }
}

/// Month names and abbreviations in English, Dutch, German and French.
fn month_number(word: &str) -> Option<u32> {
    const MONTHS: [&[&str]; 12] = [
        &["jan", "januari", "january", "januar", "janvier"],
        &["feb", "februari", "february", "februar", "fevrier"],
        &["mar", "mrt", "maart", "march", "marz", "maerz", "mars"],
        &["apr", "april", "avril"],
        &["may", "mei", "mai"],
        &["jun", "juni", "june", "juin"],
        &["jul", "juli", "july", "juillet"],
        &["aug", "augustus", "august", "aout"],
        &["sep", "sept", "september", "septembre"],
        &["oct", "okt", "oktober", "october", "octobre"],
        &["nov", "november", "novembre"],
        &["dec", "dez", "december", "dezember", "decembre"],
    ];
    let folded = crate::text::fold(word);
    MONTHS.iter().position(|names| names.contains(&folded.as_str())).map(|i| i as u32 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(raw: &str, month_first: bool, expected: Option<&str>) {
        let got = parse_date(raw, month_first).ok().map(|d| d.to_string());
        assert_eq!(got.as_deref(), expected, "parse_date({raw:?}, month_first={month_first})");
    }

    #[test]
    fn formats() {
        check("1980-03-12", false, Some("1980-03-12"));
        check("19800312", false, Some("1980-03-12"));
        check("12031980", false, Some("1980-03-12"));
        check("12-03-1980", false, Some("1980-03-12"));
        check("12/03/1980", true, Some("1980-12-03"));
        check("13/03/1980", true, Some("1980-03-13"));
        check("03/13/1980", false, Some("1980-03-13"));
        check("12.3.80", false, Some("1980-03-12"));
        check("12 March 1980", false, Some("1980-03-12"));
        check("12-mrt-1980", false, Some("1980-03-12"));
        check("March 12, 1980", false, Some("1980-03-12"));
        check("1980-03-12T00:00:00Z", false, Some("1980-03-12"));
        check("1980-02-30", false, None);
        check("19560431", false, None);
        check("yesterday", false, None);
        check("", false, None);
        check("1980-13-01", false, None);
    }

    #[test]
    fn birth_dates_must_be_plausible() {
        let today = BirthDate { year: 2026, month: 11, day: 23 };
        assert!(clean_birth_date("2030-01-01", false, today).expect_err("should be rejected").contains("future"));
        assert!(clean_birth_date("1850-01-01", false, today).expect_err("should be rejected").contains("1880"));
        assert!(clean_birth_date("1999-01-01", false, today).is_ok());
    }

    #[test]
    fn timestamps() {
        assert_eq!(parse_timestamp("1970-01-02T00:00:00Z", false), Ok(86_400));
        assert_eq!(parse_timestamp("1970-01-02 00:00:00", false), Ok(86_400));
        assert_eq!(parse_timestamp("02-01-1970", false), Ok(86_400));
        assert!(parse_timestamp("soon", false).is_err());
    }

    proptest::proptest! {
        #[test]
        fn never_panics_and_round_trips(s in "\\PC{0,24}") {
            if let Ok(d) = parse_date(&s, false) {
                proptest::prop_assert_eq!(parse_date(&d.to_string(), false), Ok(d));
            }
        }
    }
}
