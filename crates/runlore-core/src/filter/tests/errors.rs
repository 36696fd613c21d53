//! Refusals: each names the problem and the 1-based character where it is.

use super::*;
use crate::error::ErrorKind;

fn err(text: &str) -> String {
    match parse_filter(text) {
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{text:?}");
            e.message().to_owned()
        }
        Ok(parsed) => panic!("{text:?} parsed as {parsed:?}"),
    }
}

/// Asserts the error of `text` is at character `at` and mentions `needle`.
#[track_caller]
fn err_at(text: &str, at: usize, needle: &str) {
    let message = err(text);
    let prefix = format!("invalid filter at character {at}: ");
    assert!(message.starts_with(&prefix), "{text:?}: {message}");
    assert!(message.contains(needle), "{text:?}: {message}");
}

#[test]
fn the_message_from_the_brief() {
    assert_eq!(
        err("metrics.acc > AND params.lr = '1'"),
        "invalid filter at character 15: expected a value after '>' but found 'AND'"
    );
}

#[test]
fn missing_and_misplaced_tokens() {
    err_at("metrics.acc >", 14, "but found the end of the filter");
    err_at("metrics.acc", 12, "expected an operator");
    err_at(
        "metrics.acc 0.5",
        13,
        "after metrics.acc but found the number 0.5",
    );
    err_at(
        "metrics.a > 1 metrics.b > 2",
        15,
        "expected AND, OR or the end",
    );
    err_at("metrics.a > 1 AND", 18, "expected a field");
    err_at("AND metrics.a > 1", 1, "expected a field");
    err_at("metrics.a > 1 OR OR metrics.b > 1", 18, "expected a field");
    err_at("(metrics.a > 1", 15, "to close the '(' at character 1");
    err_at("metrics.a > 1)", 14, "unmatched ')'");
    err_at("()", 2, "expected a field");
    err_at("'x' = params.p", 1, "expected a field");
    err_at("metrics.a ! 1", 11, "unexpected character '!'");
    err_at(
        "metrics.a > 1 && metrics.b > 1",
        15,
        "unexpected character '&'",
    );
    err_at("params.p NOT LIKE 'x'", 14, "expected IN after NOT");
    err_at("NOT metrics.a > 1", 1, "expected a field");
    err_at("params.p IS 'x'", 13, "NULL or NOT NULL after IS");
    err_at("params.p IS NOT 'x'", 17, "NULL after IS NOT");
    err_at("params.p = NULL", 12, "IS NULL");
    err_at("params.p = x", 12, "quote strings: 'x'");
}

#[test]
fn numbers_must_be_finite_and_well_formed() {
    err_at("metrics.x > nan", 13, "'nan' is not a number");
    err_at("metrics.x > NaN", 13, "not a number");
    err_at("metrics.x > inf", 13, "not a number");
    err_at("metrics.x > 1e999", 13, "out of range");
    err_at("metrics.x > 1.2.3", 13, "malformed number '1.2.3'");
    err_at("metrics.x > 12abc", 13, "malformed number");
    err_at("metrics.x > - 1", 13, "unexpected character '-'");
}

#[test]
fn unterminated_quotes_point_at_the_opening_quote() {
    err_at("params.p = 'abc", 12, "unterminated string");
    err_at("params.p = 'it''s", 12, "unterminated string");
    err_at(r"params.p = 'abc\'", 12, "unterminated string");
    err_at("params.p = \"abc", 12, "unterminated string");
    err_at("tags.`team.name = 'x'", 6, "unterminated key");
    err_at("tags.t = 'é' AND tags.u = 'ü", 27, "unterminated string");
}

