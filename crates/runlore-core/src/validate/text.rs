//! Which characters keys, names and values may hold.
//!
//! Names and keys are shown in tables, terminals, URLs and file names, where
//! an invisible character makes one name pass for another (`model` and
//! `mo\u{200b}del`) and a bidirectional override shows text in an order that
//! is not the stored one (`exe.\u{202e}txt`). So names and keys refuse:
//! control characters (Unicode category Cc, which holds NUL, tab, newline and
//! ESC), line and paragraph separators (Zl, Zp) and format characters (Cf:
//! bidi embeddings, overrides, isolates and marks, zero-width spaces, the
//! byte-order mark, the soft hyphen, tag characters …), except the zero-width
//! non-joiner and joiner (U+200C, U+200D), which Persian, Indic scripts and
//! emoji sequences need. Values are free text; only NUL is refused there,
//! because C strings, terminals and several databases cut a value at it.

use crate::error::{Error, Result};
use crate::ids::truncate_for_message;

/// Unicode's format characters (category Cf, Unicode 16) but the zero-width
/// non-joiner and joiner, with the line and paragraph separators (Zl, Zp).
/// A test checks the table against the regex crate's own Cf tables.
const INVISIBLE: &[(char, char)] = &[
    ('\u{00ad}', '\u{00ad}'),
    ('\u{0600}', '\u{0605}'),
    ('\u{061c}', '\u{061c}'),
    ('\u{06dd}', '\u{06dd}'),
    ('\u{070f}', '\u{070f}'),
    ('\u{0890}', '\u{0891}'),
    ('\u{08e2}', '\u{08e2}'),
    ('\u{180e}', '\u{180e}'),
    ('\u{200b}', '\u{200b}'),
    ('\u{200e}', '\u{200f}'),
    ('\u{2028}', '\u{202e}'),
    ('\u{2060}', '\u{2064}'),
    ('\u{2066}', '\u{206f}'),
    ('\u{feff}', '\u{feff}'),
    ('\u{fff9}', '\u{fffb}'),
    ('\u{110bd}', '\u{110bd}'),
    ('\u{110cd}', '\u{110cd}'),
    ('\u{13430}', '\u{1343f}'),
    ('\u{1bca0}', '\u{1bca3}'),
    ('\u{1d173}', '\u{1d17a}'),
    ('\u{e0001}', '\u{e0001}'),
    ('\u{e0020}', '\u{e007f}'),
];

/// Whether a key or name may not hold `c` (see the module comment).
pub fn is_forbidden_in_name(c: char) -> bool {
    c.is_control()
        || INVISIBLE
            .iter()
            .any(|&(first, last)| (first..=last).contains(&c))
}

/// The first character a key or name may not hold.
pub fn forbidden_in_name(text: &str) -> Option<char> {
    text.chars().find(|&c| is_forbidden_in_name(c))
}

/// `text` for an error message: shortened, with every character a name may
/// not hold written as `\u{…}`, so the message itself cannot hide or reorder
/// anything.
pub fn shown(text: &str) -> String {
    let short = truncate_for_message(text);
    if forbidden_in_name(&short).is_none() {
        return short;
    }
    short
        .chars()
        .map(|c| {
            if is_forbidden_in_name(c) {
                format!("\\u{{{:04x}}}", u32::from(c))
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// What kind of character `c` (one a name may not hold) is, for messages.
fn kind_of(c: char) -> &'static str {
    if c.is_control() {
        "a control character"
    } else if matches!(c, '\u{2028}' | '\u{2029}') {
        "a line separator"
    } else if matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') {
        "a bidirectional override"
    } else {
        "an invisible formatting character"
    }
}

/// Refuses a name (experiment, run, model …) holding a character of the
/// module comment's list; `what` is e.g. `run name`.
pub fn check_name_characters(what: &str, name: &str) -> Result<()> {
    match forbidden_in_name(name) {
        None => Ok(()),
        Some(c) => Err(Error::invalid(format!(
            "{what} '{}' contains U+{:04X}, {}: names may not hold control characters, bidirectional overrides or invisible formatting characters",
            shown(name),
            u32::from(c),
            kind_of(c)
        ))),
    }
}

/// Refuses a value holding NUL; `what` is e.g. `value of tag 'note'`.
pub fn check_value_characters(what: &str, value: &str) -> Result<()> {
    if value.contains('\0') {
        return Err(Error::invalid(format!(
            "{what} contains a NUL character (U+0000): values may hold any text, tabs and newlines included, but not NUL"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_unicode_format_characters_and_separators() {
        let unicode =
            regex::Regex::new(r"^[[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]&&[^\x{200C}\x{200D}]]$").unwrap();
        let mut buf = [0; 4];
        for c in (0..=0x10_ffff).filter_map(char::from_u32) {
            assert_eq!(
                is_forbidden_in_name(c),
                unicode.is_match(c.encode_utf8(&mut buf)),
                "U+{:04X}",
                u32::from(c)
            );
        }
    }

    #[test]
    fn controls_separators_and_format_characters_are_found() {
        for c in [
            '\0',
            '\t',
            '\n',
            '\r',
            '\u{1b}',
            '\u{7f}',
            '\u{85}',
            '\u{ad}',
            '\u{61c}',
            '\u{200b}',
            '\u{200e}',
            '\u{200f}',
            '\u{2028}',
            '\u{2029}',
            '\u{202a}',
            '\u{202e}',
            '\u{2060}',
            '\u{2066}',
            '\u{2069}',
            '\u{feff}',
            '\u{e0041}',
        ] {
            let text = format!("a{c}b");
            assert_eq!(forbidden_in_name(&text), Some(c), "U+{:04X}", u32::from(c));
        }
    }

    #[test]
    fn letters_of_every_script_emoji_and_joiners_pass() {
        for text in [
            "résumé",
            "学习率",
            "نرخ‌یادگیری", // with a zero-width non-joiner, as Persian writes it
            "👩‍🔬 lab",     // woman scientist: a zero-width joiner sequence
            "a b-c_d.e:f/g (h) [i] #1 ✓",
        ] {
            assert_eq!(forbidden_in_name(text), None, "{text}");
        }
    }

    #[test]
    fn name_messages_name_the_code_point_and_hide_nothing() {
        let err = check_name_characters("run name", "report\u{202e}txt.exe").unwrap_err();
        assert_eq!(
            err.message(),
            "run name 'report\\u{202e}txt.exe' contains U+202E, a bidirectional override: names may not hold control characters, bidirectional overrides or invisible formatting characters"
        );
        let err = check_name_characters("experiment name", "a\u{200b}b").unwrap_err();
        assert_eq!(
            err.message(),
            "experiment name 'a\\u{200b}b' contains U+200B, an invisible formatting character: names may not hold control characters, bidirectional overrides or invisible formatting characters"
        );
        let err = check_name_characters("run name", "a\u{1b}[31mred").unwrap_err();
        assert!(
            err.message()
                .starts_with("run name 'a\\u{001b}[31mred' contains U+001B, a control character"),
            "{}",
            err.message()
        );
    }

    #[test]
    fn values_refuse_only_nul() {
        assert!(check_value_characters("value of tag 't'", "line 1\nline 2\tend\r\n").is_ok());
        assert!(check_value_characters("value of tag 't'", "\u{202e}rtl and 👩‍🔬").is_ok());
        let err = check_value_characters("value of tag 't'", "a\0b").unwrap_err();
        assert_eq!(
            err.message(),
            "value of tag 't' contains a NUL character (U+0000): values may hold any text, tabs and newlines included, but not NUL"
        );
    }
}
