//! The Python side of the tests: the repository's virtual env (`.venv`) and
//! the MLflow-compatibility suite (tests/mlflow), which drives the real
//! `mlflow` client against the built `runlore` binary.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::postgres::Postgres;
use crate::process::{self, cargo, root, target_dir};

const MLFLOW_SUITE: &str = "tests/mlflow";
const SDK_SUITE: &str = "tests/sdk";
/// Written inside the venv after a successful install; holds the hash of
/// the requirements it installed.
const STAMP: &str = "runlore-requirements.stamp";

/// The venv's own interpreter (`.venv/bin/python`).
pub fn venv_python() -> PathBuf {
    root().join(".venv").join("bin").join("python")
}

/// Creates `.venv` when missing and installs `requirements` into it, unless
/// the stamp records that exactly these requirements are already installed.
pub fn ensure_venv(requirements: &Path) -> Result<PathBuf> {
    let venv = root().join(".venv");
    let python = venv_python();
    if !python.exists() {
        if !process::available("python3") {
            bail!("the MLflow-compatibility tests need python3 (3.10 or newer) on PATH");
        }
        process::run(Command::new("python3").arg("-m").arg("venv").arg(&venv))?;
    }
    let wanted = requirements_hash(requirements)?;
    let stamp = venv.join(STAMP);
    if fs::read_to_string(&stamp).is_ok_and(|s| s.trim() == wanted) {
        eprintln!(
            "xtask> {} already installed in .venv",
            requirements.display()
        );
        return Ok(python);
    }
    process::run(
        Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
            ])
            .arg(requirements),
    )?;
    fs::write(&stamp, format!("{wanted}\n"))
        .with_context(|| format!("cannot write {}", stamp.display()))?;
    Ok(python)
}

/// Builds the debug binary, then runs the MLflow-compatibility suite against
/// it. pytest's "no tests collected" (exit 5) fails like any other failure.
/// `postgres`: run the suite's server on that cluster instead of SQLite.
pub fn mlflow_suite(postgres: Option<&Postgres>) -> Result<()> {
    let suite = root().join(MLFLOW_SUITE);
    let python = ensure_venv(&suite.join("requirements.txt"))?;
    process::run(cargo().args(["build", "-p", "runlore"]))?;
    let binary = target_dir().join("debug").join("runlore");
    if !binary.exists() {
        bail!("debug build finished but {} is missing", binary.display());
    }
    let mut cmd = Command::new(python);
    cmd.current_dir(root())
        .args(["-m", "pytest", MLFLOW_SUITE, "-q"])
        .env("RUNLORE_BIN", &binary)
        .env_remove("MLFLOW_COMPAT_TARGET")
        .env_remove("MLFLOW_TRACKING_URI")
        .env_remove("RUNLORE_SUITE_DB");
    let backend = describe_backend(&mut cmd, postgres);
    process::run(&mut cmd)
        .with_context(|| format!("the MLflow-compatibility suite failed on {backend}"))
}

/// The Python SDK suite (tests/sdk): the repository's sdk/python against the
/// debug binary, in the same venv (it needs pytest only).
/// `postgres`: run the suite's servers on that cluster instead of SQLite.
pub fn sdk_suite(postgres: Option<&Postgres>) -> Result<()> {
    let python = ensure_venv(&root().join(MLFLOW_SUITE).join("requirements.txt"))?;
    process::run(cargo().args(["build", "-p", "runlore"]))?;
    let binary = target_dir().join("debug").join("runlore");
    let mut cmd = Command::new(python);
    cmd.current_dir(root())
        .args(["-m", "pytest", SDK_SUITE, "-q"])
        .env("RUNLORE_BIN", &binary)
        .env_remove("RUNLORE_SERVER")
        .env_remove("RUNLORE_JOURNAL_DIR")
        .env_remove("RUNLORE_SUITE_DB");
    let backend = describe_backend(&mut cmd, postgres);
    process::run(&mut cmd).with_context(|| format!("the Python SDK suite failed on {backend}"))
}

/// Points a suite at PostgreSQL when given one; names the backend.
fn describe_backend(cmd: &mut Command, postgres: Option<&Postgres>) -> &'static str {
    match postgres {
        Some(cluster) => {
            cluster.configure_suite(cmd);
            eprintln!("xtask> this suite's servers run on PostgreSQL");
            "PostgreSQL"
        }
        None => "SQLite",
    }
}

/// FNV-1a over the file's bytes: stable across Rust versions and machines,
/// which is all a "did it change" stamp needs.
fn requirements_hash(requirements: &Path) -> Result<String> {
    let bytes = fs::read(requirements)
        .with_context(|| format!("cannot read {}", requirements.display()))?;
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    });
    Ok(format!("fnv1a64:{hash:016x}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_changes_with_content_and_is_stable() {
        let dir = std::env::temp_dir().join(format!("xtask-hash-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let file = dir.join("requirements.txt");
        fs::write(&file, "mlflow==3.17.2\n").unwrap();
        let first = requirements_hash(&file).unwrap();
        assert_eq!(first, requirements_hash(&file).unwrap());
        fs::write(&file, "mlflow==3.17.1\n").unwrap();
        assert_ne!(first, requirements_hash(&file).unwrap());
        fs::write(&file, "").unwrap();
        assert_eq!(
            requirements_hash(&file).unwrap(),
            "fnv1a64:cbf29ce484222325"
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
