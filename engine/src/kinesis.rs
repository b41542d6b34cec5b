//! Kinesis Data Streams destinations of a table: EnableKinesisStreamingDestination,
//! DisableKinesisStreamingDestination, DescribeKinesisStreamingDestination and
//! UpdateKinesisStreamingDestination.
//!
//! **Nothing is delivered.** The engine only records which Kinesis streams a table is said to
//! stream to, with their status and `ApproximateCreationDateTimePrecision`; no change record
//! is ever sent anywhere. There are no transitional states: a destination is `ACTIVE` as soon
//! as it is enabled and `DISABLED` as soon as it is disabled (AWS passes through `ENABLING` and
//! `DISABLING` first), and the Enable/Disable responses report that resulting status.
//!
//! Layout in redb: `kinesis_destinations`: the table's `TableId` → the destinations as JSON, in
//! order of first enabling. Keying by `TableId` means a table deleted and created again under
//! the same name starts with no destinations.
//!
//! The ValidationException texts here are ours until a recording shows AWS's.

use redb::{ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use crate::catalog::TableMeta;
use crate::engine::{CATALOG, Engine, Namespace};
use crate::error::{Error, Result};

const DESTINATIONS: TableDefinition<&str, &str> = TableDefinition::new("kinesis_destinations");

/// `DestinationStatus` of an enabled destination.
pub const DESTINATION_ACTIVE: &str = "ACTIVE";

/// `DestinationStatus` of a disabled destination.
pub const DESTINATION_DISABLED: &str = "DISABLED";

/// The precision used when none is given.
pub const DEFAULT_PRECISION: &str = "MILLISECOND";

/// `EnableKinesisStreamingConfiguration` / `UpdateKinesisStreamingConfiguration`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KinesisStreamingConfiguration {
    /// `MILLISECOND` or `MICROSECOND`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approximate_creation_date_time_precision: Option<String>,
}

/// Enable/DisableKinesisStreamingDestination request.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KinesisStreamingDestinationInput {
    /// The table's name or ARN.
    pub table_name: String,
    /// The Kinesis data stream's ARN.
    pub stream_arn: String,
    /// Options (only Enable uses them).
    #[serde(default)]
    pub enable_kinesis_streaming_configuration: Option<KinesisStreamingConfiguration>,
}

/// Enable/DisableKinesisStreamingDestination response.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KinesisStreamingDestinationOutput {
    /// The table's name.
    pub table_name: String,
    /// The Kinesis data stream's ARN.
    pub stream_arn: String,
    /// `ACTIVE` or `DISABLED`.
    pub destination_status: String,
    /// The destination's configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_kinesis_streaming_configuration: Option<KinesisStreamingConfiguration>,
}

/// UpdateKinesisStreamingDestination request.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateKinesisStreamingDestinationInput {
    /// The table's name or ARN.
    pub table_name: String,
    /// The Kinesis data stream's ARN.
    pub stream_arn: String,
    /// The new configuration.
    #[serde(default)]
    pub update_kinesis_streaming_configuration: Option<KinesisStreamingConfiguration>,
}

/// UpdateKinesisStreamingDestination response.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateKinesisStreamingDestinationOutput {
    /// The table's name.
    pub table_name: String,
    /// The Kinesis data stream's ARN.
    pub stream_arn: String,
    /// The destination's status (`ACTIVE`).
    pub destination_status: String,
    /// The configuration now in force.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_kinesis_streaming_configuration: Option<KinesisStreamingConfiguration>,
}

/// DescribeKinesisStreamingDestination request.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeKinesisStreamingDestinationInput {
    /// The table's name or ARN.
    pub table_name: String,
}

/// One destination (`KinesisDataStreamDestination`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KinesisDataStreamDestination {
    /// The Kinesis data stream's ARN.
    pub stream_arn: String,
    /// `ACTIVE` or `DISABLED`.
    pub destination_status: String,
    /// A human-readable note on the status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_status_description: Option<String>,
    /// `MILLISECOND` or `MICROSECOND`.
    pub approximate_creation_date_time_precision: String,
}

/// DescribeKinesisStreamingDestination response.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeKinesisStreamingDestinationOutput {
    /// The table's name.
    pub table_name: String,
    /// Every destination ever enabled for the table, in order of first enabling.
    pub kinesis_data_stream_destinations: Vec<KinesisDataStreamDestination>,
}

