//! Property tests: no input makes `parse` panic, printed trees parse back to themselves,
//! and the evaluator keeps its algebraic laws.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;
use crate::value::Item;

/// The values a generated expression may use, named `:v0`, `:v1`, ….
fn pool() -> Vec<AttributeValue> {
    vec![
        AttributeValue::S("x".into()),
        AttributeValue::S("y".into()),
        AttributeValue::N("1".parse().expect("number")),
        AttributeValue::N("2".parse().expect("number")),
        AttributeValue::B(vec![1, 2]),
        AttributeValue::Bool(true),
        AttributeValue::Ss(vec!["x".into()]),
    ]
}

fn pool_map() -> BTreeMap<String, AttributeValue> {
    pool()
        .into_iter()
        .enumerate()
        .map(|(i, v)| (format!(":v{i}"), v))
        .collect()
}

fn paths() -> Vec<DocPath> {
    vec![
        DocPath::attr("a"),
        DocPath::attr("b"),
        DocPath(vec![PathElem::Attr("c".into()), PathElem::Attr("d".into())]),
        DocPath(vec![PathElem::Attr("e".into()), PathElem::Index(1)]),
    ]
}

fn path() -> impl Strategy<Value = DocPath> {
    prop::sample::select(paths())
}

fn value() -> impl Strategy<Value = AttributeValue> {
    prop::sample::select(pool())
}

fn comparator() -> impl Strategy<Value = Comparator> {
    prop::sample::select(vec![
        Comparator::Eq,
        Comparator::Ne,
        Comparator::Lt,
        Comparator::Le,
        Comparator::Gt,
        Comparator::Ge,
    ])
}

/// Conditions that pass AWS's static checks.
fn leaf() -> impl Strategy<Value = Condition> {
    let right = prop_oneof![
        value().prop_map(Operand::Value),
        path().prop_map(|p| Operand::Size(Box::new(Operand::Path(p)))),
    ];
    prop_oneof![
        (comparator(), path(), right)
            .prop_filter("ordering needs a scalar constant", |(c, _, r)| {
                matches!(c, Comparator::Eq | Comparator::Ne)
                    || !matches!(r, Operand::Value(v) if v.scalar_type().is_none())
            })
            .prop_map(|(c, p, r)| Condition::Compare(c, Operand::Path(p), r)),
        (
            path(),
            prop::sample::select(vec![(0usize, 1usize), (2, 3), (0, 0)])
        )
            .prop_map(|(p, (lo, hi))| {
                let v = pool();
                Condition::Between(
                    Operand::Path(p),
                    Operand::Value(v[lo].clone()),
                    Operand::Value(v[hi].clone()),
                )
            }),
        (path(), prop::collection::vec(value(), 1..4)).prop_map(|(p, vs)| Condition::In(
            Operand::Path(p),
            vs.into_iter().map(Operand::Value).collect()
        )),
        path().prop_map(Condition::AttributeExists),
        path().prop_map(Condition::AttributeNotExists),
        (path(), prop::sample::select(vec![0usize, 1])).prop_map(|(p, i)| Condition::BeginsWith(
            Operand::Path(p),
            Operand::Value(pool()[i].clone())
        )),
        (path(), value())
            .prop_map(|(p, v)| Condition::Contains(Operand::Path(p), Operand::Value(v))),
    ]
}

fn condition() -> impl Strategy<Value = Condition> {
    leaf().prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone())
                .prop_map(|(a, b)| Condition::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone())
                .prop_map(|(a, b)| Condition::Or(Box::new(a), Box::new(b))),
            inner.prop_map(|a| Condition::Not(Box::new(a))),
        ]
    })
}

fn print_operand(o: &Operand, out: &mut String) {
    match o {
        Operand::Path(p) => out.push_str(&p.to_string()),
        Operand::Value(v) => {
            let i = pool().iter().position(|p| p == v).unwrap_or(0);
            out.push_str(&format!(":v{i}"));
        }
        Operand::Size(inner) => {
            out.push_str("size(");
            print_operand(inner, out);
            out.push(')');
        }
    }
}

/// Prints a condition with every compound operand of AND/OR/NOT in parentheses.
fn print(c: &Condition, out: &mut String) {
    let sub = |c: &Condition, out: &mut String| {
        let compound = matches!(
            c,
            Condition::And(..) | Condition::Or(..) | Condition::Not(..)
        );
        if compound {
            out.push('(');
        }
        print(c, out);
        if compound {
            out.push(')');
        }
    };
    match c {
        Condition::And(a, b) | Condition::Or(a, b) => {
            sub(a, out);
            out.push_str(if matches!(c, Condition::And(..)) {
                " AND "
            } else {
                " or "
            });
            sub(b, out);
        }
        Condition::Not(a) => {
            out.push_str("NOT ");
            sub(a, out);
        }
        Condition::Compare(op, x, y) => {
            print_operand(x, out);
            out.push_str(&format!(" {} ", op.as_str()));
            print_operand(y, out);
        }
        Condition::Between(x, lo, hi) => {
            print_operand(x, out);
            out.push_str(" BETWEEN ");
            print_operand(lo, out);
            out.push_str(" and ");
            print_operand(hi, out);
        }
        Condition::In(x, list) => {
            print_operand(x, out);
            out.push_str(" IN (");
            for (i, o) in list.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                print_operand(o, out);
            }
            out.push(')');
        }
        Condition::AttributeExists(p) => out.push_str(&format!("attribute_exists({p})")),
        Condition::AttributeNotExists(p) => out.push_str(&format!("attribute_not_exists({p})")),
        Condition::AttributeType(x, y)
        | Condition::BeginsWith(x, y)
        | Condition::Contains(x, y) => {
            out.push_str(match c {
                Condition::AttributeType(..) => "attribute_type(",
                Condition::BeginsWith(..) => "begins_with(",
                _ => "contains(",
            });
            print_operand(x, out);
            out.push_str(", ");
            print_operand(y, out);
            out.push(')');
        }
    }
}

