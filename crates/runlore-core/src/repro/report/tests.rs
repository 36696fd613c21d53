use serde_json::{Value, json};

use super::*;
use crate::repro::{ConfigRecord, FileEntry, GitInfo, Kind, Origin, Override, Policy};

fn run(tags: Value) -> Run {
    serde_json::from_value(json!({
        "id": "0123456789abcdef0123456789abcdef",
        "project": "vision",
        "experiment_id": "1",
        "experiment": "ablation",
        "name": "kl-1.0",
        "status": "FAILED",
        "lifecycle": "active",
        "start_time": 1_700_000_000_000_i64,
        "end_time": 1_700_000_245_000_i64,
        "user": "ada",
        "parent_run_id": null,
        "params": {"lr": "0.01"},
        "tags": tags,
        "metrics": [
            {"key": "loss", "value": 0.25, "step": 9, "timestamp": 0},
            {"key": "nan_only", "value": "NaN", "step": 1, "timestamp": 0}
        ],
        "components": [
            {"name": "gpu", "status": "disabled", "reason": "no nvidia-smi", "updated_at": 0},
            {"name": "git", "status": "success", "reason": "", "updated_at": 0}
        ],
        "created_at": 0,
        "updated_at": 0
    }))
    .expect("a run")
}

fn inputs(run: Run) -> ReportInputs {
    ReportInputs {
        features: RunFeatures {
            full: json!({"model": {"kl_weight": 1.0}}),
            diff: json!([]),
            parents: Vec::new(),
            root: run.id.clone(),
        },
        run,
        record: None,
        manifest: None,
        artifacts: Vec::new(),
        summaries: Vec::new(),
        problems: Vec::new(),
    }
}

fn manifest() -> Manifest {
    let file = |path: &str, skipped: Option<&str>| FileEntry {
        path: path.into(),
        path_hex: None,
        sha256: "ab".repeat(32),
        size: 3,
        mode: "100644".into(),
        origin: Origin::Untracked,
        artifact: None,
        skipped: skipped.map(Into::into),
    };
    Manifest {
        version: 1,
        kind: Kind::Git,
        root: "/home/ada/proj".into(),
        cwd: String::new(),
        git: Some(GitInfo {
            commit: None,
            branch: Some("main".into()),
            remote: None,
            repo_path: "/home/ada/proj".into(),
            dirty: true,
            pushed: false,
        }),
        policy: Policy::default(),
        files: vec![
            file("train.py", None),
            file("data.bin", Some("over max_file_bytes")),
        ],
        deleted: Vec::new(),
        deleted_hex: Vec::new(),
        excluded: 4,
        notes: Vec::new(),
        stored_files: 1,
        stored_bytes: 3,
        tree_sha256: "cd".repeat(32),
    }
}

#[test]
fn an_exec_run_says_what_ran_with_which_config_and_how_to_restore_it() {
    let mut inputs = inputs(run(
        json!({"ablation": "", "runlore.error": "exit 3 | oops"}),
    ));
    inputs.record = Some(ExecRecord {
        argv: vec![
            "python".into(),
            "train.py".into(),
            "--msg".into(),
            "a b".into(),
        ],
        cwd: "/home/ada/proj".into(),
        config: Some(ConfigRecord {
            base: Some("configs/default.yaml".into()),
            overrides: vec![Override {
                key: "model.kl_weight".into(),
                value: json!(1.0),
            }],
            allow_new: false,
            format: "yaml".into(),
            artifact: "runlore/config.yaml".into(),
        }),
        exit_code: Some(3),
        ..ExecRecord::default()
    });
    inputs.manifest = Some(manifest());
    inputs.summaries = vec![MetricSummary {
        run_id: inputs.run.id.clone(),
        key: "loss".into(),
        count: 10,
        min: Some(0.25),
        max: Some(2.5),
        mean: Some(1.0),
    }];
    let md = render(&inputs);
    assert!(
        md.starts_with("# Run kl-1.0 (`0123456789abcdef0123456789abcdef`)"),
        "{md}"
    );
    assert!(md.contains("| status | FAILED |"), "{md}");
    assert!(md.contains("| duration | 4m 05s |"), "{md}");
    assert!(
        md.contains(r"| error | exit 3 \| oops |"),
        "a pipe breaks no table: {md}"
    );
    assert!(md.contains("python train.py --msg 'a b'"), "{md}");
    assert!(md.contains("- ended: exit code 3"), "{md}");
    assert!(md.contains("- override: `model.kl_weight=1.0`"), "{md}");
    assert!(md.contains("kl_weight: 1.0"), "{md}");
    assert!(md.contains("| lr | 0.01 |"), "{md}");
    assert!(
        md.contains("commit `(no commit yet)` on branch `main`"),
        "{md}"
    );
    assert!(md.contains("dirty, commit not on any remote"), "{md}");
    assert!(
        md.contains("recorded by hash only: `data.bin` (over max_file_bytes"),
        "{md}"
    );
    assert!(md.contains("4 excluded by the policy"), "{md}");
    assert!(
        md.contains("| loss | 0.25 | 9 | 0.25 | 2.5 | 1 | 10 |"),
        "{md}"
    );
    assert!(
        md.contains("| nan_only | NaN | 1 | - | - | - | 0 |"),
        "{md}"
    );
    assert!(md.contains("**gpu**: disabled: no nvidia-smi"), "{md}");
    assert!(
        md.contains("`runlore run restore 0123456789abcdef0123456789abcdef --to DIR`"),
        "{md}"
    );
}

