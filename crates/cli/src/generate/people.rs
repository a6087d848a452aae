//! A synthetic population: Dutch (and some Belgian, German and Turkish) people with addresses, phones, emails
//! and birth dates, living in households, with namesakes — the hard negatives real customer data is full of.

use fastrand::Rng;

/// Given names with their common short forms (Dutch call names are often not the official first name).
pub const GIVEN: &[(&str, &[&str])] = &[
    ("Hendrik", &["Henk", "Henny"]),
    ("Johannes", &["Hans", "Jan", "Johan"]),
    ("Cornelis", &["Kees", "Cees"]),
    ("Pieter", &["Piet"]),
    ("Jacobus", &["Jaap", "Koos"]),
    ("Wilhelmus", &["Wim", "Willem"]),
    ("Gerardus", &["Gerard", "Gert"]),
    ("Adrianus", &["Arie", "Adrie"]),
    ("Antonius", &["Toon", "Anton"]),
    ("Franciscus", &["Frans"]),
    ("Theodorus", &["Theo"]),
    ("Elisabeth", &["Els", "Lies"]),
    ("Margaretha", &["Greet", "Margriet"]),
    ("Catharina", &["Karin", "Toos"]),
    ("Johanna", &["Anneke", "Jo"]),
    ("Wilhelmina", &["Wilma", "Mien"]),
    ("Maria", &["Marie", "Mieke"]),
    ("Anna", &["Anneke"]),
    ("Henk", &[]),
    ("Jan", &[]),
    ("Kees", &[]),
    ("Daan", &[]),
    ("Sem", &[]),
    ("Lucas", &[]),
    ("Thomas", &["Tom"]),
    ("Ruben", &[]),
    ("Bram", &[]),
    ("Joost", &[]),
    ("Bart", &[]),
    ("Niels", &[]),
    ("Koen", &[]),
    ("Tim", &[]),
    ("Bas", &[]),
    ("Mark", &[]),
    ("Erik", &[]),
    ("Wouter", &[]),
    ("Sjoerd", &[]),
    ("Dirk", &[]),
    ("Klaas", &[]),
    ("Gerrit", &[]),
    ("Jesse", &[]),
    ("Sanne", &[]),
    ("Emma", &[]),
    ("Lotte", &[]),
    ("Julia", &["Juul"]),
    ("Sophie", &["Fie"]),
    ("Femke", &[]),
    ("Ingrid", &[]),
    ("Marieke", &[]),
    ("Esther", &[]),
    ("Hanna", &[]),
    ("Noor", &[]),
    ("Tess", &[]),
    ("Fleur", &[]),
    ("Lieke", &[]),
    ("Sara", &[]),
    ("Lisa", &[]),
    ("Eva", &[]),
    ("Mila", &[]),
    ("Annelies", &[]),
    ("Monique", &[]),
    ("Petra", &[]),
    ("Ilse", &[]),
    ("Yvonne", &[]),
    ("Mirjam", &[]),
    ("Linda", &[]),
    ("Renée", &[]),
    ("Zoë", &[]),
    ("Chloé", &[]),
    ("Jürgen", &[]),
    ("Mehmet", &[]),
    ("Ayşe", &[]),
    ("Fatima", &[]),
    ("Mohamed", &["Mo"]),
    ("Stefan", &[]),
    ("Hélène", &[]),
    ("Frédérique", &["Fré"]),
    ("Joëlle", &[]),
    ("Luuk", &[]),
    ("Stijn", &[]),
    ("Maarten", &[]),
    ("Floor", &[]),
];

