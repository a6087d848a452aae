//! Given-name aliases: call names and short forms that stand for the same official name (Kees = Cornelis,
//! Henk = Hendrik, Bill = William). Reference data for Dutch, German and English names, folded to lower-case
//! ASCII; a name may belong to several groups (Jan: Johannes and Jan).

use std::collections::HashMap;
use std::sync::OnceLock;

/// Groups of names that can denote the same person's given name; the first of each is the official form.
const GROUPS: &[&[&str]] = &[
    &["hendrik", "henk", "henny", "hein", "rik", "hendrikus", "henri", "henry", "heinrich", "heinz"],
    &["johannes", "jan", "hans", "johan", "joop", "jo", "hannes", "john", "johann", "jens", "jean"],
    &["cornelis", "kees", "cees", "cor", "corne", "neel"],
    &["pieter", "piet", "peter", "pier", "petrus"],
    &["jacobus", "jaap", "koos", "jaco", "jacob", "jaak", "sjaak", "jakob", "jacques", "jack", "jake"],
    &["wilhelmus", "wim", "willem", "pim", "wil", "wilhelm", "william", "bill", "will", "billy", "liam"],
    &["gerardus", "gerard", "gert", "gerrit", "geert", "ger", "gerhard"],
    &["adrianus", "arie", "adrie", "ad", "adriaan", "adrian"],
    &["antonius", "toon", "anton", "ton", "tony", "teun", "anthony", "antoon"],
    &["franciscus", "frans", "frank", "francis", "franz", "sjors"],
    &["theodorus", "theo", "dorus", "ted", "theodoor"],
    &[
        "elisabeth",
        "els",
        "lies",
        "liesbeth",
        "betty",
        "bep",
        "elise",
        "lisa",
        "liz",
        "elizabeth",
        "beth",
        "elsje",
        "ilse",
    ],
    &["margaretha", "greet", "margriet", "grietje", "marga", "margaret", "maggie", "peggy", "meg", "gretchen"],
    &[
        "catharina",
        "karin",
        "toos",
        "trees",
        "rina",
        "katrien",
        "catherine",
        "kate",
        "cathy",
        "katharina",
        "kathy",
        "katie",
        "tineke",
    ],
    &["johanna", "anneke", "jo", "hanna", "hannie", "joke", "jannie", "hanneke", "hanne", "jopie"],
    &["wilhelmina", "wilma", "mien", "willy", "mina", "minke", "mientje", "helmi"],
    &["maria", "marie", "mieke", "mia", "ria", "marieke", "mary", "mies", "mirjam", "miriam", "maaike"],
    &["anna", "anneke", "annie", "anne", "ann", "anja", "anouk"],
    &["jacoba", "coby", "cobie", "coba", "jacqueline"],
    &["petronella", "nel", "nelly", "pet", "ellie", "nella"],
    &["hermanus", "herman", "manus", "harm"],
    &["albertus", "bert", "albert", "ab", "appie"],
    &["lambertus", "bert", "lammert", "lambert"],
    &["bernardus", "ben", "bernard", "bennie", "bernd", "benno"],
    &["nicolaas", "klaas", "nico", "niek", "nick", "nicholas", "nikolaus", "claus", "klaus"],
    &["josephus", "jos", "joop", "joseph", "joe", "sjef", "jozef", "josef", "sepp"],
    &["martinus", "martin", "tinus", "maarten", "tijn"],
    &["gijsbertus", "gijs", "gijsbert"],
    &["leonardus", "leo", "leen", "leendert", "leonard", "lenny"],
    &["dirk", "dick", "derk", "diederik", "dieter"],
    &["thomas", "tom", "thom", "tommy", "tomas"],
    &["julia", "juul", "julie", "juliette"],
    &["sophie", "fie", "sofie", "sophia", "sofia"],
    &["frederique", "fre", "frederica", "freddie", "rieke"],
    &["frederik", "freek", "fred", "frits", "freddy", "frederick", "friedrich", "fritz"],
    &["mohamed", "mo", "mohammed", "muhammad", "mohammad", "momo"],
    &["robert", "rob", "bob", "bobby", "robbie", "robbert", "bert"],
    &["richard", "rick", "dick", "richie", "rich", "rikkert"],
    &["james", "jim", "jimmy", "jamie"],
    &["michael", "mike", "mick", "mickey", "michiel", "chiel", "michel"],
    &["christopher", "chris", "kit", "christoph"],
    &["christiaan", "chris", "christian", "stijn", "krist"],
    &["alexander", "alex", "sander", "xander", "sasha", "lex"],
    &["charles", "charlie", "chuck", "karel", "carl", "karl"],
    &["edward", "ed", "eddie", "ted", "ned", "eduard", "edwin"],
    &["patricia", "pat", "patty", "trish", "patrice"],
    &["jennifer", "jen", "jenny", "jenna"],
    &["susanna", "susan", "sue", "susie", "suzanne", "sanne", "suus", "suze"],
    &["barbara", "barb", "babs", "bar"],
    &["daniel", "dan", "danny", "daan", "danielle"],
    &["benjamin", "ben", "benny", "bram"],
    &["abraham", "bram", "abe", "braam"],
    &["samuel", "sam", "sammy", "sem"],
    &["stephanus", "stephen", "steven", "steve", "stefan", "stef", "stephan"],
    &["andreas", "andrew", "andy", "drew", "andre", "dries"],
    &["matthijs", "matthew", "matt", "thijs", "matthias", "mathijs", "tijs"],
    &["jonathan", "jon", "jonny", "jonas"],
    &["emma", "em", "emmy", "emmie"],
    &["eva", "eef", "evie", "eve", "evelien"],
    &["lucas", "luuk", "luc", "luke", "lukas"],
    &["joris", "george", "georg", "jurgen", "jorg", "sjors"],
    &["ingrid", "inge", "ing"],
    &["femke", "fem"],
    &["monique", "mo", "moon"],
    &["renee", "ren"],
    &["esther", "es", "ester"],
    &["ayse", "aise", "aysel"],
];

