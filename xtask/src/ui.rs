//! The web UI build: `npm ci` then `npm run build` in ui/, when ui/ exists.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Result, bail};

use crate::process::{available, root, run};

/// Builds the UI and returns its output folder, or `None` when the
/// repository has no UI yet.
pub fn build() -> Result<Option<PathBuf>> {
    let ui = root().join("ui");
    if !ui.join("package.json").exists() {
        eprintln!("xtask> no ui/package.json: serving the API only");
        return Ok(None);
    }
    if !available("npm") {
        bail!("building the UI needs Node.js and npm on PATH");
    }
    run(Command::new("npm").arg("ci").current_dir(&ui))?;
    run(Command::new("npm").args(["run", "build"]).current_dir(&ui))?;
    Ok(Some(ui.join("dist")))
}
