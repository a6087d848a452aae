//! The four source systems of the synthetic company, each with its own schema, format and habits:
//! a CRM (semicolon CSV in Latin-1), a web shop (NDJSON, nested), a support desk ("Family, I." names) and a
//! billing system (JSON array, names in parts, day/month dates).

use super::noise::{View, full_family, house_text, phone_text, postcode_text, typo, view};
use super::people::Person;
use anyhow::Result;
use fastrand::Rng;
use serde_json::json;
use std::io::Write;

/// Writes records and remembers the truth.
pub struct Sink<'a> {
    /// Truth rows: source, source id, person.
    pub truth: &'a mut Vec<(String, String, u64)>,
}

fn maybe_bad_email(rng: &mut Rng, email: Option<String>) -> String {
    match email {
        Some(_) if rng.f32() < 0.01 => "n.v.t.".to_string(),
        Some(e) if rng.f32() < 0.01 => e.split('@').next().unwrap_or_default().to_string() + "@",
        Some(e) => e,
        None => String::new(),
    }
}

/// CRM: `klantnr;naam;geboortedatum;adres;postcode;woonplaats;telefoon;email;gewijzigd_op`, Latin-1.
pub fn crm(rng: &mut Rng, people: &[&Person], out: &mut dyn Write, sink: &mut Sink<'_>) -> Result<u64> {
    let mut text = String::from("klantnr;naam;geboortedatum;adres;postcode;woonplaats;telefoon;email;gewijzigd_op\n");
    let mut n = 0;
    for p in people {
        n += 1;
        let id = format!("K{:06}", n);
        let v = view(rng, p, 0.9, 0.95, 0.7);
        let naam = match rng.u8(0..4) {
            0 | 1 => format!("{} {}", v.given, full_family(&v)),
            2 => format!("{} {}", v.initials, full_family(&v)),
            _ if v.prefix.is_empty() => format!("{}, {}", v.family, v.given),
            _ => format!("{}, {} {}", v.family, v.initials, v.prefix),
        };
        let birth =
            v.birth.map(|(y, m, d)| if rng.f32() < 0.005 { "31-02-1980".into() } else { format!("{d:02}-{m:02}-{y}") });
        let (adres, postcode, plaats) = match &v.address {
            Some(a) => (
                format!("{} {}", a.street, house_text(rng, a)),
                postcode_text(rng, a),
                if rng.f32() < 0.3 { a.city.to_uppercase() } else { a.city.to_string() },
            ),
            None => Default::default(),
        };
        let phone = v.phones.first().map(|ph| phone_text(rng, ph)).unwrap_or_default();
        let email = maybe_bad_email(rng, v.email.clone());
        let changed =
            format!("20{:02}-{:02}-{:02} 10:{:02}:00", rng.u8(15..26), rng.u8(1..13), rng.u8(1..29), rng.u8(0..60));
        let row = [id.clone(), naam, birth.unwrap_or_default(), adres, postcode, plaats, phone, email, changed];
        if rng.f32() < 0.002 {
            // A truncated export line: the reader must quarantine it, not crash.
            text.push_str(&row[..4].join(";"));
        } else {
            text.push_str(&row.join(";"));
            sink.truth.push(("crm".into(), id, p.id));
        }
        text.push('\n');
    }
    // A Latin-1 export transliterates what Latin-1 cannot hold (Ayşe → Ayse), as real exporters do.
    let latin1: String =
        text.chars()
            .map(|c| {
                if u32::from(c) <= 0xFF {
                    c.to_string()
                } else {
                    deunicode::deunicode_char(c).unwrap_or("?").to_string()
                }
            })
            .collect();
    let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(&latin1);
    out.write_all(&bytes)?;
    Ok(n)
}

