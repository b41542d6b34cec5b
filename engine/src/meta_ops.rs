//! Small control-plane operations: TagResource, UntagResource, ListTagsOfResource,
//! DescribeLimits and DescribeEndpoints.
//!
//! Tags live in [`TableMeta::tags`] in their order of first insertion; a TagResource of an
//! existing key replaces its value in place. Validation order and messages:
//! - the `ResourceArn` checks, `Tags`/`TagKeys` emptiness and the not-found texts (including
//!   AWS's "ResourcArn" typo) are the dynalite suite's AWS-validated expectations
//!   (`listTagsOfResource.js`, `tagResource.js`, `untagResource.js`);
//! - per-tag rules (key 1–128 and value 0–256 characters of the AWS tag alphabet, the `aws:`
//!   prefix, duplicates, 50 tags per resource counted after the merge, all-or-nothing) and their
//!   texts come from probes of real DynamoDB (ack-api-quirks DDB-TABLE-107, -108, -372,
//!   2026-10); DynamoDB Local does not implement tagging at all.
//!
//! AWS checks the caller's permission on `ResourceArn` before validating the request: a value
//! that is not ARN-shaped is an `AccessDeniedException` naming the caller
//! ([`tagging_access_denied`]). The engine has no error for that, so the harness asks first.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::catalog::{TableMeta, Tag};
use crate::engine::{CATALOG, Engine, Namespace, parse_table_arn};
use crate::error::{Error, Result};

/// At most this many tags per table (ServiceQuotas.md; ValidationException, DDB-TABLE-108).
pub const MAX_TAGS: usize = 50;

/// Longest tag key, in characters.
pub const MAX_TAG_KEY_CHARS: usize = 128;

/// Longest tag value, in characters.
pub const MAX_TAG_VALUE_CHARS: usize = 256;

/// Tags per ListTagsOfResource page. Real DynamoDB returned all 50 tags of a table without a
/// `NextToken` (DDB-TABLE-108), so a page never ends early in practice; the token mechanism
/// is there for clients that send one back.
pub const TAGS_PAGE_SIZE: usize = MAX_TAGS;

/// A tag as sent, before validation (the model requires both members, but in-process callers
/// may omit them and AWS answers `Key: null` / `Value: null`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagInput {
    /// Tag key.
    pub key: Option<String>,
    /// Tag value.
    pub value: Option<String>,
}

/// TagResource request.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagResourceInput {
    /// The table's ARN.
    pub resource_arn: Option<String>,
    /// Tags to add or overwrite.
    pub tags: Option<Vec<TagInput>>,
}

/// UntagResource request.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UntagResourceInput {
    /// The table's ARN.
    pub resource_arn: Option<String>,
    /// Keys of the tags to remove.
    pub tag_keys: Option<Vec<String>>,
}

/// ListTagsOfResource request.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListTagsOfResourceInput {
    /// The table's ARN.
    pub resource_arn: Option<String>,
    /// A token from a previous page.
    pub next_token: Option<String>,
}

/// ListTagsOfResource output.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListTagsOfResourceOutput {
    /// The tags, in order of first insertion.
    pub tags: Vec<Tag>,
    /// Present when more tags follow.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// The empty output of TagResource and UntagResource.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EmptyOutput {}

/// DescribeLimits request (no members).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DescribeLimitsInput {}

/// DescribeLimits output: the default quotas of ServiceQuotas.md ("Per table: 40,000 read
/// capacity units and 40,000 write capacity units; per account: 80,000 …"), which DynamoDB
/// Local 3.3.1 answers too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeLimitsOutput {
    /// Account-wide read capacity quota.
    pub account_max_read_capacity_units: i64,
    /// Account-wide write capacity quota.
    pub account_max_write_capacity_units: i64,
    /// Per-table read capacity quota.
    pub table_max_read_capacity_units: i64,
    /// Per-table write capacity quota.
    pub table_max_write_capacity_units: i64,
}

/// DescribeEndpoints request (no members).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DescribeEndpointsInput {}

/// One endpoint of DescribeEndpoints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Endpoint {
    /// Host name, e.g. `dynamodb.us-east-1.amazonaws.com`.
    pub address: String,
    /// How long a client may cache it.
    pub cache_period_in_minutes: i64,
}

/// DescribeEndpoints output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeEndpointsOutput {
    /// The regional endpoint.
    pub endpoints: Vec<Endpoint>,
}

