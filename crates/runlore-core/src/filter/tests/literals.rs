//! Numbers and quoted strings.

use super::*;

#[test]
fn numbers() {
    for (text, v) in [
        ("0", 0.0),
        ("42", 42.0),
        ("-1", -1.0),
        ("0.5", 0.5),
        (".5", 0.5),
        ("-.5", -0.5),
        ("5.", 5.0),
        ("1e3", 1000.0),
        ("2.5E+2", 250.0),
        ("-1.5e-3", -0.0015),
        ("0.0000001", 1e-7),
    ] {
        assert_eq!(
            parse(&format!("metrics.x >= {text}")),
            metric("x", CompareOp::Ge, v),
            "{text}"
        );
    }
    assert_eq!(
        parse("metrics.x>-1"),
        metric("x", CompareOp::Gt, -1.0),
        "a minus after an operator starts a number"
    );
}

#[test]
fn strings_and_escapes() {
    for (text, v) in [
        ("'plain'", "plain"),
        ("''", ""),
        ("'it''s'", "it's"),
        (r"'it\'s'", "it's"),
        (r"'back\\slash'", r"back\slash"),
        (r"'C:\path\to'", r"C:\path\to"),
        ("\"double\"", "double"),
        ("\"say \"\"hi\"\"\"", "say \"hi\""),
        (r#""say \"hi\"""#, "say \"hi\""),
        ("\"it's\"", "it's"),
        ("'a \"b\" c'", "a \"b\" c"),
        ("'ünïcödé ✓'", "ünïcödé ✓"),
        ("'AND OR ( )'", "AND OR ( )"),
    ] {
        assert_eq!(
            parse(&format!("tags.t = {text}")),
            cmp(
                Field::Tag("t".into()),
                CompareOp::Eq,
                Operand::String(v.into())
            ),
            "{text}"
        );
    }
}
