//! `cargo xtask test`: everything the project tests, in the order that fails
//! fastest. Each suite installs what it needs, so a fresh clone on a machine
//! with only Rust, Python and Node passes.

use anyhow::Result;

use crate::postgres::Postgres;
use crate::process::{self, cargo};
use crate::python;
use crate::s3::S3Server;

pub fn run(lint: bool) -> Result<()> {
    if lint {
        process::run(cargo().args(["fmt", "--all", "--check"]))?;
        process::run(cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]))?;
    }
    // Unit tests, the store conformance suite on SQLite, PostgreSQL and
    // HttpStore, server tests on port 0 and CLI tests against the built
    // binary; the blob store's suite also on a real S3-compatible server.
    // PostgreSQL's tests use one throwaway cluster, each in its own database.
    let s3 = S3Server::start()?;
    let postgres = Postgres::start()?;
    let mut tests = cargo();
    tests.args(["test", "--workspace"]);
    s3.configure(&mut tests);
    postgres.configure(&mut tests);
    process::run(&mut tests)?;
    // The server's tests again with its metadata on PostgreSQL (a database
    // per test server; the blobs stay local or on the S3 server).
    let mut on_postgres = cargo();
    on_postgres.args(["test", "-p", "runlore-server"]);
    s3.configure(&mut on_postgres);
    postgres.configure(&mut on_postgres);
    on_postgres.env("RUNLORE_SERVER_TESTS_DB", "postgres");
    eprintln!("xtask> the server's tests on PostgreSQL");
    process::run(&mut on_postgres)?;
    drop(s3);
    // The real `mlflow` client (pinned in tests/mlflow/requirements.txt,
    // installed into .venv) against the built binary, on SQLite and then on
    // PostgreSQL.
    python::mlflow_suite(None)?;
    python::mlflow_suite(Some(&postgres))?;
    // The Python SDK (sdk/python) against the built binary: crash, offline
    // and sync tests included; on both backends too.
    python::sdk_suite(None)?;
    python::sdk_suite(Some(&postgres))?;
    drop(postgres);
    // The served OpenAPI document against the built binary: the real
    // schemathesis, fixed seed and budget; a 5xx, an undocumented status or
    // content type, or a body off its schema fails the run.
    crate::openapi_test::check()?;
    // The web UI: vitest, the production build, then the end-to-end suite
    // in headless Chromium against the built binary.
    crate::ui_test::test()?;
    eprintln!("xtask> all tests passed");
    Ok(())
}
