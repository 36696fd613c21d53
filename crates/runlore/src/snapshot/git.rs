//! The few git questions a snapshot asks, through the `git` command line
//! (present wherever git repositories are, and it reads every repository
//! format and config the user's own git does). Paths come NUL-separated
//! (`-z`) as raw bytes, so names that are not UTF-8 survive.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

/// Runs git in `dir`; `None` when it exits non-zero (a question answered
/// "no"), an error when git itself cannot be started.
pub fn git(dir: &Path, args: &[&str]) -> Result<Option<Vec<u8>>> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        // Never prompt for credentials or a pager in the middle of a run.
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_PAGER", "cat")
        .env("GIT_SSH_COMMAND", ssh_command())
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .context("cannot start `git` (is it installed?)")?;
    Ok(out.status.success().then_some(out.stdout))
}

/// Like [`git`], but a failure is an error carrying git's own message.
pub fn git_ok(dir: &Path, args: &[&str]) -> Result<Vec<u8>> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_SSH_COMMAND", ssh_command())
        .stdin(Stdio::null())
        .output()
        .context("cannot start `git` (is it installed?)")?;
    if !out.status.success() {
        bail!(
            "git {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(out.stdout)
}

/// The user's ssh command, else ssh that fails instead of asking (a
/// restore cloning from an unreachable remote must not wait for a prompt).
fn ssh_command() -> String {
    std::env::var("GIT_SSH_COMMAND").unwrap_or_else(|_| "ssh -o BatchMode=yes".to_owned())
}

fn line(bytes: Option<Vec<u8>>) -> Option<String> {
    bytes
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .filter(|s| !s.is_empty())
}

fn split_z(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    bytes.split(|b| *b == 0).filter(|s| !s.is_empty())
}

/// What a repository says about itself at capture time.
pub struct Repo {
    pub root: PathBuf,
    pub commit: Option<String>,
    pub branch: Option<String>,
    pub remote: Option<String>,
    /// HEAD is contained in some remote-tracking branch.
    pub pushed: bool,
    /// Files of HEAD: path → git mode (`100644`, `100755`, `120000`, `160000`).
    pub head: BTreeMap<Vec<u8>, String>,
    /// Paths in the index (tracked), with their index mode.
    pub tracked: BTreeMap<Vec<u8>, String>,
    /// Untracked files that no ignore rule covers.
    pub untracked: Vec<Vec<u8>>,
    /// Paths that differ between HEAD and the working tree.
    pub changed: Vec<Vec<u8>>,
}

/// The repository `dir` is in, or `None` outside any.
pub fn open(dir: &Path) -> Result<Option<Repo>> {
    let Some(top) = git(dir, &["rev-parse", "--show-toplevel"])? else {
        return Ok(None);
    };
    let top = top.strip_suffix(b"\n").unwrap_or(&top);
    let root = PathBuf::from(OsStr::from_bytes(top));
    let commit = line(git(
        &root,
        &["rev-parse", "-q", "--verify", "HEAD^{commit}"],
    )?);
    let branch = line(git(&root, &["symbolic-ref", "--short", "-q", "HEAD"])?);
    let remote = remote_url(&root, branch.as_deref())?;
    let pushed = match &commit {
        Some(_) => line(git(
            &root,
            &[
                "for-each-ref",
                "--count=1",
                "--contains",
                "HEAD",
                "refs/remotes/",
            ],
        )?)
        .is_some(),
        None => false,
    };
    let mut head = BTreeMap::new();
    if commit.is_some() {
        let out = git_ok(&root, &["ls-tree", "-r", "-z", "--full-tree", "HEAD"])?;
        for entry in split_z(&out) {
            // "<mode> <type> <oid>\t<path>"
            if let Some(tab) = entry.iter().position(|b| *b == b'\t') {
                let mode = String::from_utf8_lossy(&entry[..6]).into_owned();
                head.insert(entry[tab + 1..].to_vec(), mode);
            }
        }
    }
    let mut tracked = BTreeMap::new();
    let out = git_ok(&root, &["ls-files", "-z", "-c", "-s", "--full-name"])?;
    for entry in split_z(&out) {
        // "<mode> <oid> <stage>\t<path>"; a conflicted path appears per stage.
        if let Some(tab) = entry.iter().position(|b| *b == b'\t') {
            let mode = String::from_utf8_lossy(&entry[..6]).into_owned();
            tracked.insert(entry[tab + 1..].to_vec(), mode);
        }
    }
    let out = git_ok(
        &root,
        &["ls-files", "-z", "-o", "--exclude-standard", "--full-name"],
    )?;
    let untracked = split_z(&out).map(<[u8]>::to_vec).collect();
    let changed = match &commit {
        Some(_) => {
            let out = git_ok(
                &root,
                &["diff", "--name-only", "-z", "--no-renames", "HEAD"],
            )?;
            split_z(&out).map(<[u8]>::to_vec).collect()
        }
        None => Vec::new(),
    };
    Ok(Some(Repo {
        root,
        commit,
        branch,
        remote,
        pushed,
        head,
        tracked,
        untracked,
        changed,
    }))
}

/// The URL of the branch's upstream remote, else `origin`, else the first.
fn remote_url(root: &Path, branch: Option<&str>) -> Result<Option<String>> {
    let mut names: Vec<String> = Vec::new();
    if let Some(branch) = branch
        && let Some(name) = line(git(root, &["config", &format!("branch.{branch}.remote")])?)
    {
        names.push(name);
    }
    if let Some(all) = line(git(root, &["remote"])?) {
        let mut all: Vec<String> = all.lines().map(str::to_owned).collect();
        all.sort_by_key(|n| n != "origin");
        names.extend(all);
    }
    for name in names {
        if let Some(url) = line(git(root, &["remote", "get-url", &name])?) {
            return Ok(Some(absolute_local(root, url)));
        }
    }
    Ok(None)
}

/// A remote that is a relative folder (`../origin.git`) means nothing
/// elsewhere: it is made absolute against the repository. URLs
/// (`scheme://`, `user@host:path`) are kept as they are.
fn absolute_local(root: &Path, url: String) -> String {
    let is_url = url.contains("://") || url.split('/').next().is_some_and(|s| s.contains(':'));
    if is_url || Path::new(&url).is_absolute() {
        return url;
    }
    let path = root.join(&url);
    path.canonicalize()
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned()
}

/// The text diff of the working tree against HEAD (binary changes as git
/// binary patches), for people reading the run; restore uses whole files.
pub fn diff_text(root: &Path) -> Result<Vec<u8>> {
    git_ok(root, &["diff", "--binary", "--no-renames", "HEAD"])
}
