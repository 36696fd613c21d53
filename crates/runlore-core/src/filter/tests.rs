//! What the filter language accepts; refusals are in `tests/errors.rs`.

use super::*;

mod errors;
mod literals;
mod order;

fn parse(text: &str) -> Expr {
    match parse_filter(text) {
        Ok(Some(expr)) => expr,
        Ok(None) => panic!("{text:?} parsed as empty"),
        Err(e) => panic!("{text:.80?} did not parse: {e}"),
    }
}

fn cmp(field: Field, op: CompareOp, value: Operand) -> Expr {
    Expr::Compare(Comparison { field, op, value })
}

fn and(a: Expr, b: Expr) -> Expr {
    Expr::And(Box::new(a), Box::new(b))
}

fn or(a: Expr, b: Expr) -> Expr {
    Expr::Or(Box::new(a), Box::new(b))
}

fn metric(key: &str, op: CompareOp, v: f64) -> Expr {
    cmp(Field::Metric(key.into()), op, Operand::Number(v))
}

fn param(key: &str, op: CompareOp, v: &str) -> Expr {
    cmp(Field::Param(key.into()), op, Operand::String(v.into()))
}

fn strings(items: &[&str]) -> Operand {
    Operand::List(items.iter().map(|s| Literal::String((*s).into())).collect())
}

fn depth(e: &Expr) -> usize {
    match e {
        Expr::And(a, b) | Expr::Or(a, b) => 1 + depth(a).max(depth(b)),
        Expr::Compare(_) => 1,
    }
}

#[test]
fn empty_filters_are_none() {
    assert_eq!(parse_filter("").unwrap(), None);
    assert_eq!(parse_filter(" \t\n ").unwrap(), None);
}

#[test]
fn the_issue_example() {
    let e = parse(
        "metrics.acc > 0.5 AND params.lr = '0.01' AND tags.`team.name` LIKE 'vision%' \
         AND attributes.status IN ('FINISHED','FAILED')",
    );
    let expected = and(
        and(
            metric("acc", CompareOp::Gt, 0.5),
            param("lr", CompareOp::Eq, "0.01"),
        ),
        and(
            cmp(
                Field::Tag("team.name".into()),
                CompareOp::Like,
                Operand::String("vision%".into()),
            ),
            cmp(
                Field::Attribute(Attribute::Status),
                CompareOp::In,
                strings(&["FINISHED", "FAILED"]),
            ),
        ),
    );
    assert_eq!(e, expected);
}

#[test]
fn and_binds_tighter_than_or() {
    let a = || metric("a", CompareOp::Lt, 1.0);
    let b = || metric("b", CompareOp::Lt, 2.0);
    let c = || metric("c", CompareOp::Lt, 3.0);
    assert_eq!(
        parse("metrics.a < 1 OR metrics.b < 2 AND metrics.c < 3"),
        or(a(), and(b(), c()))
    );
    assert_eq!(
        parse("metrics.a < 1 and metrics.b < 2 or metrics.c < 3"),
        or(and(a(), b()), c())
    );
    assert_eq!(
        parse("metrics.a < 1 AND (metrics.b < 2 OR metrics.c < 3)"),
        and(a(), or(b(), c()))
    );
    assert_eq!(
        parse("((metrics.a < 1))"),
        a(),
        "redundant parentheses vanish"
    );
    assert_eq!(
        parse("(metrics.a<1)AND(metrics.b<2)"),
        and(a(), b()),
        "no spaces needed"
    );
}

#[test]
fn long_chains_become_balanced_trees() {
    let text = vec!["metrics.a>0"; 600].join(" AND ");
    let e = parse(&text);
    assert_eq!(depth(&e), 11, "600 terms need 10 levels of AND");
    let text = vec!["metrics.a>0"; 600].join(" or ");
    assert_eq!(depth(&parse(&text)), 11);
}

