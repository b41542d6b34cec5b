//! Replays dynalite's functionality tests that use expressions (item writes, conditions,
//! updates, reads, scans and queries on the suite's fixed tables) against the expression
//! module, tracking each test's items in a map.
//!
//! The fixture comes from `tests/data/extract_expr_scenarios.py`. The responses are
//! dynalite's, recorded while its whole suite passed; the suite's assertions were validated
//! against live DynamoDB. Checked: condition outcomes, `ReturnValues` attributes, runtime
//! update errors, items read back (with projections), and which of a test's items a
//! filtered Scan or Query returns.

use std::collections::{BTreeMap, HashMap};

use ddb_engine::expr::{ExpressionInput, Expressions, parse, project_paths};
use ddb_engine::{AttributeValue, Item};
use serde_json::Value;

/// What the replay knows about one item.
#[derive(Clone)]
enum State {
    Known(Option<Item>),
    /// Written by an operation this replay does not model (legacy parameters).
    Unknown,
}

struct Replay<'a> {
    keys: &'a BTreeMap<String, Vec<String>>,
    items: HashMap<(String, String), State>,
    checks: usize,
    failures: Vec<String>,
    test: String,
}

fn item_of(v: &Value) -> Option<Item> {
    serde_json::from_value(v.clone()).ok()
}

fn is_ccf(resp: &Value) -> bool {
    resp["__type"]
        .as_str()
        .is_some_and(|t| t.ends_with("ConditionalCheckFailedException"))
}

