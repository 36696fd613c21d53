//! What `runlore exec` keeps about a run besides its params and tags:
//! `runlore/exec.json`, read back by `rerun` and by the report.

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One `--set KEY=VALUE` of the config layer, parsed: a dotted key and a
/// value typed the way YAML types it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Override {
    pub key: String,
    pub value: Value,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ConfigRecord {
    /// The base file as given on the command line.
    pub base: Option<String>,
    pub overrides: Vec<Override>,
    pub allow_new: bool,
    /// `yaml` or `json`: how the resolved config was handed to the child.
    pub format: String,
    /// The artifact holding the resolved config.
    pub artifact: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ExecRecord {
    /// The command, each argument as text (lossy when not UTF-8; see
    /// `argv_hex`).
    pub argv: Vec<String>,
    /// The exact bytes of the arguments that are not UTF-8, hex, at their
    /// index (`null` elsewhere); empty when every argument is UTF-8.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub argv_hex: Vec<Option<String>>,
    /// The working directory on the machine that ran.
    pub cwd: String,
    /// The working directory relative to the snapshot's root, when the
    /// snapshot was taken.
    pub cwd_in_tree: Option<String>,
    pub config: Option<ConfigRecord>,
    pub start_time: i64,
    pub end_time: Option<i64>,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    /// The run this one re-runs, for `runlore run rerun`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rerun_of: Option<String>,
    /// What could not be captured, and why (the run went ahead anyway).
    #[serde(default)]
    pub capture_errors: Vec<String>,
}

/// The command as text for people plus, where an argument is not UTF-8,
/// its bytes: `(argv, argv_hex)` for an [`ExecRecord`].
pub fn argv_repr(argv: &[OsString]) -> (Vec<String>, Vec<Option<String>>) {
    let text: Vec<String> = argv
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let raw: Vec<Option<String>> = argv
        .iter()
        .map(|a| a.to_str().is_none().then(|| hex::encode(a.as_bytes())))
        .collect();
    let raw = if raw.iter().all(Option::is_none) {
        Vec::new()
    } else {
        raw
    };
    (text, raw)
}

impl ExecRecord {
    /// The command exactly as it was given, bytes and all.
    pub fn command(&self) -> Vec<OsString> {
        self.argv
            .iter()
            .enumerate()
            .map(|(i, text)| {
                match self
                    .argv_hex
                    .get(i)
                    .and_then(Option::as_deref)
                    .and_then(|h| hex::decode(h).ok())
                {
                    Some(bytes) => OsString::from_vec(bytes),
                    None => OsString::from(text),
                }
            })
            .collect()
    }
}

/// A command line as one shell-quoted string, for tags and reports.
pub fn shell_join(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            let plain = !a.is_empty()
                && a.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b));
            if plain {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_join_quotes_what_a_shell_would_split() {
        let argv = ["python", "train.py", "--msg", "it's ok", ""].map(str::to_owned);
        assert_eq!(shell_join(&argv), r"python train.py --msg 'it'\''s ok' ''");
    }

    #[test]
    fn arguments_that_are_not_utf8_come_back_byte_for_byte() {
        let argv = vec![
            OsString::from("python"),
            OsString::from_vec(b"caf\xe9.py".to_vec()),
        ];
        let (text, raw) = argv_repr(&argv);
        assert_eq!(text[1], "caf\u{fffd}.py");
        let record = ExecRecord {
            argv: text,
            argv_hex: raw,
            ..ExecRecord::default()
        };
        assert_eq!(record.command(), argv);
        let utf8 = argv_repr(&[OsString::from("ok")]);
        assert!(utf8.1.is_empty(), "no bytes kept when all is text");
    }
}