fn table_not_found(name: &str) -> Error {
    Error::ResourceNotFound(format!(
        "Requested resource not found: Table: {name} not found"
    ))
}

/// Checks `arn:PARTITION:kinesis:REGION:ACCOUNT:stream/NAME`.
fn check_stream_arn(arn: &str) -> Result<()> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "kinesis"
        && !parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && parts[5]
            .strip_prefix("stream/")
            .is_some_and(|n| !n.is_empty());
    if ok {
        Ok(())
    } else {
        Err(Error::validation(format!("Invalid StreamArn: {arn}")))
    }
}

fn check_precision(config: Option<&KinesisStreamingConfiguration>) -> Result<Option<String>> {
    match config.and_then(|c| c.approximate_creation_date_time_precision.as_deref()) {
        None => Ok(None),
        Some(p @ ("MILLISECOND" | "MICROSECOND")) => Ok(Some(p.to_string())),
        Some(p) => Err(Error::validation(format!(
            "1 validation error detected: Value '{p}' at \
             'approximateCreationDateTimePrecision' failed to satisfy constraint: Member must \
             satisfy enum value set: [MILLISECOND, MICROSECOND]"
        ))),
    }
}

fn decode(raw: Option<&str>) -> Result<Vec<KinesisDataStreamDestination>> {
    match raw {
        None => Ok(Vec::new()),
        Some(s) => serde_json::from_str(s)
            .map_err(|e| Error::Internal(format!("kinesis destinations are corrupt: {e}"))),
    }
}

impl Engine {
    /// Loads the table and its destinations, lets `f` change them and stores the result.
    fn change_destinations<R>(
        &self,
        ns: &Namespace,
        table: &str,
        f: impl FnOnce(&TableMeta, &mut Vec<KinesisDataStreamDestination>) -> Result<R>,
    ) -> Result<R> {
        let key = ns.table_key(table);
        self.write(|txn| {
            let meta = {
                let catalog = txn.open_table(CATALOG)?;
                Engine::load_meta(&catalog, &key)?
            }
            .ok_or_else(|| table_not_found(table))?;
            let mut dests = txn.open_table(DESTINATIONS)?;
            let mut list = decode(
                dests
                    .get(meta.table_id.as_str())?
                    .map(|v| v.value().to_string())
                    .as_deref(),
            )?;
            let out = f(&meta, &mut list)?;
            let json = serde_json::to_string(&list)
                .map_err(|e| Error::Internal(format!("cannot encode destinations: {e}")))?;
            dests.insert(meta.table_id.as_str(), json.as_str())?;
            Ok(out)
        })
    }

    /// EnableKinesisStreamingDestination: records `StreamArn` as an `ACTIVE` destination of
    /// the table. Nothing is delivered to it. Enabling a destination that is already `ACTIVE`
    /// is a ValidationException; a `DISABLED` one becomes `ACTIVE` again.
    pub fn enable_kinesis_streaming_destination(
        &self,
        ns: &Namespace,
        input: KinesisStreamingDestinationInput,
    ) -> Result<KinesisStreamingDestinationOutput> {
        check_stream_arn(&input.stream_arn)?;
        let precision = check_precision(input.enable_kinesis_streaming_configuration.as_ref())?
            .unwrap_or_else(|| DEFAULT_PRECISION.to_string());
        let arn = input.stream_arn.clone();
        self.change_destinations(ns, &input.table_name, |meta, list| {
            match list.iter_mut().find(|d| d.stream_arn == arn) {
                Some(d) if d.destination_status == DESTINATION_ACTIVE => {
                    return Err(Error::validation(format!(
                        "Table is already streaming to the destination: {arn}"
                    )));
                }
                Some(d) => {
                    d.destination_status = DESTINATION_ACTIVE.to_string();
                    d.destination_status_description = None;
                    d.approximate_creation_date_time_precision = precision.clone();
                }
                None => list.push(KinesisDataStreamDestination {
                    stream_arn: arn.clone(),
                    destination_status: DESTINATION_ACTIVE.to_string(),
                    destination_status_description: None,
                    approximate_creation_date_time_precision: precision.clone(),
                }),
            }
            Ok(KinesisStreamingDestinationOutput {
                table_name: meta.name.clone(),
                stream_arn: arn.clone(),
                destination_status: DESTINATION_ACTIVE.to_string(),
                enable_kinesis_streaming_configuration: Some(KinesisStreamingConfiguration {
                    approximate_creation_date_time_precision: Some(precision.clone()),
                }),
            })
        })
    }

