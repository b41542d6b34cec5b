//! Parse + evaluate cost of typical expressions, with and without the parse cache.
//!
//! `cargo bench -p ddb-engine --bench expressions`. Prints nanoseconds per operation (median of
//! several rounds); numbers are for comparing builds on one machine, not absolute claims.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Instant;

use ddb_engine::expr::{ExpressionInput, parse};
use ddb_engine::{AttributeValue, Item};

const ROUNDS: usize = 7;
const ITERS: usize = 20_000;

fn median_ns(mut f: impl FnMut(usize)) -> f64 {
    let mut samples: Vec<f64> = (0..ROUNDS)
        .map(|r| {
            let start = Instant::now();
            for i in 0..ITERS {
                f(r * ITERS + i);
            }
            start.elapsed().as_nanos() as f64 / ITERS as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[ROUNDS / 2]
}

fn main() {
    let values: BTreeMap<String, AttributeValue> = [
        (":min".to_string(), AttributeValue::N("10".parse().unwrap())),
        (":pre".to_string(), AttributeValue::S("ab".into())),
        (":one".to_string(), AttributeValue::N("1".parse().unwrap())),
    ]
    .into();
    let names: BTreeMap<String, String> = [("#s".to_string(), "status".to_string())].into();
    let condition =
        "attribute_exists(id) AND (score >= :min OR begins_with(#s, :pre)) AND size(tags) > :one";
    let update = "SET hits = if_not_exists(hits, :min) + :one, #s = :pre REMOVE stale";
    let item: Item = [
        ("id".to_string(), AttributeValue::S("x".into())),
        (
            "score".to_string(),
            AttributeValue::N("12".parse().unwrap()),
        ),
        ("status".to_string(), AttributeValue::S("abc".into())),
        (
            "tags".to_string(),
            AttributeValue::Ss(vec!["a".into(), "b".into()]),
        ),
    ]
    .into();
    let input = |c: &'static str| ExpressionInput {
        condition: Some(c),
        update: Some(update),
        names: Some(&names),
        values: Some(&values),
        ..Default::default()
    };

    let warm = median_ns(|_| {
        black_box(parse(&input(condition), &["id"]).unwrap());
    });
    // Distinct texts defeat the cache: every iteration lexes and parses.
    let texts: Vec<&'static str> = (0..ROUNDS * ITERS)
        .map(|i| {
            &*Box::leak(
                format!(
                    "{condition} AND id <> :pre AND score <> :min{}",
                    " ".repeat(i % 64)
                )
                .into_boxed_str(),
            )
        })
        .collect();
    let cold = median_ns(|i| {
        black_box(parse(&input(texts[i % texts.len()]), &["id"]).unwrap());
    });
    let parsed = parse(&input(condition), &["id"]).unwrap();
    let cond = parsed.condition.unwrap();
    let upd = parsed.update.unwrap();
    let evaluate = median_ns(|_| {
        black_box(cond.evaluate(black_box(&item)).unwrap());
    });
    let apply = median_ns(|_| {
        let mut it = item.clone();
        upd.apply(&mut it).unwrap();
        black_box(it);
    });
    println!("expression benchmark (median ns/op over {ROUNDS} rounds of {ITERS})");
    println!("  parse+validate, cache hit  : {warm:>8.0}");
    println!("  parse+validate, cache miss : {cold:>8.0}");
    println!("  evaluate condition         : {evaluate:>8.0}");
    println!("  apply update (incl. clone) : {apply:>8.0}");
}
