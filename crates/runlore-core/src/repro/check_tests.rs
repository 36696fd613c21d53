#![allow(clippy::unwrap_used)]

use super::*;
use crate::repro::{ConfigRecord, GitInfo, Kind, Origin, Policy};

const SHA: &str = "0000000000000000000000000000000000000000000000000000000000000000";

fn file(path: &str, mode: &str) -> FileEntry {
    FileEntry {
        path: path.to_owned(),
        path_hex: None,
        sha256: SHA.to_owned(),
        size: 1,
        mode: mode.to_owned(),
        origin: Origin::File,
        artifact: Some(format!("runlore/code/blobs/{SHA}")),
        skipped: None,
    }
}

fn manifest(files: Vec<FileEntry>) -> Manifest {
    Manifest {
        version: MANIFEST_VERSION,
        kind: Kind::Folder,
        root: "/work".to_owned(),
        cwd: String::new(),
        git: None,
        policy: Policy::default(),
        files,
        deleted: Vec::new(),
        deleted_hex: Vec::new(),
        excluded: 0,
        notes: Vec::new(),
        stored_files: 0,
        stored_bytes: 0,
        tree_sha256: String::new(),
    }
}

fn refusal(m: &Manifest) -> String {
    m.check().unwrap_err().message().to_owned()
}

#[test]
fn a_manifest_as_captured_passes() {
    let mut m = manifest(vec![
        file("src/a.py", "100644"),
        file("run.sh", "100755"),
        file("link", "120000"),
        file("sub/.git", "100644"),
    ]);
    m.files[0].path_hex = Some(hex::encode("src/a.py"));
    m.deleted = vec!["old/gone.txt".to_owned(), "src".to_owned() + "/x"];
    m.cwd = "src".to_owned();
    m.check().unwrap();
    assert_eq!(m.deleted_raw()[0], b"old/gone.txt");
}

#[test]
fn paths_that_leave_the_tree_are_refused_by_name() {
    for (path, why) in [
        ("../victim.txt", "'..'"),
        ("a/../../x", "'..'"),
        ("/etc/passwd", "absolute"),
        ("", "empty"),
        ("a//b", "empty component"),
        ("a/", "empty component"),
        ("./a", "'.'"),
        ("a\0b", "NUL"),
        (".git/hooks/post-checkout", "reserved"),
        (".GIT/config", "reserved"),
        (".runlore-run/manifest.json", "reserved"),
    ] {
        let message = refusal(&manifest(vec![file(path, "100644")]));
        let escaped = path.escape_debug().to_string();
        assert!(message.contains(&format!("\"{escaped}\"")), "{message}");
        assert!(message.contains(why), "{path}: {message}");
    }
    let long = "a/".repeat(2100) + "b";
    assert!(refusal(&manifest(vec![file(&long, "100644")])).contains("4096"));
    let component = "c".repeat(256);
    assert!(refusal(&manifest(vec![file(&component, "100644")])).contains("255"));
}

#[test]
fn a_file_beneath_a_symlink_of_the_manifest_is_refused() {
    let m = manifest(vec![
        file("link", "120000"),
        file("link/pwned.txt", "100644"),
    ]);
    let message = refusal(&m);
    assert!(
        message.contains("\"link/pwned.txt\" lies beneath \"link\""),
        "{message}"
    );
    let m = manifest(vec![file("a/b/c", "100644"), file("a", "100644")]);
    assert!(refusal(&m).contains("beneath \"a\""));
}

#[test]
fn duplicates_bad_modes_digests_and_artifacts_are_refused() {
    let twice = manifest(vec![file("a", "100644"), file("a", "100755")]);
    assert!(refusal(&twice).contains("\"a\" is listed twice"));
    assert!(refusal(&manifest(vec![file("a", "040000")])).contains("mode \"040000\""));
    let mut digest = file("a", "100644");
    digest.sha256 = "ABC".to_owned();
    assert!(refusal(&manifest(vec![digest])).contains("sha256"));
    let mut artifact = file("a", "100644");
    artifact.artifact = Some("../../etc/passwd".to_owned());
    assert!(refusal(&manifest(vec![artifact])).contains("bad artifact path"));
    let mut link = file("l", "120000");
    link.size = 10_000;
    assert!(refusal(&manifest(vec![link])).contains("4095"));
    let mut hex_name = file("a", "100644");
    hex_name.path_hex = Some("zz".to_owned());
    assert!(refusal(&manifest(vec![hex_name])).contains("not hex"));
    // The bytes of a hex name are what is checked, not its lossy text.
    let mut hidden = file("fine.txt", "100644");
    hidden.path_hex = Some(hex::encode(b"../\xe9vil"));
    assert!(refusal(&manifest(vec![hidden])).contains("'..'"));
}