/// Items over the generated paths, with values from the pool or absent.
fn item() -> impl Strategy<Value = Item> {
    let v = || prop::option::of(value());
    (v(), v(), v(), v(), v()).prop_map(|(a, b, d, e0, e1)| {
        let mut it = Item::new();
        if let Some(a) = a {
            it.insert("a".into(), a);
        }
        if let Some(b) = b {
            it.insert("b".into(), b);
        }
        if let Some(d) = d {
            it.insert(
                "c".into(),
                AttributeValue::M([("d".to_string(), d)].into_iter().collect()),
            );
        }
        let list: Vec<AttributeValue> = [e0, e1].into_iter().flatten().collect();
        it.insert("e".into(), AttributeValue::L(list));
        it
    })
}

fn parse_condition_text(text: &str) -> Result<Condition, Error> {
    let all = pool_map();
    let values: BTreeMap<String, AttributeValue> = all
        .into_iter()
        .filter(|(k, _)| text.contains(k.as_str()))
        .collect();
    let values = (!values.is_empty()).then_some(values);
    let input = ExpressionInput {
        condition: Some(text),
        values: values.as_ref(),
        ..Default::default()
    };
    parse(&input, &[]).map(|e| e.condition.expect("condition"))
}

const TOKENS: &str = "([a-e#:()\\[\\]0-9.,=<>+ -]|AND |OR |NOT |BETWEEN |IN |SET |REMOVE |ADD |DELETE |size|contains|begins_with|attribute_exists|if_not_exists|list_append|:v0|#n| )*";

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn parse_never_panics_on_any_string(s in ".{0,80}") {
        let names: BTreeMap<String, String> = [("#n".to_string(), "n".to_string())].into_iter().collect();
        let values = pool_map();
        for kind in 0..5 {
            let mut input = ExpressionInput { names: Some(&names), values: Some(&values), ..Default::default() };
            match kind {
                0 => input.condition = Some(&s),
                1 => input.update = Some(&s),
                2 => input.projection = Some(&s),
                3 => input.filter = Some(&s),
                _ => input.key_condition = Some(&s),
            }
            let _ = parse(&input, &["a"]);
        }
    }

    #[test]
    fn parse_never_panics_on_token_soup(s in TOKENS) {
        let names: BTreeMap<String, String> = [("#n".to_string(), "n".to_string())].into_iter().collect();
        let values = pool_map();
        for kind in 0..5 {
            let mut input = ExpressionInput { names: Some(&names), values: Some(&values), ..Default::default() };
            match kind {
                0 => input.condition = Some(&s),
                1 => input.update = Some(&s),
                2 => input.projection = Some(&s),
                3 => input.filter = Some(&s),
                _ => input.key_condition = Some(&s),
            }
            if let Ok(e) = parse(&input, &["a"]) {
                // Whatever parses also evaluates and applies without panicking.
                let it: Item = [("n".to_string(), AttributeValue::L(vec![]))].into_iter().collect();
                if let Some(c) = e.condition.or(e.filter) {
                    let _ = c.evaluate(&it);
                }
                if let Some(u) = e.update {
                    let _ = u.apply(&mut it.clone());
                }
                if let Some(p) = e.projection {
                    let _ = p.apply(&it);
                }
            }
        }
    }

    #[test]
    fn printed_conditions_parse_back(c in condition()) {
        let mut text = String::new();
        print(&c, &mut text);
        let parsed = parse_condition_text(&text);
        prop_assert_eq!(parsed, Ok(c), "{}", text);
    }

    #[test]
    fn not_negates(c in condition(), it in item()) {
        let not = Condition::Not(Box::new(c.clone()));
        prop_assert_eq!(not.evaluate(&it), c.evaluate(&it).map(|b| !b));
    }

    #[test]
    fn comparisons_are_antisymmetric(x in value(), y in value(), it in item()) {
        use Comparator::*;
        let ev = |op, a: &AttributeValue, b: &AttributeValue| {
            Condition::Compare(op, Operand::Value(a.clone()), Operand::Value(b.clone())).evaluate(&it)
        };
        prop_assert_eq!(ev(Lt, &x, &y), ev(Gt, &y, &x));
        prop_assert_eq!(ev(Le, &x, &y), ev(Ge, &y, &x));
        prop_assert_eq!(ev(Eq, &x, &y), ev(Eq, &y, &x));
        prop_assert_eq!(ev(Ne, &x, &y).map(|b| !b), ev(Eq, &x, &y));
        // Ordered comparisons hold only between values of the same type.
        if x.type_name() != y.type_name() {
            prop_assert_eq!(ev(Lt, &x, &y), Ok(false));
            prop_assert_eq!(ev(Ge, &x, &y), Ok(false));
        }
    }

    #[test]
    fn between_is_two_comparisons(p in path(), lo in value(), hi in value(), it in item()) {
        let x = Operand::Path(p);
        let between = Condition::Between(x.clone(), Operand::Value(lo.clone()), Operand::Value(hi.clone()));
        let both = Condition::And(
            Box::new(Condition::Compare(Comparator::Ge, x.clone(), Operand::Value(lo))),
            Box::new(Condition::Compare(Comparator::Le, x, Operand::Value(hi))),
        );
        prop_assert_eq!(between.evaluate(&it), both.evaluate(&it));
    }
}
