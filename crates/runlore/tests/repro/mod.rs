//! Helpers of the reproducibility tests: real git repositories in temporary
//! folders, trees compared byte for byte, and a run's artifacts read back
//! from the local data dir or the server.

use std::collections::BTreeMap;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use runlore_core::{ArtifactIndex, ArtifactOwner, RunId};

use crate::support::{ServerChild, Target, block_on};

/// Runs git with a fixed identity; panics with git's message on failure.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.invalid",
        ])
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

pub fn write(dir: &Path, rel: &str, bytes: &[u8]) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

pub fn make_executable(path: &Path) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A file name that is not UTF-8 (Latin-1 "café.txt").
pub fn latin1_name() -> PathBuf {
    PathBuf::from(std::ffi::OsStr::from_bytes(b"caf\xe9.txt"))
}

/// Every file under `dir` (not following links) but the top-level folders
/// in `leave_out`: path bytes → (kind and exec bit, content or link target).
pub fn tree(dir: &Path, leave_out: &[&str]) -> BTreeMap<Vec<u8>, (String, Vec<u8>)> {
    let mut out = BTreeMap::new();
    walk(dir, dir, leave_out, &mut out);
    out
}

fn walk(
    root: &Path,
    dir: &Path,
    leave_out: &[&str],
    out: &mut BTreeMap<Vec<u8>, (String, Vec<u8>)>,
) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let rel = path.strip_prefix(root).unwrap().to_owned();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        if leave_out.iter().any(|l| rel.as_os_str() == *l) {
            continue;
        }
        if meta.is_dir() {
            walk(root, &path, leave_out, out);
        } else if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&path).unwrap();
            let key = rel.as_os_str().as_bytes().to_vec();
            out.insert(key, ("link".into(), target.as_os_str().as_bytes().to_vec()));
        } else {
            let exec = meta.permissions().mode() & 0o111 != 0;
            let kind = if exec { "exec" } else { "file" };
            let key = rel.as_os_str().as_bytes().to_vec();
            out.insert(key, (kind.into(), std::fs::read(&path).unwrap()));
        }
    }
}

/// Asserts two trees are identical, naming the first difference.
pub fn assert_same_tree(original: &Path, restored: &Path, leave_out: &[&str]) {
    let a = tree(original, leave_out);
    let b = tree(restored, &[".git", ".runlore-run"]);
    assert_same(&a, &b);
}

type Tree = BTreeMap<Vec<u8>, (String, Vec<u8>)>;

/// Names the first difference instead of printing whole files.
pub fn assert_same(a: &Tree, b: &Tree) {
    let names = |t: &Tree| -> Vec<String> {
        t.keys()
            .map(|k| String::from_utf8_lossy(k).into_owned())
            .collect()
    };
    assert_eq!(names(a), names(b), "file names differ");
    for (path, value) in a {
        assert!(
            Some(value) == b.get(path),
            "{} differs",
            String::from_utf8_lossy(path)
        );
    }
}

/// The local data dir or a server, with the run's artifacts readable.
pub struct Place {
    pub target: Target,
    pub data: Option<PathBuf>,
    pub server: Option<ServerChild>,
}

impl Place {
    pub fn local(cwd: &Path, data: &Path) -> Place {
        let data_owned = data.to_owned();
        Place {
            target: Target {
                cwd: cwd.to_owned(),
                args: vec!["--data-dir".into(), data.to_str().unwrap().into()],
                store: Box::new(move || runlore_store::open_data_dir(&data_owned).unwrap()),
            },
            data: Some(data.to_owned()),
            server: None,
        }
    }

    pub fn server(cwd: &Path, data: &Path) -> Place {
        let server = ServerChild::start(cwd, data);
        let url = server.url.clone();
        Place {
            target: Target {
                cwd: cwd.to_owned(),
                args: vec!["--server".into(), url.clone()],
                store: Box::new(move || {
                    std::sync::Arc::new(runlore_client::HttpStore::new(&url).unwrap())
                }),
            },
            data: None,
            server: Some(server),
        }
    }

    /// A run's artifact, `None` when it has none at `path`.
    pub fn artifact(&self, run: &str, path: &str) -> Option<Vec<u8>> {
        let run = RunId::parse(run).unwrap();
        if let Some(server) = &self.server {
            let url = format!("{}/api/v1/runs/{run}/artifacts/{path}", server.url);
            return block_on(async move {
                let response = reqwest::get(url).await.unwrap();
                if response.status() == 404 {
                    return None;
                }
                assert!(response.status().is_success(), "{}", response.status());
                Some(response.bytes().await.unwrap().to_vec())
            });
        }
        let data = self.data.clone().unwrap();
        block_on(async move {
            let index = runlore_store::open_sqlite(&data).unwrap();
            let row = index
                .get_artifact(&ArtifactOwner::Run(run), path)
                .await
                .ok()?;
            let blobs = runlore_blobs::open(data.join("blobs").to_str().unwrap()).unwrap();
            Some(blobs.get_bytes(&row.sha256).await.unwrap().to_vec())
        })
    }

    /// The one run whose tag `key` is `value`, as JSON.
    pub fn run_by_name(&self, name: &str) -> serde_json::Value {
        let runs = self.target.json(&["run", "list", "--all", "-n", "1000"]);
        let found: Vec<&serde_json::Value> = runs
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["name"] == name)
            .collect();
        assert_eq!(found.len(), 1, "runs named {name}: {runs}");
        found[0].clone()
    }
}

/// `runlore exec` with the place's flags; returns (code, stdout, stderr).
pub fn exec(place: &Place, cwd: &Path, args: &[&str]) -> (i32, String, String) {
    let out = crate::support::runlore(cwd)
        .args(&place.target.args)
        .arg("exec")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Files of every kind a research folder has: nested, binary, executable,
/// a symlink, a name that is not UTF-8, an ignored cache.
pub fn fill(dir: &Path) {
    write(
        dir,
        "train.py",
        b"import os\nprint(open(os.environ['RUNLORE_CONFIG']).read())\n",
    );
    write(dir, "src/model/layers.py", b"LAYERS = [64, 32]\n");
    write(
        dir,
        "weights.bin",
        &(0..=255u8).cycle().take(5000).collect::<Vec<_>>(),
    );
    write(
        dir,
        "configs/base.yaml",
        b"model:\n  lr: 0.001\n  layers: [64, 32]\nseed: 1\n",
    );
    write(dir, "run.sh", b"#!/bin/sh\necho hi\n");
    make_executable(&dir.join("run.sh"));
    std::fs::write(dir.join(latin1_name()), b"latin-1 name\n").unwrap();
    std::os::unix::fs::symlink("src/model/layers.py", dir.join("layers-link")).unwrap();
    write(dir, ".gitignore", b"*.log\n__pycache__/\n");
    write(dir, "debug.log", b"ignored\n");
    write(dir, "src/__pycache__/x.pyc", b"\x00cache");
}
