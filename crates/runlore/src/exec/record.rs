//! What `runlore exec` keeps about a run besides its params and tags
//! (`runlore/exec.json`). The types and paths live in runlore-core because
//! the server reads them too, for reports.

pub use runlore_core::repro::record::{ConfigRecord, ExecRecord, shell_join};
pub use runlore_core::repro::{
    CONFIG_STEM, ENVIRONMENT_PATH, EXEC_PATH, REQUIREMENTS_PATH, STDERR_PATH, STDOUT_PATH,
};
