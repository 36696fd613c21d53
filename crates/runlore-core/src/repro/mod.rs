//! Reproducibility records: what `runlore exec` and code snapshots keep
//! about a run (the exec record, the snapshot manifest and its policy), the
//! artifact paths they live at, and the run's REPORT.md built from them.
//!
//! They live here, not in the CLI that writes them, because the server
//! reads them too: `GET /api/v1/runs/{id}/report` builds the report of any
//! run on demand.

pub mod check;
pub mod display;
pub mod manifest;
pub mod policy;
pub mod record;
pub mod report;

pub use manifest::{FileEntry, GitInfo, Kind, Manifest, Origin};
pub use policy::{Policy, Tracked};
pub use record::{ConfigRecord, ExecRecord, Override};

/// Reserved artifact prefix of code snapshots.
pub const CODE_PREFIX: &str = "runlore/code";
pub const MANIFEST_PATH: &str = "runlore/code/manifest.json";
pub const DIFF_PATH: &str = "runlore/code/git.diff";
pub const MANIFEST_VERSION: u32 = 1;

pub const EXEC_PATH: &str = "runlore/exec.json";
pub const ENVIRONMENT_PATH: &str = "runlore/environment.json";
pub const REQUIREMENTS_PATH: &str = "runlore/requirements.txt";
pub const STDOUT_PATH: &str = "logs/stdout.log";
pub const STDERR_PATH: &str = "logs/stderr.log";
/// Prefix of the resolved config artifact (`runlore/config.yaml` or `.json`).
pub const CONFIG_STEM: &str = "runlore/config";
/// Where `runlore exec` (and `runlore run report --save`) keeps the report.
pub const REPORT_PATH: &str = "REPORT.md";
