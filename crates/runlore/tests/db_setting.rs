//! The `db` setting (`--db`, `RUNLORE_DB`, `db` in runlore.toml): where the
//! metadata database lives, chosen in one place for the CLI and the server.

#![allow(clippy::unwrap_used)] // test helpers panic on failure by design

#[allow(dead_code)] // each test binary uses part of the shared helpers
mod support;

use serde_json::Value;
use support::runlore;

fn config_json(cmd: &mut assert_cmd::Command) -> Value {
    let out = cmd.args(["config", "show", "--json"]).assert().success();
    serde_json::from_slice(&out.get_output().stdout).unwrap()
}

#[test]
fn a_sqlite_path_puts_the_database_there_and_not_in_the_data_dir() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("elsewhere").join("lab.db");
    let db_url = format!("sqlite:{}", db.display());
    runlore(tmp.path())
        .args([
            "--data-dir",
            "data",
            "--db",
            &db_url,
            "project",
            "create",
            "vision",
        ])
        .assert()
        .success();
    assert!(db.is_file(), "the database was not created at {db_url}");
    assert!(!tmp.path().join("data").join("runlore.db").exists());

    // The same database through the environment sees the project.
    let out = runlore(tmp.path())
        .env("RUNLORE_DB", &db_url)
        .args(["--json", "project", "list"])
        .assert()
        .success();
    let list: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"vision"), "{names:?}");
}

#[test]
fn a_relative_sqlite_path_in_runlore_toml_is_relative_to_that_file() {
    let tmp = tempfile::tempdir().unwrap();
    let lab = tmp.path().join("lab");
    std::fs::create_dir(&lab).unwrap();
    std::fs::write(
        lab.join("runlore.toml"),
        "db = \"sqlite:meta/runlore.db\"\n",
    )
    .unwrap();
    let c = config_json(
        runlore(tmp.path())
            .arg("--config")
            .arg(lab.join("runlore.toml")),
    );
    assert_eq!(
        c["db"]["value"],
        format!("sqlite:{}", lab.join("meta/runlore.db").display())
    );
    assert_eq!(c["db"]["source"]["kind"], "file");
}

#[test]
fn precedence_is_file_then_env_then_flag_and_passwords_never_show() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("runlore.toml"),
        "db = \"postgres://lab:filesecret@db.internal:5432/runlore\"\n",
    )
    .unwrap();
    let c = config_json(&mut runlore(tmp.path()));
    assert_eq!(
        c["db"]["value"],
        "postgres://lab:***@db.internal:5432/runlore"
    );

    let c = config_json(runlore(tmp.path()).env(
        "RUNLORE_DB",
        "postgresql://u:envsecret@h2/db?sslmode=disable",
    ));
    assert_eq!(c["db"]["value"], "postgresql://u:***@h2/db?sslmode=disable");
    assert_eq!(c["db"]["source"]["name"], "RUNLORE_DB");

    let out = runlore(tmp.path())
        .env("RUNLORE_DB", "postgresql://u:envsecret@h2/db")
        .args(["--db", "sqlite:", "config", "show"])
        .assert()
        .success();
    let table = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(table.contains("sqlite: ("), "{table}");
    assert!(!table.contains("secret"), "{table}");
}

#[test]
fn a_bad_db_url_is_one_clear_line_without_its_password() {
    let tmp = tempfile::tempdir().unwrap();
    for (how, value) in [("flag", "mysql://root:hunter2@h/db"), ("env", "runlore.db")] {
        let mut cmd = runlore(tmp.path());
        match how {
            "flag" => cmd.args(["--db", value]),
            _ => cmd.env("RUNLORE_DB", value),
        };
        let out = cmd.args(["project", "list"]).assert().code(2);
        let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
        assert!(stderr.contains("invalid db URL"), "{stderr}");
        assert!(
            stderr.contains("postgres://"),
            "names the accepted forms: {stderr}"
        );
        assert!(!stderr.contains("hunter2"), "{stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    }
    assert!(!tmp.path().join("runlore-data").exists());
}
