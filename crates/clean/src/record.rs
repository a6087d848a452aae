//! Cleans one mapped record: every field through its standardiser, then the record-level validation rules
//! (required fields, enough identifying data). Returns the clean record and everything that was wrong.

use crate::{address, country, date, email, name, phone, postcode, text};
use model::{BirthDate, CleanRecord, CustomerRecord, Field, Issue};

/// What cleaning needs to know about the source and the moment.
#[derive(Debug, Clone)]
pub struct CleanContext {
    /// The source's default country (ISO alpha-2) for phones and postcodes.
    pub country: Option<String>,
    /// Ambiguous dates put the month first.
    pub month_first: bool,
    /// Today's date; birth dates after it are rejected.
    pub today: BirthDate,
    /// Canonical fields the source promises; a record without one is quarantined.
    pub required: Vec<Field>,
}

/// Cleans a record. Value issues mean a value was dropped; a record issue means the record must be quarantined.
pub fn clean_record(raw: &CustomerRecord, ctx: &CleanContext) -> (CleanRecord, Vec<Issue>) {
    let mut issues = Vec::new();
    let mut value = |field: Field| -> Option<&str> {
        let v = raw.first(field)?;
        if v.len() > text::MAX_VALUE_LEN {
            issues.push(Issue::value(field.name(), v, format!("longer than {} bytes", text::MAX_VALUE_LEN)));
            return None;
        }
        Some(v)
    };
    let full_name = value(Field::FullName);
    let given = value(Field::GivenName);
    let family = value(Field::FamilyName);
    let prefix = value(Field::NamePrefix);
    let initials = value(Field::Initials);
    let birth = value(Field::BirthDate);
    let line = value(Field::AddressLine);
    let street = value(Field::Street);
    let number = value(Field::HouseNumber);
    let addition = value(Field::HouseNumberAddition);
    let post = value(Field::Postcode);
    let city = value(Field::City);
    let country_raw = value(Field::Country);
    let organisation = value(Field::Organisation);
    let updated = value(Field::UpdatedAt);

    let mut out = CleanRecord::default();
    // Names: a full name first, then explicit parts override what it gave.
    if let Some(full) = &full_name {
        out.name = name::parse_full(full);
    }
    if let Some(g) = &given {
        let parsed = name::parse_given(g);
        out.name.given = parsed.given.or(out.name.given);
        out.name.initials = parsed.initials.or(out.name.initials);
    }
    if let Some(f) = &family {
        let (p, fam) = name::parse_family(f);
        out.name.family = fam.or(out.name.family);
        out.name.prefix = p.or(out.name.prefix);
    }
    if let Some(p) = &prefix {
        out.name.prefix = name::parse_prefix(p);
    }
    if let Some(i) = &initials {
        match name::parse_initials(i) {
            Some(parsed) => out.name.initials = Some(parsed),
            None => issues.push(Issue::value("initials", i, "initials must be 1 to 8 letters")),
        }
    }

    if let Some(b) = &birth {
        match date::clean_birth_date(b, ctx.month_first, ctx.today) {
            Ok(d) => out.birth_date = Some(d),
            Err(reason) => issues.push(Issue::value("birth_date", b, reason)),
        }
    }

    // Country first: phones and postcodes depend on it.
    out.address.country = match &country_raw {
        Some(c) => country::iso_code(c).or_else(|| {
            issues.push(Issue::value("country", c, "unknown country name or code"));
            None
        }),
        None => None,
    };
    let country = out.address.country.clone().or_else(|| ctx.country.as_ref().map(|c| c.to_ascii_uppercase()));
    let country = country.as_deref();

    for e in raw.all(Field::Email) {
        match email::clean_email(e) {
            Ok(e) if !out.emails.contains(&e) => out.emails.push(e),
            Ok(_) => {}
            Err(reason) => issues.push(Issue::value("email", e, reason)),
        }
    }
    for p in raw.all(Field::Phone) {
        match phone::clean_phone(p, country) {
            Ok(p) if !out.phones.contains(&p) => out.phones.push(p),
            Ok(_) => {}
            Err(reason) => issues.push(Issue::value("phone", p, reason)),
        }
    }

    if let Some(l) = &line {
        let split = address::split_address_line(l);
        out.address.street = split.street.and_then(|s| address::clean_street(&s, country));
        out.address.house_number = split.number;
        out.address.addition = split.addition;
    }
    // A one-field address may carry the postcode and city too; separately mapped fields win.
    let locality = line.map(|l| address::split_locality(l, country)).unwrap_or_default();
    let post = post.or(locality.postcode.as_deref());
    let city = city.or(locality.city.as_deref());
    if let Some(s) = &street {
        out.address.street = address::clean_street(s, country).or(out.address.street.take());
    }
    if let Some(n) = &number {
        let (num, add) = address::split_house_number(n);
        if num.is_none() {
            issues.push(Issue::value("house_number", n, "house number has no digits"));
        }
        out.address.house_number = num.or(out.address.house_number.take());
        out.address.addition = add.or(out.address.addition.take());
    }
    if let Some(a) = &addition {
        out.address.addition = address::normalise_addition(a);
    }
    if let Some(p) = &post {
        match postcode::clean_postcode(p, country) {
            Ok(p) => out.address.postcode = Some(p),
            Err(reason) => issues.push(Issue::value("postcode", p, reason)),
        }
    }
    out.address.city =
        city.and_then(text::tidy).map(|c| if text::is_single_case(&c) { text::title_case(&c) } else { c });
    out.organisation = organisation.and_then(text::tidy);
    if let Some(u) = &updated {
        match date::parse_timestamp(u, ctx.month_first) {
            Ok(t) => out.updated_at = Some(t),
            Err(reason) => issues.push(Issue::value("updated_at", u, reason)),
        }
    }
    for (k, v) in &raw.identifiers {
        match text::tidy(v) {
            Some(v) if v.len() > text::MAX_VALUE_LEN => {
                issues.push(Issue::value(format!("identifier.{k}"), &v, "identifier is implausibly long"));
            }
            Some(v) => {
                out.identifiers.insert(k.to_string(), v);
            }
            None => {}
        }
    }
    for (k, v) in &raw.attributes {
        if let Some(v) = text::tidy(v) {
            out.attributes.insert(k.to_string(), v);
        }
    }
    for (purpose, answer) in &raw.consent {
        match crate::consent::parse_consent(answer) {
            Ok(granted) => {
                out.consent.insert(purpose.to_string(), granted);
            }
            Err(reason) => issues.push(Issue::value(format!("consent.{purpose}"), answer, reason)),
        }
    }
    validate(&out, ctx, &mut issues);
    (out, issues)
}

