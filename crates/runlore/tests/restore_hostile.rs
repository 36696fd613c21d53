//! Restores from hostile run files: manifests, exec records, package
//! lists and artifact listings written by someone else, planted in a real
//! store (through the CLI, on a real server or data dir). Nothing may be
//! written or deleted outside the target; each refusal names its entry;
//! legitimate links still restore byte for byte.

#![allow(clippy::unwrap_used)]

#[allow(dead_code)]
mod repro;
#[allow(dead_code)]
mod support;

use std::path::Path;

use repro::{Place, assert_same_tree, exec, git, write};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Stores `bytes` as the run's artifact `path` through `runlore artifact put`.
fn put(place: &Place, id: &str, path: &str, bytes: &[u8]) {
    let file = place.target.cwd.join("upload.bin");
    std::fs::write(&file, bytes).unwrap();
    place.target.ok(&[
        "artifact",
        "put",
        id,
        file.to_str().unwrap(),
        "--path",
        path,
    ]);
}

/// A manifest entry for `bytes`, stored under the blob name a capture uses.
fn planted(place: &Place, id: &str, path: &str, mode: &str, bytes: &[u8]) -> Value {
    let artifact = format!("runlore/code/blobs/{}", sha(bytes));
    put(place, id, &artifact, bytes);
    json!({"path": path, "sha256": sha(bytes), "size": bytes.len(), "mode": mode,
           "origin": "modified", "artifact": artifact})
}

fn manifest(place: &Place, id: &str) -> Value {
    serde_json::from_slice(&place.artifact(id, "runlore/code/manifest.json").unwrap()).unwrap()
}

fn set_manifest(place: &Place, id: &str, manifest: &Value) {
    put(
        place,
        id,
        "runlore/code/manifest.json",
        &serde_json::to_vec(manifest).unwrap(),
    );
}

/// `run restore ID --to DEST`, expected to be refused (exit 2); stderr.
fn refused(place: &Place, id: &str, dest: &Path) -> String {
    place
        .target
        .fails(&["run", "restore", id, "--to", dest.to_str().unwrap()], 2)
}

fn exec_ok(place: &Place, dir: &Path, name: &str) -> String {
    let (code, _, stderr) = exec(place, dir, &["--name", name, "--", "true"]);
    assert_eq!(code, 0, "{stderr}");
    place.run_by_name(name)["id"].as_str().unwrap().to_owned()
}

#[test]
fn links_restore_as_captured_and_a_file_through_a_planted_link_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let (work, outside) = (tmp.path().join("work"), tmp.path().join("outside"));
    std::fs::create_dir_all(&outside).unwrap();
    write(&work, "src/model.py", b"W = 1\n");
    write(&work, "data/a.txt", b"a\n");
    // A link to a folder of the tree, dangling ones, one leaving the tree:
    // all kept as links, none followed.
    for (link, target) in [
        ("docs", "src"),
        ("src/dangling", "no/such/file"),
        ("abs-dangling", "/nonexistent-runlore-test/x"),
        ("up", "../outside"),
    ] {
        std::os::unix::fs::symlink(target, work.join(link)).unwrap();
    }
    let place = Place::server(tmp.path(), &tmp.path().join("data"));
    let id = exec_ok(&place, &work, "links");
    let out = tmp.path().join("restored");
    let summary = place
        .target
        .json(&["run", "restore", &id, "--to", out.to_str().unwrap()]);
    assert_eq!(summary["matches"], true, "{summary}");
    assert_same_tree(&work, &out, &[]);

    // The manifest makes `link` point outside, then writes beneath it.
    let original = manifest(&place, &id);
    let mut hostile = original.clone();
    let target = outside.as_os_str().as_encoded_bytes();
    // The link first and the file last, so the link is made before it.
    let link = planted(&place, &id, "link", "120000", target);
    let pwned = planted(&place, &id, "link/pwned.txt", "100644", b"pwned\n");
    let files = hostile["files"].as_array_mut().unwrap();
    files.insert(0, link);
    files.push(pwned);
    set_manifest(&place, &id, &hostile);
    let dest = tmp.path().join("r1");
    let err = refused(&place, &id, &dest);
    assert!(
        err.contains("\"link/pwned.txt\" lies beneath \"link\""),
        "{err}"
    );
    assert!(!outside.join("pwned.txt").exists());
    assert!(!dest.exists(), "a refused manifest wrote the target");

    // Paths that leave the tree, by name; a bad entry among good ones.
    for (path, why) in [
        ("../escaped.txt", "'..'"),
        (tmp.path().join("abs.txt").to_str().unwrap(), "absolute"),
        ("src/../../escaped.txt", "'..'"),
        (".runlore-run/exec.json", "reserved"),
    ] {
        let mut hostile = original.clone();
        let entry = planted(&place, &id, path, "100644", b"x\n");
        hostile["files"].as_array_mut().unwrap().insert(0, entry);
        set_manifest(&place, &id, &hostile);
        let err = refused(&place, &id, &dest);
        assert!(err.contains(&format!("file \"{path}\"")), "{err}");
        assert!(err.contains(why), "{err}");
        assert!(!tmp.path().join("escaped.txt").exists());
        assert!(!tmp.path().join("abs.txt").exists());
        assert!(!dest.exists());
    }
    // A listed file twice, and a malformed manifest, are refused too.
    let mut twice = original.clone();
    let first = twice["files"][0].clone();
    twice["files"].as_array_mut().unwrap().push(first);
    set_manifest(&place, &id, &twice);
    assert!(refused(&place, &id, &dest).contains("listed twice"));
    put(&place, &id, "runlore/code/manifest.json", b"{\"files\": 3}");
    assert!(refused(&place, &id, &dest).contains("not a valid manifest"));
    assert!(!dest.exists());
}

