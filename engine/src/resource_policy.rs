//! Resource-based policies of tables and streams: PutResourcePolicy, GetResourcePolicy,
//! DeleteResourcePolicy.
//!
//! Policies are stored and versioned, not enforced: no request is ever authorized against
//! them, so `ConfirmRemoveSelfResourceAccess` (which AWS requires only when a policy would lock
//! the caller out) is accepted and has nothing to confirm. A policy must be a JSON IAM policy
//! document (an object with a `Statement` object or non-empty list of objects, each with an
//! `Effect` of `Allow` or `Deny`, and an optional `Version` of `2012-10-17` or `2008-10-17`) of
//! at most 20 KB, the limit AWS documents for resource-based policies.
//!
//! Revision ids are the engine clock's milliseconds as a decimal string (AWS's look the same),
//! strictly increasing per resource.
//!
//! Layout in redb: `resource_policies`: resource ARN → [`PolicyEntry`] as JSON. An entry
//! remembers the `TableId` it was written for, so a re-created table starts without a policy.
//!
//! Texts: PolicyNotFoundException and ResourceNotFoundException messages are AWS's (moto's
//! AWS-verified resource-policy tests); the ValidationException texts for malformed
//! documents are ours until a recording shows AWS's.

use redb::{ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use crate::catalog::TableMeta;
use crate::engine::{CATALOG, Engine, Namespace, parse_table_arn};
use crate::error::{Error, Result};

const POLICIES: TableDefinition<&str, &str> = TableDefinition::new("resource_policies");

/// The largest policy document, in bytes (developer guide, "Resource-based policy
/// considerations": 20 KB).
pub const MAX_POLICY_BYTES: usize = 20 * 1024;

/// The `ExpectedRevisionId` that means "no policy may exist yet".
const NO_POLICY: &str = "NO_POLICY";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct PolicyEntry {
    table_id: String,
    policy: String,
    revision_id: String,
}

/// PutResourcePolicy request.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutResourcePolicyInput {
    /// The table's or stream's ARN.
    pub resource_arn: String,
    /// The policy document (JSON).
    pub policy: String,
    /// Replace only this revision (`NO_POLICY`: only when there is none).
    #[serde(default)]
    pub expected_revision_id: Option<String>,
    /// Accepted; policies are not enforced, so nothing can lock the caller out.
    #[serde(default)]
    pub confirm_remove_self_resource_access: Option<bool>,
}

/// GetResourcePolicy request.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetResourcePolicyInput {
    /// The table's or stream's ARN.
    pub resource_arn: String,
}

/// DeleteResourcePolicy request.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteResourcePolicyInput {
    /// The table's or stream's ARN.
    pub resource_arn: String,
    /// Delete only this revision.
    #[serde(default)]
    pub expected_revision_id: Option<String>,
}

/// PutResourcePolicy / DeleteResourcePolicy response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RevisionIdOutput {
    /// The revision written (Put) or removed (Delete).
    pub revision_id: String,
}

/// GetResourcePolicy response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetResourcePolicyOutput {
    /// The policy document.
    pub policy: String,
    /// Its revision.
    pub revision_id: String,
}

/// The table an ARN names (a table ARN, or a stream ARN `…/table/T/stream/LABEL` of the
/// table's current stream), or AWS's not-found error. The ARN's account and region name the
/// namespace, as they do for table ARNs everywhere.
fn resolve(
    catalog: &impl ReadableTable<&'static str, &'static str>,
    arn: &str,
) -> Result<TableMeta> {
    let (table_arn, stream_label) = match arn.split_once("/stream/") {
        Some((t, label)) => (t, Some(label)),
        None => (arn, None),
    };
    let Some((account, region, name)) = parse_table_arn(table_arn) else {
        return Err(Error::validation(format!(
            "Invalid ResourceArn provided as input {arn}"
        )));
    };
    let not_found = || {
        Error::ResourceNotFound(format!(
            "Requested resource not found: Table: {name} not found"
        ))
    };
    let key = Namespace::new(account, region).table_key(name);
    let meta = Engine::load_meta(catalog, &key)?.ok_or_else(not_found)?;
    if let Some(label) = stream_label
        && meta.stream.as_ref().is_none_or(|s| s.label != label)
    {
        return Err(Error::ResourceNotFound(format!(
            "Requested resource not found: Stream: {arn} not found"
        )));
    }
    Ok(meta)
}

