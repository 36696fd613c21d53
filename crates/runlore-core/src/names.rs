//! Friendly generated run names (`brave-otter-42`) for runs created without
//! one: easier to say out loud and to spot in a table than a 32-hex id.

const ADJECTIVES: &[&str] = &[
    "amber", "bold", "brave", "bright", "calm", "clever", "cosmic", "crisp", "daring", "eager",
    "fancy", "gentle", "glad", "golden", "grand", "happy", "honest", "jolly", "keen", "lively",
    "lucky", "mellow", "merry", "nimble", "noble", "polite", "proud", "quick", "quiet", "rapid",
    "shiny", "silent", "sleek", "smooth", "solid", "steady", "sunny", "swift", "tidy", "vivid",
    "warm", "wise", "witty", "zesty",
];

const NOUNS: &[&str] = &[
    "ant", "badger", "bear", "bee", "bison", "cat", "cobra", "crane", "deer", "dolphin", "eagle",
    "falcon", "ferret", "finch", "fox", "gecko", "goat", "hare", "hawk", "heron", "ibis", "koala",
    "lark", "lemur", "lion", "lynx", "mole", "moose", "newt", "otter", "owl", "panda", "puma",
    "quail", "raven", "seal", "shark", "sloth", "snail", "swan", "tiger", "trout", "whale", "wolf",
    "yak", "zebra",
];

/// A name picked from `seed` (callers pass random bits, e.g. from the run id).
pub fn friendly_run_name(seed: u128) -> String {
    let adjective = ADJECTIVES[(seed % ADJECTIVES.len() as u128) as usize];
    let rest = seed / ADJECTIVES.len() as u128;
    let noun = NOUNS[(rest % NOUNS.len() as u128) as usize];
    let number = (rest / NOUNS.len() as u128) % 1000;
    format!("{adjective}-{noun}-{number}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_deterministic_and_readable() {
        assert_eq!(friendly_run_name(7), friendly_run_name(7));
        let name = friendly_run_name(0xdead_beef_1234_5678);
        assert_eq!(name.split('-').count(), 3, "{name}");
        assert!(crate::validate::display_name("run", &name).is_ok());
    }
}