impl Replay<'_> {
    fn key_attrs(&self, table: &str) -> Vec<String> {
        self.keys.get(table).cloned().unwrap_or_default()
    }

    fn key(&self, table: &str, item: &Item) -> (String, String) {
        let key: BTreeMap<&String, &AttributeValue> = self
            .key_attrs(table)
            .iter()
            .filter_map(|k| item.get_key_value(k))
            .collect();
        (
            table.to_string(),
            serde_json::to_string(&key).unwrap_or_default(),
        )
    }

    fn state(&self, table: &str, key_item: &Item) -> State {
        self.items
            .get(&self.key(table, key_item))
            .cloned()
            // Items may come from the test's `before` hooks, which the capture does not hold.
            .unwrap_or(State::Unknown)
    }

    fn set(&mut self, table: &str, key_item: &Item, s: State) {
        let k = self.key(table, key_item);
        self.items.insert(k, s);
    }

    fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        self.checks += 1;
        if !ok {
            self.failures.push(format!("{}: {}", self.test, what()));
        }
    }

    fn expressions(&self, req: &Value, table: &str) -> Result<Expressions, String> {
        let s = |k: &str| req.get(k).and_then(Value::as_str);
        let names: Option<BTreeMap<String, String>> = req
            .get("ExpressionAttributeNames")
            .and_then(|v| serde_json::from_value(v.clone()).ok());
        let values: Option<BTreeMap<String, AttributeValue>> = req
            .get("ExpressionAttributeValues")
            .and_then(|v| serde_json::from_value(v.clone()).ok());
        let input = ExpressionInput {
            condition: s("ConditionExpression"),
            update: s("UpdateExpression"),
            projection: s("ProjectionExpression"),
            filter: s("FilterExpression"),
            key_condition: s("KeyConditionExpression"),
            names: names.as_ref(),
            values: values.as_ref(),
        };
        let keys = self.key_attrs(table);
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        parse(&input, &keys).map_err(|e| e.to_string())
    }

    /// Checks a ConditionExpression against the current item; returns whether it held, or
    /// `None` when the replay cannot tell.
    fn condition(
        &mut self,
        exprs: &Expressions,
        current: &State,
        status: u64,
        resp: &Value,
        req: &Value,
    ) -> Option<bool> {
        let cond = exprs.condition.as_ref()?;
        let State::Known(current) = current else {
            return None;
        };
        let held = cond
            .evaluate(&current.clone().unwrap_or_default())
            .unwrap_or(false);
        let ccf = is_ccf(resp);
        if status == 200 || ccf {
            self.check(held != ccf, || {
                format!("condition held={held} but response {status} {resp}; request {req}")
            });
        }
        Some(held)
    }

    fn step(&mut self, s: &Value) {
        let op = s["op"].as_str().unwrap_or("");
        let req = &s["request"];
        let status = s["status"].as_u64().unwrap_or(0);
        let resp = &s["response"];
        let table = req["TableName"].as_str().unwrap_or("").to_string();
        match op {
            "PutItem" | "DeleteItem" => {
                let field = if op == "PutItem" { "Item" } else { "Key" };
                let Some(given) = item_of(&req[field]) else {
                    return;
                };
                let current = self.state(&table, &given);
                let legacy = req.get("Expected").is_some();
                if !legacy {
                    let Ok(exprs) = self.expressions(req, &table) else {
                        return;
                    };
                    self.condition(&exprs, &current, status, resp, req);
                }
                if status == 200 {
                    if let (State::Known(old), Some("ALL_OLD")) =
                        (&current, req["ReturnValues"].as_str())
                    {
                        let got = resp.get("Attributes").and_then(item_of);
                        let old = old.clone();
                        self.check(got == old, || {
                            format!("{op} ALL_OLD {got:?}, replay has {old:?}")
                        });
                    }
                    let new = if op == "PutItem" {
                        Some(given.clone())
                    } else {
                        None
                    };
                    self.set(&table, &given, State::Known(new));
                }
            }
            "BatchWriteItem" if status == 200 => {
                let Some(reqs) = req["RequestItems"].as_object() else {
                    return;
                };
                for (t, list) in reqs {
                    for w in list.as_array().into_iter().flatten() {
                        if let Some(it) = item_of(&w["PutRequest"]["Item"]) {
                            self.set(t, &it, State::Known(Some(it.clone())));
                        } else if let Some(k) = item_of(&w["DeleteRequest"]["Key"]) {
                            self.set(t, &k, State::Known(None));
                        }
                    }
                }
            }
            "UpdateItem" => self.update(req, status, resp, &table),
            "GetItem" if status == 200 => {
                let Some(key) = item_of(&req["Key"]) else {
                    return;
                };
                let got = resp.get("Item").and_then(item_of);
                let projection = req.get("ProjectionExpression").is_some();
                if let State::Known(cur) = self.state(&table, &key) {
                    let want = match self.expressions(req, &table) {
                        Ok(e) => match (&e.projection, cur) {
                            (Some(p), Some(cur)) => Some(p.apply(&cur)),
                            (_, cur) => cur,
                        },
                        Err(e) => {
                            self.check(false, || {
                                format!("GetItem expressions failed: {e}; request {req}")
                            });
                            return;
                        }
                    };
                    let want = want.filter(|w| !w.is_empty());
                    self.check(got == want, || {
                        format!("GetItem {req}\n    got  {got:?}\n    want {want:?}")
                    });
                }
                if !projection && req.get("AttributesToGet").is_none() {
                    self.set(&table, &key, State::Known(got));
                }
            }
            "Scan" | "Query" if status == 200 => self.read(op, req, resp, &table),
            _ => {}
        }
    }

    fn update(&mut self, req: &Value, status: u64, resp: &Value, table: &str) {
        let Some(key) = item_of(&req["Key"]) else {
            return;
        };
        let current = self.state(table, &key);
        if req.get("AttributeUpdates").is_some() || req.get("Expected").is_some() {
            if status == 200 {
                let new = resp.get("Attributes").and_then(item_of);
                let known = req["ReturnValues"].as_str() == Some("ALL_NEW");
                self.set(
                    table,
                    &key,
                    if known {
                        State::Known(new)
                    } else {
                        State::Unknown
                    },
                );
            }
            return;
        }
        let exprs = match self.expressions(req, table) {
            Ok(e) => e,
            Err(e) => {
                if status == 200 {
                    self.check(false, || format!("UpdateItem rejected: {e}; request {req}"));
                }
                return;
            }
        };
        if self.condition(&exprs, &current, status, resp, req) == Some(false) {
            return;
        }
        let State::Known(old) = current else {
            if status == 200 {
                self.set(table, &key, State::Unknown);
            }
            return;
        };
        let Some(update) = &exprs.update else { return };
        let mut new = old.clone().unwrap_or_else(|| key.clone());
        match update.apply(&mut new) {
            // Index key types are the operation layer's business.
            Err(_)
                if resp["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("secondary index")) => {}
            Ok(())
                if resp["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("secondary index")) => {}
            Err(e) => {
                let msg = resp["message"]
                    .as_str()
                    .or(resp["Message"].as_str())
                    .unwrap_or("");
                self.check(status == 400 && msg == e.to_string(), || {
                    format!("UpdateItem failed with {e:?}, response {status} {resp}; request {req}")
                });
            }
            Ok(()) => {
                self.check(status == 200, || {
                    format!("UpdateItem applied, response {status} {resp}; request {req}")
                });
                if status != 200 {
                    return;
                }
                let paths = update.updated_paths();
                let want = match req["ReturnValues"].as_str().unwrap_or("NONE") {
                    "ALL_NEW" => Some(new.clone()),
                    "ALL_OLD" => old.clone(),
                    "UPDATED_NEW" => Some(project_paths(&new, &paths)),
                    "UPDATED_OLD" => old.as_ref().map(|o| project_paths(o, &paths)),
                    _ => None,
                }
                .filter(|w| !w.is_empty());
                let got = resp.get("Attributes").and_then(item_of);
                self.check(got == want, || {
                    format!("UpdateItem {req}\n    got  {got:?}\n    want {want:?}")
                });
                self.set(table, &key, State::Known(Some(new)));
            }
        }
    }

    fn read(&mut self, op: &str, req: &Value, resp: &Value, table: &str) {
        let modelled =
            req.get("FilterExpression").is_some() || req.get("KeyConditionExpression").is_some();
        let paged = [
            "Limit",
            "ExclusiveStartKey",
            "Segment",
            "IndexName",
            "ScanFilter",
            "QueryFilter",
            "KeyConditions",
        ]
        .iter()
        .any(|k| req.get(*k).is_some())
            || resp.get("LastEvaluatedKey").is_some();
        if !modelled || paged {
            return;
        }
        let keys = self.key_attrs(table);
        // Returned items are matched to the test's items by key; a projection without the key
        // attributes makes that impossible.
        if let Some(p) = req.get("ProjectionExpression").and_then(Value::as_str)
            && !keys.iter().all(|k| p.split(',').any(|q| q.trim() == k))
        {
            return;
        }
        let exprs = match self.expressions(req, table) {
            Ok(e) => e,
            Err(e) => {
                self.check(false, || format!("{op} rejected: {e}; request {req}"));
                return;
            }
        };
        let returned: Vec<Item> = resp["Items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(item_of)
            .collect();
        let mine: Vec<Item> = self
            .items
            .iter()
            .filter(|((t, _), _)| t == table)
            .filter_map(|(_, s)| match s {
                State::Known(Some(i)) => Some(i.clone()),
                _ => None,
            })
            .collect();
        for it in mine {
            let want = exprs.key_condition.as_ref().is_none_or(|k| k.matches(&it))
                && exprs
                    .filter
                    .as_ref()
                    .is_none_or(|f| f.evaluate(&it).unwrap_or(false));
            let same_key = |r: &Item| keys.iter().all(|k| r.get(k) == it.get(k));
            let got = returned.iter().find(|r| same_key(r));
            self.check(got.is_some() == want, || {
                format!(
                    "{op} {req}: item {it:?} returned={} want={want}",
                    got.is_some()
                )
            });
            if let (Some(got), Some(p)) = (got, &exprs.projection) {
                let projected = p.apply(&it);
                self.check(*got == projected, || {
                    format!("{op} projection: got {got:?}, want {projected:?}")
                });
            }
        }
    }
}

#[test]
fn dynalite_expression_scenarios_replay() {
    let data: Value =
        serde_json::from_str(include_str!("data/expr_scenarios.json")).expect("fixture parses");
    let keys: BTreeMap<String, Vec<String>> =
        serde_json::from_value(data["key_attributes"].clone()).expect("key attributes");
    let mut total_checks = 0;
    let mut failures = Vec::new();
    for t in data["tests"].as_array().expect("tests") {
        let mut r = Replay {
            keys: &keys,
            items: HashMap::new(),
            checks: 0,
            failures: Vec::new(),
            test: t["test"].as_str().unwrap_or("").to_string(),
        };
        for s in t["steps"].as_array().into_iter().flatten() {
            r.step(s);
        }
        total_checks += r.checks;
        failures.extend(r.failures);
    }
    for f in &failures {
        println!("FAIL {f}");
    }
    let pass = total_checks - failures.len();
    println!("expression scenarios: {pass}/{total_checks} checks pass");
    assert!(total_checks >= 100, "too few checks: {total_checks}");
    assert!(
        failures.is_empty(),
        "{} of {total_checks} checks failed",
        failures.len()
    );
}
