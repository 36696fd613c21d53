//! What `runlore exec` keeps about a run besides its params and tags:
//! `runlore/exec.json`, read back by `rerun` and `report`.

use serde::{Deserialize, Serialize};

use super::overrides::Override;

pub const EXEC_PATH: &str = "runlore/exec.json";
pub const ENVIRONMENT_PATH: &str = "runlore/environment.json";
pub const REQUIREMENTS_PATH: &str = "runlore/requirements.txt";
pub const STDOUT_PATH: &str = "logs/stdout.log";
pub const STDERR_PATH: &str = "logs/stderr.log";
/// Prefix of the resolved config artifact (`runlore/config.yaml` or `.json`).
pub const CONFIG_STEM: &str = "runlore/config";

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
    /// The command, each argument as given (lossy when not UTF-8).
    pub argv: Vec<String>,
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
    #[test]
    fn shell_join_quotes_what_a_shell_would_split() {
        let argv = ["python", "train.py", "--msg", "it's ok", ""].map(str::to_owned);
        assert_eq!(
            super::shell_join(&argv),
            r"python train.py --msg 'it'\''s ok' ''"
        );
    }
}
