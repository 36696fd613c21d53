//! `runlore run env RUN --build DIR`: a virtual environment with the
//! packages a run captured.
//!
//! The package list is a run file, so whoever could write the run's
//! artifacts wrote it. `pip freeze` writes requirement lines and `-e`
//! lines only; pip options (`-r FILE`, `-c FILE`, `--index-url URL`, …)
//! would make pip read files of this machine or fetch from elsewhere, so
//! they are left out and named, never passed on.

use std::path::Path;

use anyhow::{Context, Result, bail};
use runlore_core::{Error, ErrorKind};
use serde_json::json;

use super::confine::Confined;
use super::{optional, tree};
use crate::Ctx;
use crate::exec::record::REQUIREMENTS_PATH;
use crate::run_files::RunFiles;

/// One line of the package list that will not be installed, and why.
#[derive(Debug, PartialEq, Eq)]
pub struct LeftOut<'a> {
    pub line: &'a str,
    pub why: &'static str,
}

/// The lines pip may install, and those left out.
pub fn split_requirements(text: &str) -> (Vec<&str>, Vec<LeftOut<'_>>) {
    let mut kept = Vec::new();
    let mut left_out = Vec::new();
    for line in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        // Editable installs and local paths name folders of the machine
        // that ran; pip cannot fetch them here.
        let why = if line.starts_with("-e ") || line.contains(" @ file://") {
            Some("a local path on the machine that ran")
        } else if line.starts_with('-') {
            Some("a pip option, never taken from a run's package list")
        } else {
            None
        };
        match why {
            Some(why) => left_out.push(LeftOut { line, why }),
            None => kept.push(line),
        }
    }
    (kept, left_out)
}

pub async fn build_env(ctx: &Ctx, id: &str, dir: &Path) -> Result<()> {
    let run = crate::run::resolve_id(ctx, id).await?;
    let files = RunFiles::open(ctx)?;
    let Some(requirements) = optional(&files, &run, REQUIREMENTS_PATH).await? else {
        return Err(Error::new(
            ErrorKind::NotFound,
            format!("run {run} has no captured package list ({REQUIREMENTS_PATH})"),
        )
        .into());
    };
    tree::prepare(dir)?;
    let text = String::from_utf8_lossy(&requirements).into_owned();
    let (kept, left_out) = split_requirements(&text);
    let status = std::process::Command::new("python3")
        .args(["-m", "venv"])
        .arg(dir)
        .status()
        .context("cannot start python3 to create the environment")?;
    if !status.success() {
        bail!("python3 -m venv {} failed ({status})", dir.display());
    }
    let confined = Confined::new(dir)?;
    let req_name = Path::new("requirements.txt");
    confined.write(req_name, (kept.join("\n") + "\n").as_bytes(), 0o644)?;
    for out in &left_out {
        eprintln!("runlore: left out ({}): {}", out.why, out.line);
    }
    if !kept.is_empty() {
        let status = std::process::Command::new(confined.root().join("bin").join("python"))
            .args(["-m", "pip", "install", "--disable-pip-version-check", "-r"])
            .arg(confined.root().join(req_name))
            .status()
            .context("cannot start the new environment's python")?;
        if !status.success() {
            bail!("pip could not install the captured packages ({status}); see its output above");
        }
    }
    if ctx.json {
        let lines: Vec<&str> = left_out.iter().map(|l| l.line).collect();
        return crate::output::print_json(&json!({
            "dir": dir.to_string_lossy(),
            "packages": kept.len(),
            "left_out": lines,
        }));
    }
    println!(
        "Created {} with {} package(s); activate it with: source {}/bin/activate",
        dir.display(),
        kept.len(),
        dir.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pip_options_and_local_paths_are_left_out_and_named() {
        let text = "numpy==2.0.0\n# comment\n\n-r /etc/passwd\n--index-url http://127.0.0.1:1/\n\
                    -c constraints.txt\n-e git+file:///x#egg=x\nmine @ file:///home/me/mine\n\
                    pkg @ git+https://example.invalid/pkg.git\n";
        let (kept, left_out) = split_requirements(text);
        assert_eq!(
            kept,
            ["numpy==2.0.0", "pkg @ git+https://example.invalid/pkg.git"]
        );
        let lines: Vec<&str> = left_out.iter().map(|l| l.line).collect();
        assert_eq!(
            lines,
            [
                "-r /etc/passwd",
                "--index-url http://127.0.0.1:1/",
                "-c constraints.txt",
                "-e git+file:///x#egg=x",
                "mine @ file:///home/me/mine"
            ]
        );
        assert!(left_out[0].why.contains("pip option"));
        assert!(left_out[3].why.contains("local path"));
    }
}