/// Family names as (prefix, name).
pub const FAMILY: &[(&str, &str)] = &[
    ("de", "Vries"),
    ("van den", "Berg"),
    ("van", "Dijk"),
    ("", "Bakker"),
    ("", "Janssen"),
    ("", "Visser"),
    ("", "Smit"),
    ("", "Meijer"),
    ("de", "Boer"),
    ("", "Mulder"),
    ("de", "Groot"),
    ("", "Bos"),
    ("", "Vos"),
    ("", "Peters"),
    ("", "Hendriks"),
    ("van", "Leeuwen"),
    ("", "Dekker"),
    ("", "Brouwer"),
    ("de", "Wit"),
    ("", "Dijkstra"),
    ("", "Smits"),
    ("de", "Graaf"),
    ("van der", "Meer"),
    ("van der", "Linden"),
    ("", "Kok"),
    ("", "Jacobs"),
    ("de", "Haan"),
    ("", "Vermeulen"),
    ("van den", "Heuvel"),
    ("van der", "Veen"),
    ("van den", "Broek"),
    ("de", "Bruijn"),
    ("van der", "Heijden"),
    ("", "Schouten"),
    ("van", "Beek"),
    ("", "Willems"),
    ("van", "Vliet"),
    ("van de", "Ven"),
    ("", "Hoekstra"),
    ("", "Maas"),
    ("", "Verhoeven"),
    ("", "Koster"),
    ("van", "Dam"),
    ("van der", "Wal"),
    ("", "Prins"),
    ("", "Blom"),
    ("", "Huisman"),
    ("", "Peeters"),
    ("", "Maes"),
    ("", "Claes"),
    ("", "Goossens"),
    ("", "Wouters"),
    ("", "Müller"),
    ("", "Schmidt"),
    ("", "Schneider"),
    ("", "Fischer"),
    ("", "Öztürk"),
    ("", "Yilmaz"),
    ("el", "Amrani"),
    ("", "Nguyen"),
    ("van 't", "Hof"),
    ("in 't", "Veld"),
    ("ter", "Horst"),
    ("ten", "Cate"),
    ("op de", "Beek"),
    ("", "Kuipers"),
    ("", "Postma"),
    ("", "Hermans"),
    ("", "Gerritsen"),
    ("", "Timmermans"),
    ("", "Groen"),
    ("", "Koning"),
    ("", "Sanders"),
    ("", "Lammers"),
    ("", "Wijnands"),
    ("van", "Rijn"),
    ("van", "Wijk"),
    ("", "Kramer"),
    ("", "Bosman"),
    ("", "Zijlstra"),
    ("", "Brinkman"),
    ("", "Veenstra"),
    ("van", "Os"),
];

/// Cities with their postcode ranges (four-digit part).
pub const CITIES: &[(&str, u16, u16)] = &[
    ("Amsterdam", 1011, 1109),
    ("Rotterdam", 3011, 3089),
    ("Den Haag", 2491, 2599),
    ("Utrecht", 3511, 3585),
    ("Eindhoven", 5611, 5658),
    ("Groningen", 9711, 9747),
    ("Arnhem", 6811, 6846),
    ("Nijmegen", 6511, 6546),
    ("Zwolle", 8011, 8047),
    ("Haarlem", 2011, 2037),
    ("Leiden", 2311, 2334),
    ("Maastricht", 6211, 6229),
    ("Tilburg", 5011, 5049),
    ("Breda", 4811, 4839),
    ("Apeldoorn", 7311, 7339),
    ("Enschede", 7511, 7548),
    ("Amersfoort", 3811, 3829),
    ("Delft", 2611, 2629),
    ("Deventer", 7411, 7439),
    ("Leeuwarden", 8911, 8939),
    ("'s-Hertogenbosch", 5211, 5249),
    ("Alkmaar", 1811, 1829),
    ("Hilversum", 1211, 1223),
    ("Velp", 6881, 6883),
];

/// Street names.
pub const STREETS: &[&str] = &[
    "Velperbroek",
    "Kerkstraat",
    "Dorpsstraat",
    "Molenweg",
    "Stationsweg",
    "Schoolstraat",
    "Julianastraat",
    "Wilhelminastraat",
    "Beatrixlaan",
    "Lindelaan",
    "Eikenlaan",
    "Hoofdstraat",
    "Nieuwstraat",
    "Marktplein",
    "Parallelweg",
    "Kastanjelaan",
    "Prinses Irenestraat",
    "Laan van Meerdervoort",
    "Oranjestraat",
    "Spoorstraat",
    "Burgemeester de Withstraat",
    "Rijksstraatweg",
    "Beukenlaan",
    "Bergweg",
    "Vijverlaan",
    "Zuiderzeestraat",
    "Bloemstraat",
    "Tulpstraat",
    "Rozengracht",
    "Keizersgracht",
    "Heerengracht",
    "Van Goghstraat",
    "Rembrandtlaan",
    "Vondelstraat",
    "Amsterdamseweg",
    "Utrechtseweg",
    "Graaf Ottostraat",
    "Sint Annastraat",
];

