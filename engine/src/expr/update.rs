//! Applying an update expression to an item.
//!
//! Every right-hand side is evaluated against the item as it was before the update
//! (so `SET a = b, b = a` swaps), then the actions are applied: SET in path order, then
//! REMOVE (list elements from the highest index down, so indexes refer to the original
//! list), then ADD in path order, then DELETE.

use super::ast::{DocPath, PathElem, SetOperand, SetValue, Update, UpdateAction};
use super::eval::resolve;
use crate::error::Error;
use crate::value::{AttributeValue, Item};

/// AWS's message when an operand has the wrong type at run time.
pub const INCORRECT_TYPE: &str = "An operand in the update expression has an incorrect data type";
/// AWS's message when a SET operand names an attribute the item lacks.
pub const MISSING_ATTRIBUTE: &str =
    "The provided expression refers to an attribute that does not exist in the item";
/// AWS's message when a path's parent does not exist or has the wrong type.
pub const INVALID_PATH: &str =
    "The document path provided in the update expression is invalid for update";

fn err(msg: &str) -> Error {
    Error::Validation(msg.to_string())
}

fn operand(item: &Item, o: &SetOperand) -> Result<AttributeValue, Error> {
    match o {
        SetOperand::Path(p) => resolve(item, p)
            .cloned()
            .ok_or_else(|| err(MISSING_ATTRIBUTE)),
        SetOperand::Value(v) => Ok(v.clone()),
        SetOperand::IfNotExists(p, alt) => match resolve(item, p) {
            Some(v) => Ok(v.clone()),
            None => operand(item, alt),
        },
        SetOperand::ListAppend(a, b) => match (operand(item, a)?, operand(item, b)?) {
            (AttributeValue::L(mut a), AttributeValue::L(b)) => {
                a.extend(b);
                Ok(AttributeValue::L(a))
            }
            _ => Err(err(INCORRECT_TYPE)),
        },
    }
}

fn set_value(item: &Item, v: &SetValue) -> Result<AttributeValue, Error> {
    let (a, b, plus) = match v {
        SetValue::Operand(o) => return operand(item, o),
        SetValue::Plus(a, b) => (a, b, true),
        SetValue::Minus(a, b) => (a, b, false),
    };
    match (operand(item, a)?, operand(item, b)?) {
        (AttributeValue::N(a), AttributeValue::N(b)) => {
            let r = if plus {
                a.checked_add(&b)
            } else {
                a.checked_sub(&b)
            };
            r.map(AttributeValue::N)
                .map_err(|e| Error::Validation(e.to_string()))
        }
        _ => Err(err(INCORRECT_TYPE)),
    }
}

/// The container holding the last element of `path`, and that last element.
fn parent_mut<'a>(
    item: &'a mut Item,
    path: &'a DocPath,
) -> Result<(Slot<'a>, &'a PathElem), Error> {
    let (last, init) = path.0.split_last().ok_or_else(|| err(INVALID_PATH))?;
    let Some((head, rest)) = init.split_first() else {
        return Ok((Slot::Item(item), last));
    };
    let PathElem::Attr(head) = head else {
        return Err(err(INVALID_PATH));
    };
    let mut cur = item.get_mut(head).ok_or_else(|| err(INVALID_PATH))?;
    for e in rest {
        cur = match (e, cur) {
            (PathElem::Attr(a), AttributeValue::M(m)) => m.get_mut(a),
            (PathElem::Index(i), AttributeValue::L(l)) => l.get_mut(*i),
            _ => None,
        }
        .ok_or_else(|| err(INVALID_PATH))?;
    }
    Ok((Slot::Value(cur), last))
}

enum Slot<'a> {
    Item(&'a mut Item),
    Value(&'a mut AttributeValue),
}

fn get_mut<'a>(
    slot: &'a mut Slot,
    last: &PathElem,
) -> Result<Option<&'a mut AttributeValue>, Error> {
    Ok(match (slot, last) {
        (Slot::Item(item), PathElem::Attr(a)) => item.get_mut(a),
        (Slot::Value(AttributeValue::M(m)), PathElem::Attr(a)) => m.get_mut(a),
        (Slot::Value(AttributeValue::L(l)), PathElem::Index(i)) => l.get_mut(*i),
        _ => return Err(err(INVALID_PATH)),
    })
}

fn put(slot: Slot, last: &PathElem, v: AttributeValue) -> Result<(), Error> {
    match (slot, last) {
        (Slot::Item(item), PathElem::Attr(a)) => {
            item.insert(a.clone(), v);
        }
        (Slot::Value(AttributeValue::M(m)), PathElem::Attr(a)) => {
            m.insert(a.clone(), v);
        }
        (Slot::Value(AttributeValue::L(l)), PathElem::Index(i)) => match l.get_mut(*i) {
            Some(old) => *old = v,
            // Setting past the end appends (Expressions.UpdateExpressions.md).
            None => l.push(v),
        },
        _ => return Err(err(INVALID_PATH)),
    }
    Ok(())
}