/// A committed repository whose commit holds `out`, a link to `outside`.
fn repo_with_outward_link(tmp: &Path, outside: &Path) -> std::path::PathBuf {
    let repo = tmp.join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q"]);
    write(&repo, "a.txt", b"a\n");
    write(&repo, "gone.txt", b"deleted after the commit\n");
    std::os::unix::fs::symlink(outside, repo.join("out")).unwrap();
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "init"]);
    std::fs::remove_file(repo.join("gone.txt")).unwrap();
    repo
}

#[test]
fn deletes_and_writes_of_a_git_manifest_never_leave_the_checkout() {
    let tmp = tempfile::tempdir().unwrap();
    let outside = tmp.path().join("outside");
    write(&outside, "victim.txt", b"keep me\n");
    write(tmp.path(), "victim.txt", b"keep me too\n");
    let repo = repo_with_outward_link(tmp.path(), &outside);
    let place = Place::local(tmp.path(), &tmp.path().join("data"));
    let id = exec_ok(&place, &repo, "git");
    let original = manifest(&place, &id);
    assert_eq!(original["deleted"], json!(["gone.txt"]));
    // The real manifest restores, checkout and deletion included.
    let good = tmp.path().join("good");
    let summary = place
        .target
        .json(&["run", "restore", &id, "--to", good.to_str().unwrap()]);
    assert_eq!(summary["matches"], true, "{summary}");
    assert!(summary["checkout"].is_string(), "{summary}");
    assert!(!good.join("gone.txt").exists());

    let victim = outside.join("victim.txt");
    for (i, deleted) in [
        "../victim.txt".to_owned(),
        victim.to_str().unwrap().to_owned(),
    ]
    .iter()
    .enumerate()
    {
        let mut hostile = original.clone();
        // Beside the real one, so the tree still verifies.
        hostile["deleted"] = json!(["gone.txt", deleted]);
        set_manifest(&place, &id, &hostile);
        let dest = tmp.path().join(format!("d{i}"));
        let err = refused(&place, &id, &dest);
        assert!(
            err.contains(&format!("deleted file \"{deleted}\"")),
            "{err}"
        );
        assert!(!dest.exists());
    }
    assert!(victim.exists() && tmp.path().join("victim.txt").exists());

    // The manifest leaves `out` unlisted, so only the checkout makes the
    // link; deleting or writing through it is refused on the filesystem.
    let mut unlisted = original.clone();
    unlisted["files"]
        .as_array_mut()
        .unwrap()
        .retain(|f| f["path"] != "out");
    let mut delete = unlisted.clone();
    delete["deleted"] = json!(["out/victim.txt"]);
    set_manifest(&place, &id, &delete);
    let err = refused(&place, &id, &tmp.path().join("d2"));
    assert!(
        err.contains("\"out/victim.txt\"") && err.contains("symbolic link"),
        "{err}"
    );
    assert_eq!(std::fs::read(&victim).unwrap(), b"keep me\n");
    let mut write_through = unlisted;
    let entry = planted(&place, &id, "out/pwned.txt", "100644", b"pwned\n");
    write_through["files"].as_array_mut().unwrap().push(entry);
    set_manifest(&place, &id, &write_through);
    let err = refused(&place, &id, &tmp.path().join("d3"));
    assert!(
        err.contains("\"out/pwned.txt\"") && err.contains("symbolic link"),
        "{err}"
    );
    assert!(!outside.join("pwned.txt").exists());

    // A clone source that git would read as an option runs nothing.
    let mut option = original.clone();
    let marker = tmp.path().join("ran");
    option["git"]["repo_path"] = json!(format!("--upload-pack=touch {}", marker.display()));
    set_manifest(&place, &id, &option);
    let err = refused(&place, &id, &tmp.path().join("d4"));
    assert!(err.contains("clone source") && err.contains("'-'"), "{err}");
    assert!(!marker.exists());
}