#[test]
fn fields() {
    err_at("foo.bar = 1", 1, "unknown field prefix 'foo'");
    err_at("inputs.x = 'a'", 1, "unknown field prefix 'inputs'");
    err_at("datasets.x = 'a'", 10, "unknown dataset field 'x'");
    err_at("bogus = 1", 1, "unknown field 'bogus'");
    err_at("metrics = 1", 1, "metrics.<key>");
    err_at("attributes.color = 'red'", 12, "unknown attribute 'color'");
    err_at(
        "attributes.color = 'red'",
        12,
        "run_id, run_name, status, start_time",
    );
    err_at("metrics. = 1", 9, "expected a key after 'metrics.'");
    err_at("metrics. `a` = 1", 9, "expected a key after 'metrics.'");
    err_at("metrics.`` = 1", 9, "empty key");
    err_at("params.'lr' = 'x'", 8, "expected a key");
    err_at("`bogus`.x = 'y'", 1, "unknown field prefix 'bogus'");
    err_at("`metrics` = 1", 1, "expected a field");
    err_at("`metrics`. = 1", 11, "expected a key after 'metrics.'");
}

#[test]
fn lists() {
    err_at("params.p IN ()", 14, "empty");
    err_at("params.p IN ('a',)", 18, "expected a value after ','");
    err_at("params.p IN ('a' 'b')", 18, "expected ',' or ')'");
    err_at("params.p IN ('a'", 17, "expected ',' or ')'");
    err_at("metrics.m IN (1, 'a')", 18, "a string in a list of numbers");
    err_at("params.p IN ('a', 1)", 19, "a number in a list of strings");
    err_at("params.p IN 'a'", 13, "parenthesised list");
    err_at("params.p = ('a', 'b')", 12, "needs IN or NOT IN");
}

#[test]
fn type_mismatches() {
    err_at("metrics.acc = 'x'", 15, "metrics are numbers");
    err_at("metrics.acc LIKE '1%'", 13, "LIKE matches strings");
    err_at("metrics.acc ilike '1%'", 13, "ILIKE matches strings");
    err_at("metrics.acc IN ('0.5')", 17, "metrics are numbers");
    assert_eq!(
        err("params.lr = 0.01"),
        "invalid filter at character 13: params are compared as strings: write params.lr = '0.01'"
    );
    err_at("params.lr > 1e-3", 13, "write params.lr > '1e-3'");
    err_at("params.p IN (1, 2)", 14, "write params.p IN ('1', '2')");
    err_at("tags.t = 1", 10, "tags are compared as strings");
    err_at("run_name = 3", 12, "run_name is compared as a string");
    err_at("experiment_id = 3", 17, "write experiment_id = '3'");
    err_at("start_time > '2024-01-01'", 14, "start_time is a number");
    err_at("attributes.end_time LIKE '1%'", 21, "LIKE matches strings");
    err_at("status = 'DONE'", 10, "unknown run status 'DONE'");
    err_at(
        "status IN ('RUNNING', 'done')",
        23,
        "unknown run status 'done'",
    );
    err_at("status = 1", 10, "status is compared as a string");
    err_at("status > 'A'", 8, "run statuses have no order");
    err_at("params.p = `x`", 12, "backticks quote keys");
}

#[test]
fn limits() {
    let deep = format!(
        "{}metrics.a > 0{}",
        "(".repeat(100_000),
        ")".repeat(100_000)
    );
    let message = match parse_filter(&deep) {
        Err(e) => e.message().to_owned(),
        Ok(_) => panic!("too deep"),
    };
    assert!(message.contains("too long"), "{message}");
    let deep = format!(
        "{}metrics.a > 0{}",
        "(".repeat(MAX_DEPTH + 1),
        ")".repeat(MAX_DEPTH + 1)
    );
    err_at(&deep, MAX_DEPTH + 1, "nested more than 64 levels");
    let deep = "(".repeat(5_000);
    err_at(&deep, MAX_DEPTH + 1, "nested more than 64 levels");
    let long = format!("tags.t = '{}'", "x".repeat(MAX_FILTER_CHARS));
    assert_eq!(
        err(&long),
        format!(
            "filter is too long: {} characters, at most {MAX_FILTER_CHARS}",
            MAX_FILTER_CHARS + 11
        )
    );
}