#[test]
fn every_operator() {
    let cases = [
        ("=", CompareOp::Eq),
        ("==", CompareOp::Eq),
        ("!=", CompareOp::Ne),
        ("<>", CompareOp::Ne),
        ("<", CompareOp::Lt),
        ("<=", CompareOp::Le),
        (">", CompareOp::Gt),
        (">=", CompareOp::Ge),
        ("LIKE", CompareOp::Like),
        ("like", CompareOp::Like),
        ("ILIKE", CompareOp::ILike),
        ("iLike", CompareOp::ILike),
    ];
    for (text, op) in cases {
        assert_eq!(
            parse(&format!("params.p {text} 'x'")),
            param("p", op, "x"),
            "{text}"
        );
    }
    let list = strings(&["a", "b"]);
    let p = || Field::Param("p".into());
    assert_eq!(
        parse("params.p IN ('a', 'b')"),
        cmp(p(), CompareOp::In, list.clone())
    );
    assert_eq!(
        parse("params.p not  in('a','b')"),
        cmp(p(), CompareOp::NotIn, list)
    );
    assert_eq!(
        parse("params.p IS NULL"),
        cmp(p(), CompareOp::IsNull, Operand::None)
    );
    assert_eq!(
        parse("params.p is not null"),
        cmp(p(), CompareOp::IsNotNull, Operand::None)
    );
    assert_eq!(
        parse("metrics.m NOT IN (1, 2.5)"),
        cmp(
            Field::Metric("m".into()),
            CompareOp::NotIn,
            Operand::List(vec![Literal::Number(1.0), Literal::Number(2.5)])
        )
    );
    assert_eq!(
        parse("metrics.m IS NOT NULL"),
        cmp(
            Field::Metric("m".into()),
            CompareOp::IsNotNull,
            Operand::None
        )
    );
    assert_eq!(
        parse("tags.t < 'b'"),
        cmp(
            Field::Tag("t".into()),
            CompareOp::Lt,
            Operand::String("b".into())
        ),
        "strings may be ordered"
    );
}

#[test]
fn keys_plain_and_quoted() {
    let f = |text: &str| match parse(&format!("{text} IS NULL")) {
        Expr::Compare(c) => c.field,
        other => panic!("{other:?}"),
    };
    assert_eq!(f("metrics.loss.recon"), Field::Metric("loss.recon".into()));
    assert_eq!(
        f("params.optimizer/lr"),
        Field::Param("optimizer/lr".into())
    );
    assert_eq!(f("params.a-b:c_d"), Field::Param("a-b:c_d".into()));
    assert_eq!(
        f("tags.mlflow.runName"),
        Field::Tag("mlflow.runName".into())
    );
    assert_eq!(f("tags.`team.name`"), Field::Tag("team.name".into()));
    assert_eq!(f("metrics.`val loss`"), Field::Metric("val loss".into()));
    assert_eq!(f("params.\"my key\""), Field::Param("my key".into()));
    assert_eq!(f("params.`a``b`"), Field::Param("a`b".into()));
    assert_eq!(f("metrics.1st"), Field::Metric("1st".into()));
    assert_eq!(
        f("tags.and"),
        Field::Tag("and".into()),
        "keywords are keys after a prefix"
    );
    assert_eq!(f("metric.m"), Field::Metric("m".into()));
    assert_eq!(f("param.p"), Field::Param("p".into()));
    assert_eq!(f("tag.t"), Field::Tag("t".into()));
    assert_eq!(
        f("METRICS.Acc"),
        Field::Metric("Acc".into()),
        "keys keep their case"
    );
    for prefix in ["attributes", "attribute", "attr", "run", "Attributes"] {
        assert_eq!(
            f(&format!("{prefix}.start_time")),
            Field::Attribute(Attribute::StartTime)
        );
    }
    assert_eq!(
        f("attributes.`run_name`"),
        Field::Attribute(Attribute::RunName)
    );
}