/// The `AccessDeniedException` message AWS answers before any validation when a tagging
/// operation's `ResourceArn` is not ARN-shaped (six `:`-separated parts, the last with a `/`):
/// `User: arn:aws:iam::ACCOUNT:root is not authorized to perform: dynamodb:OP on resource: X`,
/// with `*` for an empty ARN (dynalite-2102…2105, -5168…5171, -5201…5204, AWS-validated).
/// `None` when the request may proceed (also when `ResourceArn` is absent: that is a
/// ValidationException, "Invalid TableArn").
pub fn tagging_access_denied(
    op: &str,
    ns: &Namespace,
    resource_arn: Option<&str>,
) -> Option<String> {
    let arn = resource_arn?;
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let shaped = parts.len() == 6 && parts[5].contains('/');
    (!shaped).then(|| {
        format!(
            "User: arn:aws:iam::{}:root is not authorized to perform: dynamodb:{op} on resource: {}",
            ns.account,
            if arn.is_empty() { "*" } else { arn }
        )
    })
}

/// Checks `ResourceArn` and returns the catalog key of the table it names.
fn resolve_arn(ns: &Namespace, resource_arn: Option<&str>) -> Result<String> {
    let Some(arn) = resource_arn else {
        return Err(Error::validation("Invalid TableArn"));
    };
    let invalid = || {
        Error::validation(format!(
            "Invalid TableArn: Invalid ResourceArn provided as input {arn}"
        ))
    };
    let (account, region, name) = parse_table_arn(arn).ok_or_else(invalid)?;
    let partition_ok = arn.starts_with("arn:aws:") || arn.starts_with("arn:aws-");
    let name_ok = (3..=255).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    let account_ok = !account.is_empty() && account.bytes().all(|b| b.is_ascii_digit());
    // An ARN of another region is invalid here (ack-api-quirks: "Invalid TableArn: Invalid
    // ResourceArn provided as input <ARN> (ops: ListTagsOfResource; other-region ARN)").
    if !(partition_ok && name_ok && account_ok && region == ns.region) {
        return Err(invalid());
    }
    Ok(ns.table_key(arn))
}

/// Whether every character is in AWS's tag alphabet: letters, digits and separators of any
/// script, and `_ . : / = + - @` (ack-api-quirks DDB-TABLE-372).
fn tag_chars_ok(s: &str) -> bool {
    s.chars().all(|c| {
        c.is_alphanumeric()
            || (c.is_whitespace() && !c.is_control())
            || matches!(c, '_' | '.' | ':' | '/' | '=' | '+' | '-' | '@')
    })
}

fn invalid_key(key: &str) -> Error {
    Error::validation(format!("The Tag Key provided is invalid, Key: {key}"))
}

fn check_key(key: &str) -> Result<()> {
    let n = key.chars().count();
    if n == 0 || n > MAX_TAG_KEY_CHARS || !tag_chars_ok(key) {
        return Err(invalid_key(key));
    }
    Ok(())
}

/// Validates the tags of a TagResource request, all or nothing.
fn check_tags(tags: &[TagInput]) -> Result<Vec<Tag>> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(tags.len());
    for t in tags {
        let Some(key) = t.key.as_deref() else {
            return Err(invalid_key("null"));
        };
        check_key(key)?;
        if key.starts_with("aws:") {
            return Err(Error::validation(format!(
                "Tag Key cannot be prefixed with aws:, Key: {key}"
            )));
        }
        let Some(value) = t.value.as_deref() else {
            return Err(Error::validation(
                "The Tag Value provided is invalid, Value: null",
            ));
        };
        if value.chars().count() > MAX_TAG_VALUE_CHARS || !tag_chars_ok(value) {
            return Err(Error::validation(format!(
                "The Tag Value provided is invalid, Value: {value}"
            )));
        }
        if !seen.insert(key) {
            return Err(Error::validation(format!(
                "Duplicate Tag Keys provided as input: Duplicate Tag Key found {key}"
            )));
        }
        out.push(Tag {
            key: key.to_string(),
            value: value.to_string(),
        });
    }
    Ok(out)
}

fn too_many_tags() -> Error {
    Error::validation("Number of Tags exceed the current limit for the provided ResourceArn")
}

fn resource_not_found(arn: &str) -> Error {
    Error::ResourceNotFound(format!(
        "Requested resource not found: ResourcArn: {arn} not found"
    ))
}

impl Engine {
    /// Rewrites one table's tags inside a write transaction; `f` changes the current tags
    /// and may refuse the change, which then leaves them untouched.
    fn retag(
        &self,
        key: &str,
        not_found: impl FnOnce() -> Error,
        f: impl FnOnce(&mut Vec<Tag>) -> Result<()>,
    ) -> Result<()> {
        self.write(|txn| {
            let mut catalog = txn.open_table(CATALOG)?;
            let mut meta: TableMeta = Engine::load_meta(&catalog, key)?.ok_or_else(not_found)?;
            f(&mut meta.tags)?;
            let json = serde_json::to_string(&meta).map_err(|e| Error::Internal(e.to_string()))?;
            catalog.insert(key, json.as_str())?;
            Ok(())
        })
    }