fn remove(item: &mut Item, path: &DocPath) -> Result<(), Error> {
    let (slot, last) = parent_mut(item, path)?;
    match (slot, last) {
        (Slot::Item(item), PathElem::Attr(a)) => {
            item.remove(a);
        }
        (Slot::Value(AttributeValue::M(m)), PathElem::Attr(a)) => {
            m.remove(a);
        }
        (Slot::Value(AttributeValue::L(l)), PathElem::Index(i)) => {
            if *i < l.len() {
                l.remove(*i);
            }
        }
        _ => return Err(err(INVALID_PATH)),
    }
    Ok(())
}

fn union<T: Clone + std::hash::Hash + Eq>(a: &mut Vec<T>, b: &[T]) {
    let mut members: std::collections::HashSet<T> = a.iter().cloned().collect();
    for x in b {
        if members.insert(x.clone()) {
            a.push(x.clone());
        }
    }
}

fn difference<T: std::hash::Hash + Eq>(a: &mut Vec<T>, b: &[T]) {
    let remove: std::collections::HashSet<&T> = b.iter().collect();
    a.retain(|x| !remove.contains(x));
}

fn add(item: &mut Item, path: &DocPath, v: &AttributeValue) -> Result<(), Error> {
    use AttributeValue as V;
    let (mut slot, last) = parent_mut(item, path)?;
    match get_mut(&mut slot, last)? {
        None => match v {
            V::N(_) | V::Ss(_) | V::Ns(_) | V::Bs(_) => put(slot, last, v.clone()),
            _ => Err(err(INCORRECT_TYPE)),
        },
        Some(cur) => {
            match (cur, v) {
                (V::N(a), V::N(b)) => {
                    *a = a
                        .checked_add(b)
                        .map_err(|e| Error::Validation(e.to_string()))?
                }
                (V::Ss(a), V::Ss(b)) => union(a, b),
                (V::Ns(a), V::Ns(b)) => union(a, b),
                (V::Bs(a), V::Bs(b)) => union(a, b),
                _ => return Err(err(INCORRECT_TYPE)),
            }
            Ok(())
        }
    }
}

fn delete(item: &mut Item, path: &DocPath, v: &AttributeValue) -> Result<(), Error> {
    use AttributeValue as V;
    let (mut slot, last) = parent_mut(item, path)?;
    let empty = match get_mut(&mut slot, last)? {
        None => return Ok(()),
        Some(cur) => match (cur, v) {
            (V::Ss(a), V::Ss(b)) => {
                difference(a, b);
                a.is_empty()
            }
            (V::Ns(a), V::Ns(b)) => {
                difference(a, b);
                a.is_empty()
            }
            (V::Bs(a), V::Bs(b)) => {
                difference(a, b);
                a.is_empty()
            }
            _ => return Err(err(INCORRECT_TYPE)),
        },
    };
    if empty {
        // A set may not be empty: deleting its last element removes the attribute.
        remove(item, path)?;
    }
    Ok(())
}

impl Update {
    /// Applies the update to `item` (empty when the item does not exist yet). On error the
    /// item may be partly updated; callers apply to a copy.
    pub fn apply(&self, item: &mut Item) -> Result<(), Error> {
        let mut sets = Vec::new();
        for a in &self.actions {
            if let UpdateAction::Set(p, v) = a {
                sets.push((p, set_value(item, v)?));
            }
        }
        // Paths apply in order, not as written: `SET c[4] = x, c[2] = y` on a two-element
        // list appends y then x (dynalite's "should update nested attributes", checked
        // against AWS). Paths never overlap, so only list indexes feel the order.
        sets.sort_by(|a, b| a.0.cmp(b.0));
        for (p, v) in sets {
            let (slot, last) = parent_mut(item, p)?;
            put(slot, last, v)?;
        }
        let mut removes: Vec<&DocPath> = self
            .actions
            .iter()
            .filter_map(|a| match a {
                UpdateAction::Remove(p) => Some(p),
                _ => None,
            })
            .collect();
        removes.sort_by(|a, b| b.cmp(a));
        for p in removes {
            remove(item, p)?;
        }
        let mut adds: Vec<(&DocPath, &AttributeValue)> = self
            .actions
            .iter()
            .filter_map(|a| match a {
                UpdateAction::Add(p, v) => Some((p, v)),
                _ => None,
            })
            .collect();
        adds.sort_by(|a, b| a.0.cmp(b.0));
        for (p, v) in adds {
            add(item, p, v)?;
        }
        for a in &self.actions {
            if let UpdateAction::Delete(p, v) = a {
                delete(item, p, v)?;
            }
        }
        Ok(())
    }

    /// The paths the update writes, in source order (for `ReturnValues` `UPDATED_OLD` and
    /// `UPDATED_NEW`, used with [`super::project_paths`]).
    pub fn updated_paths(&self) -> Vec<DocPath> {
        self.actions
            .iter()
            .map(|a| match a {
                UpdateAction::Set(p, _)
                | UpdateAction::Remove(p)
                | UpdateAction::Add(p, _)
                | UpdateAction::Delete(p, _) => p.clone(),
            })
            .collect()
    }

    /// The top-level attributes the update writes.
    pub fn updated_attributes(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for a in &self.actions {
            let (UpdateAction::Set(p, _)
            | UpdateAction::Remove(p)
            | UpdateAction::Add(p, _)
            | UpdateAction::Delete(p, _)) = a;
            if let Some(h) = p.head()
                && !out.contains(&h)
            {
                out.push(h);
            }
        }
        out
    }
}
