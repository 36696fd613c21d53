//! The web UI's tests: `npm ci`, the vitest component and unit tests, the
//! production build (type check + vite), then the end-to-end suite
//! (ui/e2e/run.mjs): the real debug binary with the UI embedded, seeded
//! through the native API and driven in headless Debian Chromium with
//! playwright-core. Chromium is installed with apt-get when missing.
//! Screenshots land in target/ui-screenshots/.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::process::{self, available, cargo, root, target_dir};

const CHROMIUM: &str = "/usr/bin/chromium";

pub fn test() -> Result<()> {
    let ui = root().join("ui");
    crate::ui::npm_ci()?;
    process::run(Command::new("npm").args(["test"]).current_dir(&ui))
        .context("the UI unit tests (vitest) failed")?;
    process::run(Command::new("npm").args(["run", "build"]).current_dir(&ui))?;
    let binary = target_dir().join("debug").join("runlore");
    crate::ui::mark_embed_stale(&binary)?;
    process::run(cargo().args(["build", "-p", "runlore"]))?;
    let chromium = chromium()?;
    let mut e2e = Command::new("node");
    e2e.arg("e2e/run.mjs")
        .current_dir(&ui)
        .env("RUNLORE_BIN", &binary)
        .env("CHROMIUM", &chromium)
        .env("RUNLORE_SCREENSHOTS", target_dir().join("ui-screenshots"));
    process::run(&mut e2e).context("the UI end-to-end suite failed")?;
    // Uploaded HTML/SVG must never run script in the app's origin.
    let mut xss = Command::new("node");
    xss.arg("e2e/artifact_xss.mjs")
        .current_dir(&ui)
        .env("RUNLORE_BIN", &binary)
        .env("CHROMIUM", &chromium);
    process::run(&mut xss).context("the artifact XSS check (ui/e2e/artifact_xss.mjs) failed")
}

/// `$CHROMIUM`, else Debian's chromium, installed with apt-get (as root, or
/// through a password-less sudo) when missing.
fn chromium() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("CHROMIUM") {
        return Ok(PathBuf::from(path));
    }
    let path = PathBuf::from(CHROMIUM);
    if path.exists() {
        return Ok(path);
    }
    let apt = |args: &[&str]| -> Result<()> {
        let mut cmd = if is_root() {
            Command::new("apt-get")
        } else if available("sudo") {
            let mut c = Command::new("sudo");
            c.args(["-n", "apt-get"]);
            c
        } else {
            bail!(
                "chromium is missing and apt-get needs root: install it (apt-get install chromium) or set CHROMIUM"
            );
        };
        cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        process::run(&mut cmd)
    };
    if apt(&["install", "-y", "--no-install-recommends", "chromium"]).is_err() {
        apt(&["update"])?;
        apt(&["install", "-y", "--no-install-recommends", "chromium"])?;
    }
    if !path.exists() {
        bail!(
            "apt-get installed chromium but {} is missing",
            path.display()
        );
    }
    Ok(path)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}