#[test]
fn rerun_env_build_and_artifact_get_refuse_what_points_outside() {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("work");
    write(&work, "main.py", b"print(1)\n");
    let place = Place::local(tmp.path(), &tmp.path().join("data"));
    let marker = tmp.path().join("marker");
    let script = format!("pwd >> {}", marker.display());
    let (code, _, stderr) = exec(&place, &work, &["--name", "cmd", "--", "sh", "-c", &script]);
    assert_eq!(code, 0, "{stderr}");
    std::fs::remove_file(&marker).unwrap();
    let id = place.run_by_name("cmd")["id"].as_str().unwrap().to_owned();

    // A record whose working directory leaves the restored tree.
    let mut record: Value =
        serde_json::from_slice(&place.artifact(&id, "runlore/exec.json").unwrap()).unwrap();
    record["cwd_in_tree"] = json!("../..");
    put(
        &place,
        &id,
        "runlore/exec.json",
        &serde_json::to_vec(&record).unwrap(),
    );
    let dest = tmp.path().join("rerun");
    let err = place
        .target
        .fails(&["run", "rerun", &id, "--to", dest.to_str().unwrap()], 2);
    assert!(err.contains("working directory \"../..\""), "{err}");
    assert!(!marker.exists(), "the command ran outside the tree");
    assert!(!dest.exists());

    // A package list with pip options: left out and named, never run.
    let reqs = "-r /etc/passwd\n--index-url http://127.0.0.1:9/\n";
    put(&place, &id, "runlore/requirements.txt", reqs.as_bytes());
    let venv = tmp.path().join("venv");
    let made = place
        .target
        .json(&["run", "env", &id, "--build", venv.to_str().unwrap()]);
    assert_eq!(made["packages"], 0, "{made}");
    assert_eq!(
        made["left_out"],
        json!(["-r /etc/passwd", "--index-url http://127.0.0.1:9/"])
    );
    assert_eq!(std::fs::read(venv.join("requirements.txt")).unwrap(), b"\n");

    // Artifact rows whose paths leave any folder (only a tampered store
    // or a hostile server lists them): nothing at all is downloaded.
    put(&place, &id, "ok/f.txt", b"fine\n");
    put(&place, &id, "bad/one.txt", b"one\n");
    put(&place, &id, "bad/two.txt", b"two\n");
    let abs = tmp.path().join("abs-made/x.txt");
    let db = rusqlite::Connection::open(tmp.path().join("data/runlore.db")).unwrap();
    for (from, to) in [
        ("bad/one.txt", "../made-outside/x.txt".to_owned()),
        ("bad/two.txt", abs.to_str().unwrap().to_owned()),
    ] {
        let n = db
            .execute(
                "UPDATE artifacts SET path = ?1 WHERE path = ?2",
                [&to, from],
            )
            .unwrap();
        assert_eq!(n, 1);
    }
    drop(db);
    let get_dir = tmp.path().join("get");
    std::fs::create_dir_all(&get_dir).unwrap();
    let get = |args: &[&str]| {
        let out = support::runlore(&get_dir)
            .args(&place.target.args)
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let err = get(&["artifact", "get", &id, "", "-o", "out"]);
    assert!(err.contains("'../made-outside/x.txt'"), "{err}");
    let err = get(&["artifact", "get", &id, ""]);
    assert!(err.contains("made-outside"), "{err}");
    assert!(!get_dir.join("made-outside").exists());
    assert!(!tmp.path().join("made-outside").exists());
    assert!(!abs.parent().unwrap().exists());
    assert!(!get_dir.join("out/ok/f.txt").exists() && !get_dir.join("ok").exists());
}