#[test]
fn bare_attributes_and_aliases() {
    let cases = [
        ("run_id", Attribute::RunId),
        ("run_uuid", Attribute::RunId),
        ("id", Attribute::RunId),
        ("run_name", Attribute::RunName),
        ("name", Attribute::RunName),
        ("status", Attribute::Status),
        ("start_time", Attribute::StartTime),
        ("end_time", Attribute::EndTime),
        ("created", Attribute::Created),
        ("created_at", Attribute::Created),
        ("experiment_id", Attribute::ExperimentId),
        ("user", Attribute::User),
        ("user_id", Attribute::User),
        ("Start_Time", Attribute::StartTime),
    ];
    for (name, attribute) in cases {
        let value = if attribute.is_numeric() {
            Operand::Number(1.0)
        } else if attribute == Attribute::Status {
            Operand::String("RUNNING".into())
        } else {
            Operand::String("x".into())
        };
        let literal = match &value {
            Operand::Number(_) => "1".to_owned(),
            Operand::String(s) => format!("'{s}'"),
            _ => unreachable!(),
        };
        assert_eq!(
            parse(&format!("{name} = {literal}")),
            cmp(Field::Attribute(attribute), CompareOp::Eq, value),
            "{name}"
        );
        assert_eq!(fields::attribute(attribute.name()), Some(attribute));
    }
}

#[test]
fn statuses_are_normalised() {
    let status = |op, value| cmp(Field::Attribute(Attribute::Status), op, value);
    assert_eq!(
        parse("status = 'finished'"),
        status(CompareOp::Eq, Operand::String("FINISHED".into()))
    );
    assert_eq!(
        parse("attributes.status != \"Scheduled\""),
        status(CompareOp::Ne, Operand::String("PLANNED".into()))
    );
    assert_eq!(
        parse("status NOT IN ('killed', 'SCHEDULED')"),
        status(CompareOp::NotIn, strings(&["KILLED", "PLANNED"]))
    );
    assert_eq!(
        parse("status LIKE 'FIN%'"),
        status(CompareOp::Like, Operand::String("FIN%".into())),
        "patterns are left as written"
    );
    assert_eq!(
        parse("status IS NULL"),
        status(CompareOp::IsNull, Operand::None)
    );
}

#[test]
fn nesting_up_to_the_limit() {
    let text = format!(
        "{}metrics.a > 0{}",
        "(".repeat(MAX_DEPTH),
        ")".repeat(MAX_DEPTH)
    );
    assert_eq!(parse(&text), metric("a", CompareOp::Gt, 0.0));
    let text = "(metrics.a>0) AND ".repeat(500) + "metrics.b>0";
    assert!(parse_filter(&text).is_ok(), "siblings do not add depth");
}

#[test]
fn filters_up_to_the_length_limit() {
    let base = "metrics.a > 0";
    let text = format!("{base}{}", " ".repeat(MAX_FILTER_CHARS - base.len()));
    assert!(parse_filter(&text).is_ok());
    let text = format!("tags.t = '{}'", "é".repeat(MAX_FILTER_CHARS - 11));
    assert_eq!(text.chars().count(), MAX_FILTER_CHARS);
    assert!(
        parse_filter(&text).is_ok(),
        "the limit counts characters, not bytes"
    );
}

/// The shapes `runlore-client`'s renderer emits (backtick-quoted keys,
/// canonical attribute names, doubled quotes, `Display` numbers) must parse.
#[test]
fn canonical_renderings() {
    assert_eq!(
        parse(
            "metrics.`train loss` <= -0.5 AND (tags.`team.name` ILIKE 'it''s%' OR attributes.status NOT IN ('FAILED', 'KILLED'))"
        ),
        and(
            metric("train loss", CompareOp::Le, -0.5),
            or(
                cmp(
                    Field::Tag("team.name".into()),
                    CompareOp::ILike,
                    Operand::String("it's%".into())
                ),
                cmp(
                    Field::Attribute(Attribute::Status),
                    CompareOp::NotIn,
                    strings(&["FAILED", "KILLED"])
                ),
            ),
        )
    );
    assert_eq!(
        parse("metrics.`x` > 100000000000000000000000000000000000000000000000000"),
        metric("x", CompareOp::Gt, 1e50)
    );
    assert_eq!(
        parse("params.`lr` IS NOT NULL"),
        cmp(
            Field::Param("lr".into()),
            CompareOp::IsNotNull,
            Operand::None
        )
    );
}
