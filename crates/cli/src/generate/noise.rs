//! The errors real systems make: typos, swapped day and month, dropped additions, missing values,
//! and the many ways people write one phone number or name.

use super::people::{Address, Person};
use fastrand::Rng;

/// One source's noisy view of a person.
#[derive(Debug, Clone)]
pub struct View {
    /// Given name as this source has it (call name, official name, or both official names).
    pub given: String,
    /// Initials of the official given names, "H.J." style.
    pub initials: String,
    /// Family-name prefix.
    pub prefix: String,
    /// Family name.
    pub family: String,
    /// Birth date, if the source has it.
    pub birth: Option<(u16, u8, u8)>,
    /// Address, if the source has it.
    pub address: Option<Address>,
    /// Phone numbers, national digits.
    pub phones: Vec<String>,
    /// Email, if the source has it.
    pub email: Option<String>,
}

/// A typo: deletion, transposition, insertion or substitution of one letter (never the first).
pub fn typo(rng: &mut Rng, s: &str) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    if chars.len() < 3 {
        return s.to_string();
    }
    let i = rng.usize(1..chars.len() - 1);
    let letter = b"aeioulnrst"[rng.usize(..10)] as char;
    match rng.u8(0..4) {
        0 => {
            chars.remove(i);
        }
        1 => chars.swap(i, i + 1),
        2 => chars.insert(i, letter),
        _ => chars[i] = letter,
    }
    chars.into_iter().collect()
}

/// A noisy view; `p_birth`, `p_address` and `p_email` are how often this source has those at all.
pub fn view(rng: &mut Rng, p: &Person, p_birth: f32, p_address: f32, p_email: f32) -> View {
    let mut given = match rng.u8(0..10) {
        0..=6 => p.call_name.to_string(),
        7 | 8 => p.given[0].to_string(),
        _ => p.given.join(" "),
    };
    if rng.f32() < 0.06 {
        given = typo(rng, &given);
    }
    let mut family = p.family.to_string();
    if rng.f32() < 0.05 {
        family = typo(rng, &family);
    }
    let initials: String = p.given.iter().filter_map(|g| g.chars().next()).map(|c| format!("{c}.")).collect();
    let birth = (rng.f32() < p_birth).then(|| {
        let (y, m, d) = p.birth;
        match rng.u8(0..50) {
            0 if d <= 12 => (y, d, m),
            1 => (y, m, (d % 28) + 1),
            _ => (y, m, d),
        }
    });
    let address = (rng.f32() < p_address).then(|| {
        let mut a = match &p.moved_to {
            Some(new) if rng.bool() => new.clone(),
            _ => p.address.clone(),
        };
        if rng.f32() < 0.3 {
            a.addition = "";
        }
        if rng.f32() < 0.02 {
            a.number += 2;
        }
        a
    });
    let mut phones = Vec::new();
    if let Some(m) = &p.mobile
        && rng.f32() < 0.8
    {
        phones.push(m.clone());
    }
    if let Some(l) = &p.landline
        && rng.f32() < 0.5
    {
        phones.push(l.clone());
    }
    let email = p
        .email
        .as_ref()
        .filter(|_| rng.f32() < p_email)
        .map(|e| if rng.f32() < 0.03 { typo(rng, e) } else { e.clone() });
    View { given, initials, prefix: p.prefix.to_string(), family, birth, address, phones, email }
}

/// A national phone number written the way people write it.
pub fn phone_text(rng: &mut Rng, digits: &str) -> String {
    let mobile = digits.starts_with("06");
    let (area, rest) = if mobile { digits.split_at(2) } else { digits.split_at(3) };
    match rng.u8(0..6) {
        0 => format!("{area}-{rest}"),
        1 => format!("+31 {} {rest}", &area[1..]),
        2 => format!("0031{}{rest}", &area[1..]),
        3 => format!("({area}) {rest}"),
        4 => format!("{area} {} {}", &rest[..rest.len() / 2], &rest[rest.len() / 2..]),
        _ => digits.to_string(),
    }
}

/// "6824 AB", "6824AB" or "6824ab".
pub fn postcode_text(rng: &mut Rng, a: &Address) -> String {
    match rng.u8(0..3) {
        0 => format!("{} {}", a.pc_digits, a.pc_letters),
        1 => format!("{}{}", a.pc_digits, a.pc_letters),
        _ => format!("{}{}", a.pc_digits, a.pc_letters.to_lowercase()),
    }
}

/// "46A", "46 A" or "46-a".
pub fn house_text(rng: &mut Rng, a: &Address) -> String {
    if a.addition.is_empty() {
        return a.number.to_string();
    }
    match rng.u8(0..3) {
        0 => format!("{}{}", a.number, a.addition),
        1 => format!("{} {}", a.number, a.addition),
        _ => format!("{}-{}", a.number, a.addition.to_lowercase()),
    }
}

/// "de Vries" style family name with its prefix.
pub fn full_family(v: &View) -> String {
    if v.prefix.is_empty() { v.family.clone() } else { format!("{} {}", v.prefix, v.family) }
}