/// Checks that `policy` is a JSON IAM policy document AWS would store.
fn check_policy(policy: &str) -> Result<()> {
    if policy.len() > MAX_POLICY_BYTES {
        return Err(Error::validation(format!(
            "Resource-based policy size {} exceeds the maximum allowed size of {MAX_POLICY_BYTES} bytes",
            policy.len()
        )));
    }
    let invalid = |why: &str| Error::validation(format!("Invalid policy document: {why}"));
    let doc: serde_json::Value =
        serde_json::from_str(policy).map_err(|_| invalid("the policy is not valid JSON"))?;
    let obj = doc
        .as_object()
        .ok_or_else(|| invalid("the policy must be a JSON object"))?;
    if let Some(v) = obj.get("Version")
        && !matches!(v.as_str(), Some("2012-10-17" | "2008-10-17"))
    {
        return Err(invalid("Version must be 2012-10-17 or 2008-10-17"));
    }
    let statements: Vec<&serde_json::Value> = match obj.get("Statement") {
        Some(serde_json::Value::Array(list)) if !list.is_empty() => list.iter().collect(),
        Some(s @ serde_json::Value::Object(_)) => vec![s],
        _ => return Err(invalid("Statement is missing or empty")),
    };
    for s in statements {
        let s = s
            .as_object()
            .ok_or_else(|| invalid("each Statement must be a JSON object"))?;
        if !matches!(
            s.get("Effect").and_then(|e| e.as_str()),
            Some("Allow" | "Deny")
        ) {
            return Err(invalid("each Statement needs an Effect of Allow or Deny"));
        }
        if !s.contains_key("Action") && !s.contains_key("NotAction") {
            return Err(invalid("each Statement needs an Action or NotAction"));
        }
    }
    Ok(())
}

fn policy_not_found(arn: &str) -> Error {
    Error::PolicyNotFound(format!(
        "Resource-based policy not found for the provided ResourceArn: {arn}"
    ))
}

fn revision_mismatch(expected: &str, table: &str, current: &str) -> Error {
    Error::PolicyNotFound(format!(
        "Resource-based policy not found for the provided ResourceArn: Requested update for policy with revision id {expected}, but the policy associated to target table {table} has revision id {current}."
    ))
}

fn load(
    t: &impl ReadableTable<&'static str, &'static str>,
    arn: &str,
    meta: &TableMeta,
) -> Result<Option<PolicyEntry>> {
    let Some(v) = t.get(arn)? else {
        return Ok(None);
    };
    let entry: PolicyEntry = serde_json::from_str(v.value())
        .map_err(|e| Error::Internal(format!("policy entry is corrupt: {e}")))?;
    Ok((entry.table_id == meta.table_id).then_some(entry))
}

impl Engine {
    /// PutResourcePolicy.
    pub fn put_resource_policy(
        &self,
        _ns: &Namespace,
        input: PutResourcePolicyInput,
    ) -> Result<RevisionIdOutput> {
        let now = self.clock.now();
        self.write(|txn| {
            let meta = resolve(&txn.open_table(CATALOG)?, &input.resource_arn)?;
            check_policy(&input.policy)?;
            let mut t = txn.open_table(POLICIES)?;
            let current = load(&t, &input.resource_arn, &meta)?;
            match (&current, input.expected_revision_id.as_deref()) {
                (Some(c), Some(NO_POLICY)) => {
                    return Err(Error::PolicyNotFound(format!(
                        "Resource-based policy not found for the provided ResourceArn: Requested policy update expecting none to be present for table {}, but a policy exists with revision id {}.",
                        meta.name, c.revision_id
                    )));
                }
                (Some(c), Some(e)) if e != c.revision_id => {
                    return Err(revision_mismatch(e, &meta.name, &c.revision_id));
                }
                (None, Some(e)) if e != NO_POLICY => {
                    return Err(policy_not_found(&input.resource_arn));
                }
                _ => {}
            }
            let previous = current
                .as_ref()
                .and_then(|c| c.revision_id.parse::<i64>().ok())
                .unwrap_or(i64::MIN);
            let revision_id = now.0.max(previous.saturating_add(1)).to_string();
            let entry = PolicyEntry {
                table_id: meta.table_id.clone(),
                policy: input.policy.clone(),
                revision_id: revision_id.clone(),
            };
            let json = serde_json::to_string(&entry).map_err(|e| Error::Internal(e.to_string()))?;
            t.insert(input.resource_arn.as_str(), json.as_str())?;
            Ok(RevisionIdOutput { revision_id })
        })
    }

    /// GetResourcePolicy.
    pub fn get_resource_policy(
        &self,
        _ns: &Namespace,
        input: GetResourcePolicyInput,
    ) -> Result<GetResourcePolicyOutput> {
        self.read(|txn| {
            let meta = resolve(&txn.open_table(CATALOG)?, &input.resource_arn)?;
            let entry = match txn.open_table(POLICIES) {
                Ok(t) => load(&t, &input.resource_arn, &meta)?,
                Err(redb::TableError::TableDoesNotExist(_)) => None,
                Err(e) => return Err(e.into()),
            };
            let entry = entry.ok_or_else(|| policy_not_found(&input.resource_arn))?;
            Ok(GetResourcePolicyOutput {
                policy: entry.policy,
                revision_id: entry.revision_id,
            })
        })
    }

