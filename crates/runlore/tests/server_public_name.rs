//! `runlore server --public-name` / `RUNLORE_PUBLIC_NAME`: the named host is
//! answered, other `Host` headers are refused, and a malformed name stops
//! the server before it listens.
#![allow(clippy::unwrap_used)]

#[allow(dead_code)]
mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

use support::{BIN, RUNLORE_VARS, runlore};

/// The status line of a GET /health sent with `host`.
fn status_with_host(addr: &str, host: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    write!(
        stream,
        "GET /api/v1/projects HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer.lines().next().unwrap_or("").to_owned()
}

#[test]
fn a_public_name_is_answered_and_other_hosts_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(BIN);
    for var in RUNLORE_VARS {
        cmd.env_remove(var);
    }
    let mut child = cmd
        .current_dir(tmp.path())
        .env("RUNLORE_PUBLIC_NAME", "tracker.example, lab.example:8443")
        .args(["server", "--port", "0", "--data-dir", "d"])
        .args(["--public-name", "runlore.example"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .strip_prefix("Runlore listening on http://")
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .to_owned();
    let port = addr.rsplit(':').next().unwrap();
    // The flag replaces the environment's names (flags win).
    let answered = status_with_host(&addr, &format!("runlore.example:{port}"));
    let env_name = status_with_host(&addr, "tracker.example");
    let rebound = status_with_host(&addr, &format!("attacker.example:{port}"));
    let local = status_with_host(&addr, &format!("localhost:{port}"));
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(answered.contains(" 200 "), "{answered}");
    assert!(env_name.contains(" 403 "), "{env_name}");
    assert!(rebound.contains(" 403 "), "{rebound}");
    assert!(local.contains(" 200 "), "{local}");
}

#[test]
fn a_malformed_public_name_stops_the_server_before_it_listens() {
    let tmp = tempfile::tempdir().unwrap();
    let out = runlore(tmp.path())
        .args(["server", "--port", "0", "--data-dir", "d"])
        .args(["--public-name", "https://runlore.example/"])
        .assert()
        .code(2);
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(stderr.contains("invalid public name"), "{stderr}");
}