#[test]
fn a_python_run_shows_its_command_and_gpus_from_the_environment() {
    let env = json!({
        "command": ["/usr/bin/python3", "train.py", "--epochs", "3"],
        "cwd": "/work",
        "python": "3.11.7",
        "os": "Linux-6.1",
        "gpus": [{"name": "NVIDIA H200"}]
    });
    let inputs = inputs(run(json!({"runlore.environment": env.to_string()})));
    let md = render(&inputs);
    assert!(md.contains("/usr/bin/python3 train.py --epochs 3"), "{md}");
    assert!(md.contains("- working directory: `/work`"), "{md}");
    assert!(md.contains("Python 3.11.7"), "{md}");
    assert!(md.contains("- GPUs: NVIDIA H200"), "{md}");
    assert!(md.contains("- no code snapshot"), "{md}");
    assert!(md.contains("## Artifacts\n\nNone."), "{md}");
}

#[test]
fn records_that_cannot_be_read_are_named_not_fatal() {
    let mut inputs = inputs(run(json!({})));
    inputs.problems.push(Problem {
        path: "runlore/code/manifest.json".into(),
        what: "is malformed: EOF".into(),
    });
    let md = render(&inputs);
    assert!(md.contains("## Problems reading this run"), "{md}");
    assert!(md.contains("manifest.json` is malformed"), "{md}");
    assert!(md.contains("No command recorded."), "{md}");
}

/// The lines of `md` outside fenced code blocks.
fn outside_fences(md: &str) -> String {
    let mut out = String::new();
    let mut fence: Option<String> = None;
    for line in md.lines() {
        let ticks: String = line.chars().take_while(|c| *c == '`').collect();
        match &fence {
            Some(open) if ticks.len() >= open.len() && line.trim_start_matches('`').is_empty() => {
                fence = None
            }
            Some(_) => {}
            None if ticks.len() >= 3 => fence = Some(ticks),
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

#[test]
fn user_text_cannot_become_html_links_or_images() {
    let mut run = run(json!({
        "x": "<img src=x onerror=alert(1)>",
        "pic": "![x](http://evil.example/track.png)",
        "runlore.error": "<script>alert(2)</script>"
    }));
    run.name = "<script>alert(1)</script>".into();
    run.user = "*bold* [link](javascript:alert(3))".into();
    run.params.insert(
        "note".into(),
        "![p](http://evil.example/p.png) & <b>".into(),
    );
    let mut inputs = inputs(run);
    inputs.record = Some(ExecRecord {
        argv: vec!["echo".into(), "```\n<script>alert(4)</script>".into()],
        cwd: "/tmp/`<img src=y onerror=alert(5)>`".into(),
        capture_errors: vec!["<iframe src=http://evil.example/>".into()],
        ..ExecRecord::default()
    });
    let mut m = manifest();
    m.root = "<img src=z onerror=alert(6)>".into();
    m.kind = Kind::Folder;
    m.notes = vec!["[click](http://evil.example/)".into()];
    inputs.manifest = Some(m);
    inputs.problems.push(Problem {
        path: "runlore/exec.json".into(),
        what: r#"is malformed: invalid type: string "<img src=w onerror=alert(7)>""#.into(),
    });
    let md = render(&inputs);
    let prose = outside_fences(&md);
    for needle in [
        "<script",
        "<img",
        "<iframe",
        "<b>",
        "![",
        "onerror=alert(1)>",
    ] {
        assert!(
            !prose.contains(needle),
            "{needle} outside code blocks:\n{md}"
        );
    }
    for (i, _) in prose.match_indices("](") {
        assert!(prose[..i].ends_with('\\'), "a link target at {i}:\n{prose}");
    }
    assert!(
        md.starts_with("# Run &lt;script&gt;alert(1)&lt;/script&gt; (`"),
        "{md}"
    );
    assert!(
        md.contains(r"| tags | pic=!\[x\](http://evil.example/track.png), x=&lt;img src=x onerror=alert(1)&gt; |"),
        "{md}"
    );
    assert!(
        md.contains(r"| user | \*bold\* \[link\](javascript:alert(3)) |"),
        "{md}"
    );
    assert!(
        md.contains(r"| note | !\[p\](http://evil.example/p.png) &amp; &lt;b&gt; |"),
        "{md}"
    );
    assert!(
        md.contains(r"- working directory: /tmp/\`&lt;img src=y onerror=alert(5)&gt;\`"),
        "{md}"
    );
    // The argument that tries to close the command's block stays inside it.
    assert!(
        md.contains("````sh\necho '```\n<script>alert(4)</script>'\n````"),
        "{md}"
    );
    assert!(md.contains(r"  - \[click\](http://evil.example/)"), "{md}");
    assert!(
        md.contains(r#"- `runlore/exec.json` is malformed: invalid type: string "&lt;img src=w onerror=alert(7)&gt;""#),
        "{md}"
    );
}
