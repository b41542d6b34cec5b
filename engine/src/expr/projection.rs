//! Projecting items onto document paths (ProjectionExpression, ReturnValues UPDATED_*).

use std::collections::BTreeMap;

use super::ast::{DocPath, PathElem, Projection};
use crate::value::{AttributeValue, Item};

/// A partial copy being built: list elements keep their original index until the end,
/// when the selected ones are packed in index order.
enum Node {
    Leaf(AttributeValue),
    Map(BTreeMap<String, Node>),
    List(BTreeMap<usize, Node>),
}

impl Node {
    fn into_value(self) -> AttributeValue {
        match self {
            Node::Leaf(v) => v,
            Node::Map(m) => {
                AttributeValue::M(m.into_iter().map(|(k, n)| (k, n.into_value())).collect())
            }
            Node::List(l) => AttributeValue::L(l.into_values().map(Node::into_value).collect()),
        }
    }
}

/// Copies the value under `rest` of `src` into `dst`; false if the path does not exist.
fn copy(dst: &mut Option<Node>, src: &AttributeValue, rest: &[PathElem]) {
    let Some((first, rest)) = rest.split_first() else {
        *dst = Some(Node::Leaf(src.clone()));
        return;
    };
    match (first, src) {
        (PathElem::Attr(k), AttributeValue::M(m)) => {
            let Some(child) = m.get(k) else { return };
            if dst.is_none() {
                *dst = Some(Node::Map(BTreeMap::new()));
            }
            if let Some(Node::Map(out)) = dst {
                let mut slot = out.remove(k);
                copy(&mut slot, child, rest);
                if let Some(s) = slot {
                    out.insert(k.clone(), s);
                }
            }
        }
        (PathElem::Index(i), AttributeValue::L(l)) => {
            let Some(child) = l.get(*i) else { return };
            if dst.is_none() {
                *dst = Some(Node::List(BTreeMap::new()));
            }
            if let Some(Node::List(out)) = dst {
                let mut slot = out.remove(i);
                copy(&mut slot, child, rest);
                if let Some(s) = slot {
                    out.insert(*i, s);
                }
            }
        }
        _ => {}
    }
}

/// The parts of `item` at `paths`, shaped like the item: `a.b` keeps `{a: {b: …}}`, list
/// elements keep their order and are packed together.
pub fn project_paths(item: &Item, paths: &[DocPath]) -> Item {
    let mut tops: BTreeMap<String, Option<Node>> = BTreeMap::new();
    for p in paths {
        let Some((PathElem::Attr(head), rest)) = p.0.split_first() else {
            continue;
        };
        let Some(v) = item.get(head) else { continue };
        let slot = tops.entry(head.clone()).or_insert(None);
        copy(slot, v, rest);
    }
    tops.into_iter()
        .filter_map(|(k, n)| n.map(|n| (k, n.into_value())))
        .collect()
}

impl Projection {
    /// The projected item.
    pub fn apply(&self, item: &Item) -> Item {
        project_paths(item, &self.paths)
    }
}
