//! What a code snapshot takes: the `[snapshot]` table of `runlore.toml`
//! (read by the CLI), recorded in every manifest so a report can say what
//! was left out and why.
//!
//! Tracked files of a git repository are always part of the tree: the
//! globs only choose among untracked files (and every file without git),
//! because leaving out a tracked file would make the restored tree differ
//! from the commit in a way nobody asked for.

use serde::{Deserialize, Serialize};

/// Left out unless `default_excludes = false`: caches, virtual envs and
/// Runlore's own data, which are never source and often huge.
pub const DEFAULT_EXCLUDES: [&str; 9] = [
    "**/.git/**",
    "**/__pycache__/**",
    "**/*.pyc",
    "**/.venv/**",
    "**/venv/**",
    "**/node_modules/**",
    "**/.ipynb_checkpoints/**",
    "**/runlore-data/**",
    "**/.runlore-run/**",
];
pub const DEFAULT_MAX_FILE_BYTES: u64 = 10 * 1024 * 1024;
pub const DEFAULT_MAX_TOTAL_BYTES: u64 = 200 * 1024 * 1024;
pub const DEFAULT_MAX_FILES: u64 = 50_000;

/// Which files of the commit are stored besides the changed ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tracked {
    /// All of them when HEAD is on no remote-tracking branch (it may never
    /// be reachable again), else only the changed ones.
    Auto,
    /// Always all (content addressing keeps repeats free).
    All,
    /// Only the changed ones; restore then needs the commit.
    Changed,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Policy {
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    pub default_excludes: bool,
    pub max_file_bytes: u64,
    pub max_total_bytes: u64,
    #[serde(default = "default_max_files")]
    pub max_files: u64,
    pub tracked: Tracked,
}

fn default_max_files() -> u64 {
    DEFAULT_MAX_FILES
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            include: Vec::new(),
            exclude: Vec::new(),
            default_excludes: true,
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
            max_total_bytes: DEFAULT_MAX_TOTAL_BYTES,
            max_files: DEFAULT_MAX_FILES,
            tracked: Tracked::Auto,
        }
    }
}