/// Email domains.
pub const DOMAINS: &[&str] =
    &["ziggo.nl", "kpnmail.nl", "gmail.com", "hotmail.com", "outlook.com", "xs4all.nl", "planet.nl", "home.nl"];

/// One address.
#[derive(Debug, Clone)]
pub struct Address {
    /// Street name.
    pub street: &'static str,
    /// House number.
    pub number: u16,
    /// Addition ("A", "2", "bis"), often empty.
    pub addition: &'static str,
    /// Postcode digits.
    pub pc_digits: u16,
    /// Postcode letters.
    pub pc_letters: String,
    /// City.
    pub city: &'static str,
}

/// One person: the truth every source record of them is a noisy view of.
#[derive(Debug, Clone)]
pub struct Person {
    /// Cluster id in the truth file.
    pub id: u64,
    /// Official given names (one or two).
    pub given: Vec<&'static str>,
    /// The name the person is called by.
    pub call_name: &'static str,
    /// Family-name prefix.
    pub prefix: &'static str,
    /// Family name.
    pub family: &'static str,
    /// Birth date (year, month, day).
    pub birth: (u16, u8, u8),
    /// Home address.
    pub address: Address,
    /// Address after a move, known to some sources only.
    pub moved_to: Option<Address>,
    /// Mobile number, national digits (10, starting 06).
    pub mobile: Option<String>,
    /// Household landline, national digits, shared by the household.
    pub landline: Option<String>,
    /// Personal email.
    pub email: Option<String>,
}

/// Makes a random address.
pub fn address(rng: &mut Rng) -> Address {
    let (city, lo, hi) = CITIES[rng.usize(..CITIES.len())];
    let additions = ["A", "B", "2", "bis", "1", "C"];
    let addition = if rng.f32() < 0.15 { additions[rng.usize(..additions.len())] } else { "" };
    let letters: String = (0..2).map(|_| (b'A' + rng.u8(0..26)) as char).collect();
    let pc_letters = if ["SA", "SD", "SS"].contains(&letters.as_str()) { "AB".to_string() } else { letters };
    Address {
        street: STREETS[rng.usize(..STREETS.len())],
        number: rng.u16(1..250),
        addition,
        pc_digits: rng.u16(lo..=hi),
        pc_letters,
        city,
    }
}

fn digits(rng: &mut Rng, n: usize) -> String {
    (0..n).map(|_| (b'0' + rng.u8(0..10)) as char).collect()
}

fn email_for(rng: &mut Rng, given: &str, prefix: &str, family: &str, year: u16) -> String {
    let fold = |s: &str| clean::text::fold(s).replace(' ', "");
    let (g, f) = (fold(given), fold(&format!("{prefix}{family}")));
    let domain = DOMAINS[rng.usize(..DOMAINS.len())];
    match rng.u8(0..4) {
        0 => format!("{g}.{f}@{domain}"),
        1 => format!("{}{f}@{domain}", &g[..1.min(g.len())]),
        2 => format!("{g}{f}{}@{domain}", year % 100),
        _ => format!("{f}.{g}{}@{domain}", rng.u16(1..99)),
    }
}