    /// DisableKinesisStreamingDestination: marks an `ACTIVE` destination `DISABLED` (it stays
    /// listed by Describe). A destination that is not `ACTIVE` is a ValidationException.
    pub fn disable_kinesis_streaming_destination(
        &self,
        ns: &Namespace,
        input: KinesisStreamingDestinationInput,
    ) -> Result<KinesisStreamingDestinationOutput> {
        check_stream_arn(&input.stream_arn)?;
        let arn = input.stream_arn.clone();
        self.change_destinations(ns, &input.table_name, |meta, list| {
            let d = list
                .iter_mut()
                .find(|d| d.stream_arn == arn && d.destination_status == DESTINATION_ACTIVE)
                .ok_or_else(|| {
                    Error::validation(format!("Table is not streaming to the destination: {arn}"))
                })?;
            d.destination_status = DESTINATION_DISABLED.to_string();
            Ok(KinesisStreamingDestinationOutput {
                table_name: meta.name.clone(),
                stream_arn: arn.clone(),
                destination_status: DESTINATION_DISABLED.to_string(),
                enable_kinesis_streaming_configuration: Some(KinesisStreamingConfiguration {
                    approximate_creation_date_time_precision: Some(
                        d.approximate_creation_date_time_precision.clone(),
                    ),
                }),
            })
        })
    }

    /// UpdateKinesisStreamingDestination: changes the precision of an `ACTIVE` destination.
    /// A destination that is not `ACTIVE`, or a request without a precision, is a
    /// ValidationException.
    pub fn update_kinesis_streaming_destination(
        &self,
        ns: &Namespace,
        input: UpdateKinesisStreamingDestinationInput,
    ) -> Result<UpdateKinesisStreamingDestinationOutput> {
        check_stream_arn(&input.stream_arn)?;
        let precision = check_precision(input.update_kinesis_streaming_configuration.as_ref())?
            .ok_or_else(|| {
                Error::validation(
                    "UpdateKinesisStreamingConfiguration must specify \
                     ApproximateCreationDateTimePrecision",
                )
            })?;
        let arn = input.stream_arn.clone();
        self.change_destinations(ns, &input.table_name, |meta, list| {
            let d = list
                .iter_mut()
                .find(|d| d.stream_arn == arn && d.destination_status == DESTINATION_ACTIVE)
                .ok_or_else(|| {
                    Error::validation(format!("Table is not streaming to the destination: {arn}"))
                })?;
            d.approximate_creation_date_time_precision = precision.clone();
            Ok(UpdateKinesisStreamingDestinationOutput {
                table_name: meta.name.clone(),
                stream_arn: arn.clone(),
                destination_status: DESTINATION_ACTIVE.to_string(),
                update_kinesis_streaming_configuration: Some(KinesisStreamingConfiguration {
                    approximate_creation_date_time_precision: Some(precision.clone()),
                }),
            })
        })
    }

    /// DescribeKinesisStreamingDestination: the table's destinations with their statuses.
    pub fn describe_kinesis_streaming_destination(
        &self,
        ns: &Namespace,
        input: DescribeKinesisStreamingDestinationInput,
    ) -> Result<DescribeKinesisStreamingDestinationOutput> {
        let key = ns.table_key(&input.table_name);
        self.read(|txn| {
            let meta = {
                let catalog = txn.open_table(CATALOG)?;
                Engine::load_meta(&catalog, &key)?
            }
            .ok_or_else(|| table_not_found(&input.table_name))?;
            let list = match txn.open_table(DESTINATIONS) {
                Ok(t) => decode(
                    t.get(meta.table_id.as_str())?
                        .map(|v| v.value().to_string())
                        .as_deref(),
                )?,
                Err(redb::TableError::TableDoesNotExist(_)) => Vec::new(),
                Err(e) => return Err(e.into()),
            };
            Ok(DescribeKinesisStreamingDestinationOutput {
                table_name: meta.name,
                kinesis_data_stream_destinations: list,
            })
        })
    }
}
