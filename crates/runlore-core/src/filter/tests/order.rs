//! Order keys: `field [ASC|DESC]`.

use super::*;
use crate::error::ErrorKind;

#[test]
fn order_keys() {
    let key = |field, descending| OrderKey { field, descending };
    let cases = [
        ("metrics.loss", key(Field::Metric("loss".into()), false)),
        (
            "metrics.`val loss` DESC",
            key(Field::Metric("val loss".into()), true),
        ),
        (
            "attributes.start_time DESC",
            key(Field::Attribute(Attribute::StartTime), true),
        ),
        (
            "start_time",
            key(Field::Attribute(Attribute::StartTime), false),
        ),
        ("params.lr asc", key(Field::Param("lr".into()), false)),
        (
            "  tags.mlflow.runName   desc ",
            key(Field::Tag("mlflow.runName".into()), true),
        ),
        (
            "params.\"my key\" Desc",
            key(Field::Param("my key".into()), true),
        ),
        (
            "`metrics`.`acc` desc",
            key(Field::Metric("acc".into()), true),
        ),
        ("`tags`.team", key(Field::Tag("team".into()), false)),
        (
            "`attributes`.artifact_uri",
            key(Field::Attribute(Attribute::ArtifactUri), false),
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(parse_order_key(text).unwrap(), expected, "{text}");
    }
    let keys = parse_order_by(&["metrics.acc DESC", "start_time", "params.seed ASC"]).unwrap();
    assert_eq!(
        keys,
        vec![
            key(Field::Metric("acc".into()), true),
            key(Field::Attribute(Attribute::StartTime), false),
            key(Field::Param("seed".into()), false),
        ]
    );
    let owned: Vec<String> = vec!["run_name".into()];
    assert_eq!(parse_order_by(&owned).unwrap().len(), 1);
    assert!(parse_order_by::<&str>(&[]).unwrap().is_empty());
}

#[test]
fn order_key_errors() {
    let err = |text: &str| match parse_order_key(text) {
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::InvalidArgument);
            e.message().to_owned()
        }
        Ok(key) => panic!("{text:?} parsed as {key:?}"),
    };
    assert_eq!(
        err("metrics.loss DESCX"),
        "invalid order_by key 'metrics.loss DESCX' at character 14: expected ASC, DESC or the end of the order_by key but found 'DESCX'"
    );
    assert!(err("metrics.loss DESC extra").contains("at character 19: expected the end"));
    assert!(
        err("metrics.loss, start_time")
            .contains("at character 13: one order_by key holds one field")
    );
    assert!(err("").contains("empty order_by key"));
    assert!(err("   ").contains("empty order_by key"));
    assert!(err("DESC").contains("at character 1: expected a field"));
    assert!(err("colour").contains("unknown field 'colour'"));
    assert!(err("metrics.`loss DESC").contains("unterminated key"));
    let many = parse_order_by(&["metrics.a", "nope DESC"]).unwrap_err();
    assert!(
        many.message()
            .contains("order_by key 'nope DESC' at character 1"),
        "{}",
        many.message()
    );
}