/// Record-level rules: required fields present, and enough identifying data to ever match the record.
fn validate(rec: &CleanRecord, ctx: &CleanContext, issues: &mut Vec<Issue>) {
    for field in &ctx.required {
        if !has_field(rec, *field) {
            issues.push(Issue::record(format!("required field `{field}` is missing or was rejected")));
        }
    }
    // A family name with a birth date, a place or an organisation can still be told apart; a given name alone cannot.
    let has_name = rec.name.family.is_some();
    let strong = !rec.emails.is_empty() || !rec.phones.is_empty() || !rec.identifiers.is_empty();
    let supporting = [
        rec.birth_date.is_some(),
        rec.address.street.is_some() || rec.address.postcode.is_some() || rec.address.city.is_some(),
        rec.organisation.is_some(),
    ]
    .into_iter()
    .filter(|b| *b)
    .count();
    let usable = strong || (has_name && supporting >= 1);
    if !usable {
        issues.push(Issue::record(
            "no usable identifying data: needs an email, phone or identifier, or a family name with a birth \
             date, an address or city, or an organisation",
        ));
    }
}

fn has_field(rec: &CleanRecord, field: Field) -> bool {
    let a = &rec.address;
    match field {
        Field::GivenName => rec.name.given.is_some(),
        Field::FamilyName => rec.name.family.is_some(),
        Field::NamePrefix => rec.name.prefix.is_some(),
        Field::Initials => rec.name.initials.is_some(),
        Field::FullName => rec.name.family.is_some() || rec.name.given.is_some(),
        Field::BirthDate => rec.birth_date.is_some(),
        Field::Email => !rec.emails.is_empty(),
        Field::Phone => !rec.phones.is_empty(),
        Field::Street | Field::AddressLine => a.street.is_some(),
        Field::HouseNumber => a.house_number.is_some(),
        Field::HouseNumberAddition => a.addition.is_some(),
        Field::Postcode => a.postcode.is_some(),
        Field::City => a.city.is_some(),
        Field::Country => a.country.is_some(),
        Field::Organisation => rec.organisation.is_some(),
        Field::UpdatedAt => rec.updated_at.is_some(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::Severity;

    fn ctx() -> CleanContext {
        CleanContext {
            country: Some("NL".into()),
            month_first: false,
            today: BirthDate { year: 2026, month: 11, day: 23 },
            required: vec![],
        }
    }

    fn record<'a>(pairs: &[(Field, &'a str)]) -> CustomerRecord<'a> {
        let mut r = CustomerRecord::default();
        for (f, v) in pairs {
            r.push(*f, v);
        }
        r
    }

    #[test]
    fn cleans_a_dutch_crm_row() {
        let r = record(&[
            (Field::FullName, "de Vries, H.J."),
            (Field::AddressLine, "Velperbroek 46A"),
            (Field::Postcode, "6824ab"),
            (Field::City, "ARNHEM"),
            (Field::Phone, "06-12345678"),
            (Field::Email, "H.deVries@Ziggo.nl"),
            (Field::BirthDate, "03-04-1961"),
        ]);
        let (c, issues) = clean_record(&r, &ctx());
        assert!(issues.is_empty(), "{issues:?}");
        assert_eq!(c.name.family.as_deref(), Some("Vries"));
        assert_eq!(c.name.prefix.as_deref(), Some("de"));
        assert_eq!(c.name.initials.as_deref(), Some("HJ"));
        assert_eq!(c.address.street.as_deref(), Some("Velperbroek"));
        assert_eq!(c.address.house_number.as_deref(), Some("46"));
        assert_eq!(c.address.addition.as_deref(), Some("A"));
        assert_eq!(c.address.postcode.as_deref(), Some("6824 AB"));
        assert_eq!(c.address.city.as_deref(), Some("Arnhem"));
        assert_eq!(c.phones, vec!["+31612345678".to_string()]);
        assert_eq!(c.emails, vec!["h.devries@ziggo.nl".to_string()]);
        assert_eq!(c.birth_date.map(|d| d.to_string()).as_deref(), Some("1961-04-03"));
    }

    #[test]
    fn a_one_field_address_fills_postcode_and_city() {
        let r = record(&[(Field::FullName, "HJ de Vries"), (Field::AddressLine, "Velperbroek 46A, 6824ab ARNHEM")]);
        let (c, issues) = clean_record(&r, &ctx());
        assert!(issues.is_empty(), "{issues:?}");
        assert_eq!(c.name.initials.as_deref(), Some("HJ"));
        assert_eq!(c.address.house_number.as_deref(), Some("46"));
        assert_eq!(c.address.postcode.as_deref(), Some("6824 AB"));
        assert_eq!(c.address.city.as_deref(), Some("Arnhem"));
    }

    #[test]
    fn bad_values_are_dropped_with_a_reason() {
        let r = record(&[
            (Field::FamilyName, "Jansen"),
            (Field::Email, "not-an-email"),
            (Field::Email, "jansen@example.com"),
            (Field::BirthDate, "31-02-1980"),
        ]);
        let (c, issues) = clean_record(&r, &ctx());
        assert_eq!(c.emails, vec!["jansen@example.com".to_string()]);
        assert_eq!(c.birth_date, None);
        assert_eq!(issues.len(), 2, "{issues:?}");
        assert!(issues.iter().all(|i| i.severity == Severity::Value));
        assert!(issues.iter().any(|i| i.field.as_deref() == Some("birth_date") && i.reason.contains("real date")));
    }

    #[test]
    fn records_without_identifying_data_are_rejected() {
        let (_, issues) = clean_record(&record(&[(Field::City, "Arnhem")]), &ctx());
        assert!(issues.iter().any(|i| i.severity == Severity::Record && i.reason.contains("identifying")));
        let (_, issues) = clean_record(&record(&[(Field::GivenName, "Henk"), (Field::City, "Arnhem")]), &ctx());
        assert!(issues.iter().any(|i| i.severity == Severity::Record));
        let (_, issues) = clean_record(&record(&[(Field::Phone, "0612345678")]), &ctx());
        assert!(issues.is_empty(), "{issues:?}");
    }

    #[test]
    fn required_fields_and_huge_values() {
        let mut c = ctx();
        c.required = vec![Field::Email];
        let huge = "x".repeat(10 * 1024 * 1024);
        let (rec, issues) = clean_record(&record(&[(Field::FamilyName, &huge), (Field::Phone, "0612345678")]), &c);
        assert_eq!(rec.name.family, None);
        assert!(issues.iter().any(|i| i.reason.contains("longer than")));
        assert!(issues.iter().any(|i| i.severity == Severity::Record && i.reason.contains("`email`")));
    }
}
