//! Country names and codes to ISO 3166-1 alpha-2.

/// Maps a country name or code in common spellings to its ISO alpha-2 code; unknown two-letter codes pass
/// through upper-cased, anything else is `None`.
pub fn iso_code(raw: &str) -> Option<String> {
    let folded = crate::text::fold(raw);
    let code = match folded.as_str() {
        "nl" | "nld" | "netherlands" | "the netherlands" | "nederland" | "holland" => "NL",
        "be" | "bel" | "belgium" | "belgie" | "belgique" | "belgien" => "BE",
        "de" | "deu" | "ger" | "germany" | "deutschland" | "duitsland" => "DE",
        "us" | "usa" | "united states" | "united states of america" | "america" => "US",
        "gb" | "uk" | "gbr" | "united kingdom" | "great britain" | "england" => "GB",
        "au" | "aus" | "australia" => "AU",
        "fr" | "fra" | "france" | "frankrijk" => "FR",
        "lu" | "lux" | "luxembourg" | "luxemburg" => "LU",
        "at" | "aut" | "austria" | "osterreich" | "oostenrijk" => "AT",
        "ch" | "che" | "switzerland" | "schweiz" | "suisse" | "zwitserland" => "CH",
        "es" | "esp" | "spain" | "espana" | "spanje" => "ES",
        "it" | "ita" | "italy" | "italia" | "italie" => "IT",
        "ca" | "can" | "canada" => "CA",
        "nz" | "nzl" | "new zealand" => "NZ",
        other if other.len() == 2 && other.chars().all(|c| c.is_ascii_alphabetic()) => {
            return Some(other.to_ascii_uppercase());
        }
        _ => return None,
    };
    Some(code.to_string())
}

#[cfg(test)]
mod tests {
    use super::iso_code;

    #[test]
    fn maps_common_spellings() {
        for (raw, code) in [
            ("Nederland", "NL"),
            ("the Netherlands", "NL"),
            ("België", "BE"),
            ("usa", "US"),
            ("Deutschland", "DE"),
            ("se", "SE"),
        ] {
            assert_eq!(iso_code(raw).as_deref(), Some(code), "{raw}");
        }
        assert_eq!(iso_code("Atlantis"), None);
    }
}