/// Alias groups by name (hashed with foldhash: every compared pair of given names looks both up).
type Table = HashMap<&'static str, Vec<u16>, foldhash::fast::FixedState>;

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut map = Table::default();
        for (g, names) in GROUPS.iter().enumerate() {
            for n in *names {
                map.entry(n).or_default().push(g as u16);
            }
        }
        map
    })
}

/// True when two folded given names are known aliases of one name.
pub fn are_aliases(a: &str, b: &str) -> bool {
    let t = table();
    match (t.get(a), t.get(b)) {
        (Some(x), Some(y)) => x.iter().any(|g| y.contains(g)),
        _ => false,
    }
}

/// True when `initial` is the first letter of `name` or of the official name it is a call name for ("c" fits
/// "kees": Cornelis). Initials are taken from official names, so only each group's first, official form counts.
pub fn initial_fits(initial: char, name: &str) -> bool {
    if name.starts_with(initial) {
        return true;
    }
    let Some(groups) = table().get(name) else {
        return false;
    };
    groups.iter().any(|g| GROUPS[usize::from(*g)][0].starts_with(initial))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases() {
        assert!(are_aliases("kees", "cornelis"));
        assert!(are_aliases("hans", "jan"));
        assert!(are_aliases("bill", "william"));
        assert!(!are_aliases("kees", "piet"));
        assert!(!are_aliases("zzz", "zzz"), "unknown names are not aliases, not even of themselves");
        assert!(initial_fits('c', "kees"));
        assert!(initial_fits('k', "kees"));
        assert!(!initial_fits('p', "kees"));
        assert!(!initial_fits('h', "jan"), "Hans is a call name of Johannes, whose initial is J");
    }

    #[test]
    fn the_table_is_folded() {
        for group in GROUPS {
            for name in *group {
                assert_eq!(clean::text::fold(name), *name, "{name} must be folded ASCII");
            }
        }
    }
}