    /// DeleteResourcePolicy.
    pub fn delete_resource_policy(
        &self,
        _ns: &Namespace,
        input: DeleteResourcePolicyInput,
    ) -> Result<RevisionIdOutput> {
        self.write(|txn| {
            let meta = resolve(&txn.open_table(CATALOG)?, &input.resource_arn)?;
            let mut t = txn.open_table(POLICIES)?;
            let current = load(&t, &input.resource_arn, &meta)?
                .ok_or_else(|| policy_not_found(&input.resource_arn))?;
            if let Some(e) = &input.expected_revision_id
                && *e != current.revision_id
            {
                return Err(revision_mismatch(e, &meta.name, &current.revision_id));
            }
            t.remove(input.resource_arn.as_str())?;
            Ok(RevisionIdOutput {
                revision_id: current.revision_id,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table_ops::CreateTableInput;

    const POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"dynamodb:GetItem","Resource":"*"}]}"#;
    const ARN: &str = "arn:aws:dynamodb:us-east-1:000000000000:table/t";

    fn engine() -> (Engine, Namespace) {
        let engine = Engine::in_memory().unwrap();
        let ns = Namespace::default();
        let input: CreateTableInput = serde_json::from_value(serde_json::json!({
            "TableName": "t",
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST"
        }))
        .unwrap();
        engine.create_table(&ns, input).unwrap();
        (engine, ns)
    }

    fn put(e: &Engine, ns: &Namespace, expected: Option<&str>) -> Result<RevisionIdOutput> {
        e.put_resource_policy(
            ns,
            PutResourcePolicyInput {
                resource_arn: ARN.into(),
                policy: POLICY.into(),
                expected_revision_id: expected.map(str::to_string),
                confirm_remove_self_resource_access: None,
            },
        )
    }

    #[test]
    fn put_get_delete_with_revisions() {
        let (e, ns) = engine();
        let get = |e: &Engine| {
            e.get_resource_policy(
                &ns,
                GetResourcePolicyInput {
                    resource_arn: ARN.into(),
                },
            )
        };
        assert_eq!(
            get(&e).unwrap_err().to_string(),
            format!("Resource-based policy not found for the provided ResourceArn: {ARN}")
        );
        let r1 = put(&e, &ns, Some(NO_POLICY)).unwrap().revision_id;
        assert_eq!(get(&e).unwrap().revision_id, r1);
        let err = put(&e, &ns, Some(NO_POLICY)).unwrap_err();
        assert_eq!(err.aws_type(), "PolicyNotFoundException");
        assert!(
            err.to_string()
                .contains("expecting none to be present for table t")
        );
        let r2 = put(&e, &ns, Some(&r1)).unwrap().revision_id;
        assert!(r2.parse::<i64>().unwrap() > r1.parse::<i64>().unwrap());
        let err = put(&e, &ns, Some(&r1)).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "Resource-based policy not found for the provided ResourceArn: Requested update for policy with revision id {r1}, but the policy associated to target table t has revision id {r2}."
            )
        );
        let d = e
            .delete_resource_policy(
                &ns,
                DeleteResourcePolicyInput {
                    resource_arn: ARN.into(),
                    expected_revision_id: Some(r2.clone()),
                },
            )
            .unwrap();
        assert_eq!(d.revision_id, r2);
        assert_eq!(get(&e).unwrap_err().aws_type(), "PolicyNotFoundException");
    }

    #[test]
    fn malformed_policies_are_refused() {
        for bad in [
            "not json",
            "[]",
            r#"{"Version":"2012-10-17"}"#,
            r#"{"Version":"2001-01-01","Statement":[{"Effect":"Allow","Action":"*"}]}"#,
            r#"{"Statement":[{"Effect":"Maybe","Action":"*"}]}"#,
            r#"{"Statement":[{"Effect":"Allow"}]}"#,
        ] {
            assert!(check_policy(bad).is_err(), "{bad}");
        }
        assert!(check_policy(POLICY).is_ok());
        assert!(check_policy(&"x".repeat(MAX_POLICY_BYTES + 1)).is_err());
    }

    #[test]
    fn unknown_tables_are_not_found() {
        let (e, ns) = engine();
        let err = e
            .get_resource_policy(
                &ns,
                GetResourcePolicyInput {
                    resource_arn: format!("{ARN}unknown"),
                },
            )
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Requested resource not found: Table: tunknown not found"
        );
    }
}