/// Makes the population: about `n` people in households, with namesakes.
pub fn population(rng: &mut Rng, n: usize) -> Vec<Person> {
    let mut people: Vec<Person> = Vec::with_capacity(n);
    while people.len() < n {
        let home = address(rng);
        let (prefix, family) = FAMILY[rng.usize(..FAMILY.len())];
        let landline = (rng.f32() < 0.4).then(|| format!("0{}{}", rng.u8(10..80), digits(rng, 7)));
        // Household: 1 to 4 people at one address; most share the family name.
        let size = [1, 1, 1, 2, 2, 2, 3, 4][rng.usize(..8)];
        let base_year = rng.u16(1940..1995);
        for member in 0..size {
            if people.len() >= n {
                break;
            }
            let (prefix, family) =
                if member == 1 && rng.f32() < 0.4 { FAMILY[rng.usize(..FAMILY.len())] } else { (prefix, family) };
            let year = if member >= 2 { base_year + rng.u16(20..35) } else { base_year + rng.u16(0..5) };
            people.push(person(
                rng,
                people.len() as u64 + 1,
                prefix,
                family,
                year.min(2008),
                home.clone(),
                landline.clone(),
            ));
        }
        // Namesakes: now and then somebody elsewhere with the very same name.
        if rng.f32() < 0.05 && people.len() < n {
            let twin = people[people.len() - 1].clone();
            let (year, home) = (rng.u16(1940..2008), address(rng));
            let mut namesake = person(rng, people.len() as u64 + 1, twin.prefix, twin.family, year, home, None);
            namesake.given = twin.given.clone();
            namesake.call_name = twin.call_name;
            // Their mailbox is made of their own name too: the twin's, apart from the domain and digits (drawn
            // apart from the main sequence, which the rest of the population follows).
            if namesake.email.is_some() {
                let mut own = Rng::with_seed(namesake.id);
                namesake.email = Some(email_for(&mut own, twin.call_name, twin.prefix, twin.family, year));
            }
            people.push(namesake);
        }
    }
    unique_emails(&mut people);
    people
}

/// A mailbox belongs to one person: an address already given to somebody else gets a number before the `@`, as
/// mail providers make new users pick (`jan.jansen@…` → `jan.jansen2@…`).
fn unique_emails(people: &mut [Person]) {
    let mut taken: std::collections::HashSet<String> = std::collections::HashSet::with_capacity(people.len());
    for email in people.iter_mut().filter_map(|p| p.email.as_mut()) {
        if !taken.contains(email.as_str()) {
            taken.insert(email.clone());
            continue;
        }
        let (user, domain) = email.split_once('@').unwrap_or((email.as_str(), ""));
        let (user, domain) = (user.to_string(), domain.to_string());
        let fresh = (2..).map(|n| format!("{user}{n}@{domain}")).find(|e| !taken.contains(e)).unwrap_or_default();
        taken.insert(fresh.clone());
        *email = fresh;
    }
}

fn person(
    rng: &mut Rng,
    id: u64,
    prefix: &'static str,
    family: &'static str,
    year: u16,
    home: Address,
    landline: Option<String>,
) -> Person {
    let (official, short) = GIVEN[rng.usize(..GIVEN.len())];
    let mut given = vec![official];
    if rng.f32() < 0.3 {
        given.push(GIVEN[rng.usize(..GIVEN.len())].0);
    }
    let call_name = if !short.is_empty() && rng.f32() < 0.6 { short[rng.usize(..short.len())] } else { official };
    let email = (rng.f32() < 0.85).then(|| email_for(rng, call_name, prefix, family, year));
    Person {
        id,
        given,
        call_name,
        prefix,
        family,
        birth: (year, rng.u8(1..13), rng.u8(1..29)),
        address: home,
        moved_to: (rng.f32() < 0.08).then(|| address(rng)),
        mobile: (rng.f32() < 0.8).then(|| format!("06{}", digits(rng, 8))),
        landline,
        email,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mailbox_belongs_to_one_person_and_is_made_of_their_family_name() {
        let people = population(&mut Rng::with_seed(11), 20_000);
        let emails: Vec<&str> = people.iter().filter_map(|p| p.email.as_deref()).collect();
        let distinct: std::collections::HashSet<&str> = emails.iter().copied().collect();
        assert_eq!(distinct.len(), emails.len(), "an address given to two people");
        assert!(emails.iter().any(|e| e.split('@').next().is_some_and(|u| u.ends_with('2'))), "no collision renamed");
        for p in people.iter().filter(|p| p.email.is_some()) {
            let family = clean::text::fold(&format!("{}{}", p.prefix, p.family)).replace(' ', "");
            assert!(p.email.as_deref().is_some_and(|e| e.contains(&family)), "{p:?}");
        }
    }
}