/// Web shop: one JSON document per line with a nested customer and address; some people have two accounts.
pub fn webshop(rng: &mut Rng, people: &[&Person], out: &mut dyn Write, sink: &mut Sink<'_>) -> Result<u64> {
    let mut n = 0;
    for p in people {
        let accounts = if rng.f32() < 0.05 { 2 } else { 1 };
        for _ in 0..accounts {
            n += 1;
            let id = format!("W{}", 100_000 + n);
            let v = view(rng, p, 0.6, 0.9, 0.97);
            let phones: Vec<String> = v.phones.iter().map(|ph| phone_text(rng, ph)).collect();
            let address = v.address.as_ref().map(|a| {
                json!({"street": a.street, "number": a.number.to_string(), "addition": a.addition,
                       "zip": postcode_text(rng, a), "city": a.city, "country": "NL"})
            });
            let tier = ["bronze", "silver", "gold"][rng.usize(..3)];
            let doc = json!({
                "id": id,
                "customer": {"first_name": v.given, "last_name": full_family(&v)},
                "email": v.email,
                "phones": phones,
                "address": address,
                "dob": v.birth.map(|(y, m, d)| format!("{y}-{m:02}-{d:02}")),
                "updated_at": format!("2025-{:02}-{:02}T12:00:00Z", rng.u8(1..13), rng.u8(1..29)),
                "loyalty": {"tier": tier},
            });
            writeln!(out, "{doc}")?;
            sink.truth.push(("webshop".into(), id, p.id));
        }
    }
    Ok(n)
}

/// Support desk: `customer_ref,contact,phone,email,city,last_contact`, names as "Vries, H. de".
pub fn support(rng: &mut Rng, people: &[&Person], out: &mut dyn Write, sink: &mut Sink<'_>) -> Result<u64> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(["customer_ref", "contact", "phone", "email", "city", "last_contact"])?;
    let mut n = 0;
    for p in people {
        n += 1;
        let id = format!("S-{}", 50_000 + n);
        let v: View = view(rng, p, 0.0, 0.6, 0.8);
        let first = v.initials.chars().next().map(|c| format!("{c}.")).unwrap_or_default();
        let contact = match (rng.u8(0..4), v.prefix.is_empty()) {
            (0, _) => format!("{}, {}", full_family(&v), first),
            (1, false) => format!("{}, {} {}", v.family, first, v.prefix),
            (1, true) | (2, _) => format!("{}, {}", v.family, v.initials),
            _ => format!("{}, {}", v.family, v.given),
        };
        let phone = v.phones.first().map(|ph| phone_text(rng, ph)).unwrap_or_default();
        let email = v.email.clone().unwrap_or_default();
        let city = v.address.as_ref().map(|a| a.city.to_string()).unwrap_or_default();
        let (phone, email) = if rng.f32() < 0.02 { (String::new(), String::new()) } else { (phone, email) };
        w.write_record([
            &id,
            &contact,
            &phone,
            &email,
            &city,
            &format!("2025-{:02}-{:02}", rng.u8(1..13), rng.u8(1..29)),
        ])?;
        sink.truth.push(("support".into(), id, p.id));
    }
    w.flush()?;
    Ok(n)
}

/// Billing: a JSON array; names in parts, `dd/mm/yyyy` dates, and often the CRM customer number.
pub fn billing(
    rng: &mut Rng,
    people: &[&Person],
    crm_ids: &std::collections::HashMap<u64, String>,
    out: &mut dyn Write,
    sink: &mut Sink<'_>,
) -> Result<u64> {
    let mut docs = Vec::with_capacity(people.len());
    for (i, p) in people.iter().enumerate() {
        let id = format!("B-{:06}", i + 1);
        let v = view(rng, p, 0.8, 1.0, 0.5);
        let a = v.address.clone();
        let surname = if rng.f32() < 0.02 { typo(rng, &v.family) } else { v.family.clone() };
        docs.push(json!({
            "account": id,
            "name": {"initials": v.initials, "prefix": v.prefix, "surname": surname},
            "street": a.as_ref().map(|a| a.street),
            "house_number": a.as_ref().map(|a| house_text(rng, a)),
            "postal_code": a.as_ref().map(|a| postcode_text(rng, a)),
            "city": a.as_ref().map(|a| a.city.to_uppercase()),
            "birth_date": v.birth.map(|(y, m, d)| format!("{d:02}/{m:02}/{y}")),
            "email": v.email,
            "crm_customer": crm_ids.get(&p.id).filter(|_| rng.f32() < 0.4),
        }));
        sink.truth.push(("billing".into(), id, p.id));
    }
    serde_json::to_writer(&mut *out, &docs)?;
    Ok(docs.len() as u64)
}
