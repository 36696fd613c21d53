use runlore_core::filter::{
    Attribute, CompareOp, Comparison, Expr, Field, Literal, Operand, OrderKey, parse_filter,
    parse_order_key,
};

use super::*;

fn cmp(field: Field, op: CompareOp, value: Operand) -> Expr {
    Expr::Compare(Comparison { field, op, value })
}

#[test]
fn renders_every_operator_and_operand() {
    let e = Expr::And(
        Box::new(cmp(
            Field::Metric("train loss".into()),
            CompareOp::Le,
            Operand::Number(-0.5),
        )),
        Box::new(Expr::Or(
            Box::new(cmp(
                Field::Tag("team.name".into()),
                CompareOp::ILike,
                Operand::String("it's%".into()),
            )),
            Box::new(cmp(
                Field::Attribute(Attribute::Status),
                CompareOp::NotIn,
                Operand::List(vec![
                    Literal::String("FAILED".into()),
                    Literal::String("KILLED".into()),
                ]),
            )),
        )),
    );
    assert_eq!(
        render_filter(&e),
        "metrics.`train loss` <= -0.5 AND (tags.`team.name` ILIKE 'it''s%' OR attributes.status NOT IN ('FAILED', 'KILLED'))"
    );
    let null = cmp(
        Field::Param("lr".into()),
        CompareOp::IsNotNull,
        Operand::None,
    );
    assert_eq!(render_filter(&null), "params.`lr` IS NOT NULL");
}

#[test]
fn renders_order_keys() {
    let key = OrderKey {
        field: Field::Metric("val/acc".into()),
        descending: true,
    };
    assert_eq!(render_order_key(&key), "metrics.`val/acc` DESC");
    let key = OrderKey {
        field: Field::Attribute(Attribute::StartTime),
        descending: false,
    };
    assert_eq!(render_order_key(&key), "attributes.start_time ASC");
}

/// parse(render(parse(x))) == parse(x) over the grammar's corners.
#[test]
fn filters_round_trip_through_the_parser() {
    let cases = [
        "metrics.acc > 0.5",
        "metrics.`val/acc` >= 1e-7 and params.lr = '0.01'",
        "params.lr = \"0.01\" OR tags.`mlflow.runName` LIKE 'it''s%'",
        "metrics.acc > 0.5 AND (params.lr = '0.01' OR tags.`team.name` LIKE 'vision%')",
        "(metrics.a < 1 OR metrics.b < 2) AND (metrics.c < 3 OR metrics.d < 4)",
        "metrics.a < 1 AND metrics.b < 2 AND metrics.c < 3",
        "metrics.a < 1 OR metrics.b < 2 OR metrics.c < 3 AND metrics.d = -1",
        "status = 'FINISHED' and run_name ILIKE '%base%'",
        "attributes.run_id IN ('0123456789abcdef0123456789abcdef', 'ffffffffffffffffffffffffffffffff')",
        "attributes.start_time >= 1700000000000 AND attributes.end_time < 1800000000000",
        "tags.note = 'a \"quoted\" word, a back\\slash and ünïcödé'",
        "params.`my key` IS NULL AND tags.x IS NOT NULL",
        "metrics.`loss` != 0.1234567890123",
        "metrics.tiny > 1e-300 AND metrics.huge < -1.5e300 AND metrics.z = 0",
        "tags.path = 'C:\\temp\\x' OR tags.q = 'it\\'s' OR tags.e = ''",
        "metrics.a < 1 AND (metrics.b < 2 AND metrics.c < 3)",
        "(metrics.a < 1 AND metrics.b < 2) AND metrics.c < 3 AND metrics.d < 4 AND metrics.e < 5",
        "metrics.a < 1 OR (metrics.b < 2 OR (metrics.c < 3 OR metrics.d < 4)) AND metrics.e IN (1, 2.5)",
        "attributes.created > 0 and user = 'ana' and experiment_id = '3'",
    ];
    for text in cases {
        let parsed = match parse_filter(text) {
            Ok(Some(e)) => e,
            other => panic!("{text:?} did not parse: {other:?}"),
        };
        let rendered = render_filter(&parsed);
        let reparsed = parse_filter(&rendered)
            .unwrap_or_else(|e| panic!("rendered {rendered:?} (from {text:?}) did not parse: {e}"));
        assert_eq!(reparsed, Some(parsed), "{text:?} rendered as {rendered:?}");
    }
}

#[test]
fn order_keys_round_trip_through_the_parser() {
    for text in [
        "metrics.loss",
        "metrics.`val/acc` DESC",
        "params.lr asc",
        "tags.`mlflow.runName` DESC",
        "start_time DESC",
        "attributes.run_name",
    ] {
        let parsed = parse_order_key(text).unwrap();
        let rendered = render_order_key(&parsed);
        assert_eq!(
            parse_order_key(&rendered).unwrap(),
            parsed,
            "{text:?} → {rendered:?}"
        );
    }
}

fn leaf(i: usize) -> Expr {
    cmp(
        Field::Metric(format!("m{i}")),
        CompareOp::Gt,
        Operand::Number(i as f64),
    )
}

/// A hand-built left-deep chain deeper than the parser's parenthesis limit
/// is written flat: same meaning, and the server accepts it.
#[test]
fn deep_hand_built_chains_stay_parseable() {
    let mut e = leaf(0);
    for i in 1..200 {
        e = Expr::And(Box::new(e), Box::new(leaf(i)));
    }
    let text = render_filter(&e);
    assert!(!text.contains('('), "{text}");
    assert!(parse_filter(&text).unwrap().is_some());

    let small = Expr::Or(
        Box::new(Expr::Or(Box::new(leaf(1)), Box::new(leaf(2)))),
        Box::new(Expr::Or(Box::new(leaf(3)), Box::new(leaf(4)))),
    );
    assert_eq!(
        render_filter(&small),
        "metrics.`m1` > 1 OR metrics.`m2` > 2 OR metrics.`m3` > 3 OR metrics.`m4` > 4"
    );
    assert_eq!(parse_filter(&render_filter(&small)).unwrap(), Some(small));
}

#[test]
fn strings_and_keys_are_escaped() {
    let e = cmp(
        Field::Tag("odd`key".into()),
        CompareOp::Eq,
        Operand::String("a'b\\c".into()),
    );
    assert_eq!(render_filter(&e), "tags.`odd``key` = 'a''b\\\\c'");
    assert_eq!(parse_filter(&render_filter(&e)).unwrap(), Some(e));
}
