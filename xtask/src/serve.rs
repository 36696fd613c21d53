//! `cargo xtask serve`: build everything, then run the server in the
//! foreground on the embedded default store (./runlore-data).

use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::process::{build_release_binary, describe, root};

pub fn run(extra: &[String]) -> Result<()> {
    let ui_dir = crate::ui::build()?;
    let binary = build_release_binary()?;
    let mut cmd = Command::new(binary);
    cmd.current_dir(root()).arg("server");
    if let Some(dir) = ui_dir.filter(|d| d.join("index.html").exists()) {
        cmd.arg("--ui-dir").arg(dir);
    }
    cmd.args(extra);
    eprintln!("xtask> {}", describe(&cmd));
    // Ctrl-C reaches the server directly (same process group); it shuts
    // down gracefully and we report how it ended.
    let status = cmd.status().context("cannot start the runlore server")?;
    if !status.success() && status.code().is_some() {
        bail!("runlore server exited with {status}");
    }
    Ok(())
}