#[test]
fn deleted_entries_are_checked_like_files() {
    for bad in [
        "../victim.txt",
        "/tmp/victim.txt",
        "a/../../b",
        ".git/config",
    ] {
        let mut m = manifest(vec![file("a", "100644")]);
        m.deleted = vec![bad.to_owned()];
        let message = refusal(&m);
        assert!(
            message.contains(&format!("deleted file \"{bad}\"")),
            "{message}"
        );
    }
    let mut m = manifest(vec![file("a", "100644")]);
    m.deleted = vec!["ok".to_owned()];
    m.deleted_hex = vec![Some(hex::encode("/etc/shadow"))];
    assert!(refusal(&m).contains("\"/etc/shadow\""));
    let mut m = manifest(vec![file("a", "100644")]);
    m.deleted = vec!["a".to_owned()];
    assert!(refusal(&m).contains("listed twice"));
    let mut m = manifest(Vec::new());
    m.deleted_hex = vec![None];
    assert!(refusal(&m).contains("deleted_hex"));
}

#[test]
fn git_values_that_would_run_commands_are_refused() {
    let git = |commit: &str, remote: Option<&str>, repo: &str| {
        let mut m = manifest(Vec::new());
        m.kind = Kind::Git;
        m.git = Some(GitInfo {
            commit: Some(commit.to_owned()),
            branch: None,
            remote: remote.map(str::to_owned),
            repo_path: repo.to_owned(),
            dirty: false,
            pushed: false,
        });
        m
    };
    let commit = "a".repeat(40);
    git(&commit, Some("https://example.invalid/r.git"), "/home/me/r")
        .check()
        .unwrap();
    git(&commit, Some("git@example.invalid:r.git"), "/r")
        .check()
        .unwrap();
    git(&commit, Some("ssh://[::1]/r"), "/r").check().unwrap();
    assert!(refusal(&git("--orphan", None, "/r")).contains("commit \"--orphan\""));
    assert!(refusal(&git(&commit, Some("--upload-pack=touch /tmp/x"), "/r")).contains("'-'"));
    assert!(refusal(&git(&commit, Some("ext::sh -c touch% /tmp/x"), "/r")).contains("helper"));
    assert!(refusal(&git(&commit, None, "fd::3")).contains("helper"));
}

#[test]
fn size_count_version_and_cwd_are_bounded() {
    let big = vec![b' '; usize::try_from(MAX_MANIFEST_BYTES).unwrap() + 1];
    let message = Manifest::from_untrusted_json(&big).unwrap_err();
    assert!(message.message().contains("over the limit"), "{message}");
    assert!(
        Manifest::from_untrusted_json(b"{")
            .unwrap_err()
            .message()
            .contains("not a valid")
    );
    let mut m = manifest(Vec::new());
    m.version = 99;
    assert!(refusal(&m).contains("version 99"));
    let mut m = manifest(Vec::new());
    m.deleted = vec!["x".to_owned(); MAX_MANIFEST_ENTRIES + 1];
    assert!(refusal(&m).contains("more than"));
    let mut m = manifest(Vec::new());
    m.cwd = "../up".to_owned();
    assert!(refusal(&m).contains("working directory"));
    let json = serde_json::to_vec(&manifest(vec![file("a", "100644")])).unwrap();
    Manifest::from_untrusted_json(&json).unwrap();
}

#[test]
fn an_exec_record_cannot_point_outside_the_tree() {
    let mut record = ExecRecord {
        cwd_in_tree: Some("src".to_owned()),
        config: Some(ConfigRecord {
            format: "yaml".to_owned(),
            artifact: "runlore/config.yaml".to_owned(),
            ..ConfigRecord::default()
        }),
        ..ExecRecord::default()
    };
    record.check().unwrap();
    record.cwd_in_tree = Some("/etc".to_owned());
    assert!(record.check().unwrap_err().message().contains("\"/etc\""));
    record.cwd_in_tree = Some(String::new());
    record.check().unwrap();
    if let Some(config) = record.config.as_mut() {
        config.format = "../../x".to_owned();
    }
    let message = record.check().unwrap_err();
    assert!(
        message.message().contains("format \"../../x\""),
        "{message}"
    );
}