    /// TagResource: adds tags to a table or replaces the values of existing keys.
    pub fn tag_resource(&self, ns: &Namespace, input: TagResourceInput) -> Result<EmptyOutput> {
        let arn = input.resource_arn.as_deref();
        let key = resolve_arn(ns, arn)?;
        let tags = input.tags.unwrap_or_default();
        if tags.is_empty() {
            return Err(Error::validation(
                "Atleast one Tag needs to be provided as Input.",
            ));
        }
        let tags = check_tags(&tags)?;
        let arn = arn.unwrap_or_default();
        self.retag(
            &key,
            || resource_not_found(arn),
            |current| {
                for tag in tags {
                    match current.iter_mut().find(|t| t.key == tag.key) {
                        Some(t) => t.value = tag.value,
                        None => current.push(tag),
                    }
                }
                if current.len() > MAX_TAGS {
                    return Err(too_many_tags());
                }
                Ok(())
            },
        )?;
        Ok(EmptyOutput {})
    }

    /// UntagResource: removes tags by key (keys the table does not have are ignored).
    pub fn untag_resource(&self, ns: &Namespace, input: UntagResourceInput) -> Result<EmptyOutput> {
        let key = resolve_arn(ns, input.resource_arn.as_deref())?;
        let keys = input.tag_keys.unwrap_or_default();
        if keys.is_empty() {
            return Err(Error::validation(
                "Atleast one Tag Key needs to be provided as Input.",
            ));
        }
        // Real DynamoDB refuses more than 50 keys even though they remove tags (DDB-TABLE-107).
        if keys.len() > MAX_TAGS {
            return Err(too_many_tags());
        }
        for k in &keys {
            check_key(k)?;
        }
        // dynalite-5209 (AWS-validated): UntagResource's not-found message names no ARN.
        self.retag(&key, Error::table_not_found, |current| {
            current.retain(|t| !keys.contains(&t.key));
            Ok(())
        })?;
        Ok(EmptyOutput {})
    }

    /// ListTagsOfResource.
    pub fn list_tags_of_resource(
        &self,
        ns: &Namespace,
        input: ListTagsOfResourceInput,
    ) -> Result<ListTagsOfResourceOutput> {
        let arn = input.resource_arn.as_deref();
        let key = resolve_arn(ns, arn)?;
        let start = match input.next_token.as_deref() {
            None => 0,
            // Not observed from AWS: the token is ours (the index of the next tag), and any
            // other value is refused with this text.
            Some(t) => t
                .parse::<usize>()
                .map_err(|_| Error::validation(format!("Invalid NextToken: {t}")))?,
        };
        let meta = self
            .read(|txn| {
                let catalog = txn.open_table(CATALOG)?;
                Engine::load_meta(&catalog, &key)
            })?
            .ok_or_else(|| resource_not_found(arn.unwrap_or_default()))?;
        let tags: Vec<Tag> = meta
            .tags
            .iter()
            .skip(start)
            .take(TAGS_PAGE_SIZE)
            .cloned()
            .collect();
        let next = start.saturating_add(TAGS_PAGE_SIZE);
        Ok(ListTagsOfResourceOutput {
            tags,
            next_token: (next < meta.tags.len()).then(|| next.to_string()),
        })
    }

    /// DescribeLimits: AWS's default quotas.
    pub fn describe_limits(
        &self,
        _ns: &Namespace,
        _input: DescribeLimitsInput,
    ) -> Result<DescribeLimitsOutput> {
        Ok(DescribeLimitsOutput {
            account_max_read_capacity_units: 80_000,
            account_max_write_capacity_units: 80_000,
            table_max_read_capacity_units: 40_000,
            table_max_write_capacity_units: 40_000,
        })
    }

    /// DescribeEndpoints: the regional endpoint of the caller's region, cacheable for a day
    /// (API_DescribeEndpoints; the AWS SDKs' endpoint-discovery caches read
    /// `CachePeriodInMinutes`).
    pub fn describe_endpoints(
        &self,
        ns: &Namespace,
        _input: DescribeEndpointsInput,
    ) -> Result<DescribeEndpointsOutput> {
        Ok(DescribeEndpointsOutput {
            endpoints: vec![Endpoint {
                address: format!("dynamodb.{}.amazonaws.com", ns.region),
                cache_period_in_minutes: 1440,
            }],
        })
    }
}
