//! The engine's one error type: every failure carries AWS's error type and exact message.
//!
//! Only the harness turns an [`Error`] into an HTTP status and a `__type`; the engine decides
//! *which* AWS error happened and *what it says*.

use crate::value::Item;

/// An AWS-shaped failure of an engine operation.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `ValidationException`: the request is malformed or violates a rule.
    #[error("{0}")]
    Validation(String),
    /// `SerializationException`: the request body does not match the wire shapes.
    #[error("{0}")]
    Serialization(String),
    /// `ResourceNotFoundException`: the table (or other resource) does not exist.
    #[error("{0}")]
    ResourceNotFound(String),
    /// `ResourceInUseException`: the resource exists or is busy.
    #[error("{0}")]
    ResourceInUse(String),
    /// `ConditionalCheckFailedException`, with the old item when
    /// `ReturnValuesOnConditionCheckFailure` asked for it.
    #[error("{message}")]
    ConditionalCheckFailed {
        /// AWS's message.
        message: String,
        /// The item as it was, when requested.
        item: Option<Item>,
    },
    /// `LimitExceededException`.
    #[error("{0}")]
    LimitExceeded(String),
    /// `ItemCollectionSizeLimitExceededException`: a write would grow an item collection of a
    /// table with local secondary indexes past 10 GB.
    #[error("{0}")]
    ItemCollectionSizeLimitExceeded(String),
    /// `InternalServerError`: a storage failure; the request may be retried.
    #[error("{0}")]
    Internal(String),
    /// `TransactionCanceledException`: a transaction was not applied; `reasons` has one entry
    /// per action, in request order.
    #[error("{message}")]
    TransactionCanceled {
        /// AWS's message, listing the reason codes.
        message: String,
        /// `CancellationReasons`.
        reasons: Vec<CancellationReason>,
    },
    /// `IdempotentParameterMismatchException`: a `ClientRequestToken` was reused for a different
    /// request within its idempotency window.
    #[error("{0}")]
    IdempotentParameterMismatch(String),
    /// `TransactionInProgressException`: a request with the same `ClientRequestToken` is still
    /// running. Never produced while writes are serialized; kept for fault injection.
    #[error("{0}")]
    TransactionInProgress(String),
    /// `BackupNotFoundException`: no backup has the given ARN.
    #[error("{0}")]
    BackupNotFound(String),
    /// `TableAlreadyExistsException`: a restore's target table exists.
    #[error("{0}")]
    TableAlreadyExists(String),
    /// `TableNotFoundException`: the table named by a backup or PITR request does not exist.
    #[error("{0}")]
    TableNotFound(String),
    /// `PointInTimeRecoveryUnavailableException`: point-in-time recovery is not enabled.
    #[error("{0}")]
    PointInTimeRecoveryUnavailable(String),
    /// `InvalidRestoreTimeException`: the restore time is outside the recovery window.
    #[error("{0}")]
    InvalidRestoreTime(String),
    /// `PolicyNotFoundException`: no resource policy, or not the expected revision.
    #[error("{0}")]
    PolicyNotFound(String),
    /// `DuplicateItemException`: a PartiQL INSERT names the key of an existing item.
    #[error("{0}")]
    DuplicateItem(String),
    /// `InvalidExportTimeException`: the export time is outside the PITR window.
    #[error("{0}")]
    InvalidExportTime(String),
    /// `ExportConflictException`: a `ClientToken` was reused for a different export.
    #[error("{0}")]
    ExportConflict(String),
    /// `ExportNotFoundException`: no export has the given ARN.
    #[error("{0}")]
    ExportNotFound(String),
    /// `ImportNotFoundException`: no import has the given ARN.
    #[error("{0}")]
    ImportNotFound(String),
    /// `ImportConflictException`: a `ClientToken` was reused for a different import.
    #[error("{0}")]
    ImportConflict(String),
    /// `GlobalTableAlreadyExistsException`: CreateGlobalTable named an existing global table.
    #[error("{0}")]
    GlobalTableAlreadyExists(String),
    /// `GlobalTableNotFoundException`: no version 2017.11.29 global table has the name.
    #[error("{0}")]
    GlobalTableNotFound(String),
    /// `ReplicaAlreadyExistsException`: the region already holds a replica.
    #[error("{0}")]
    ReplicaAlreadyExists(String),
    /// `ReplicaNotFoundException`: the region holds no replica of the global table.
    #[error("{0}")]
    ReplicaNotFound(String),
    /// `IndexNotFoundException`: the global table has no such index.
    #[error("{0}")]
    IndexNotFound(String),
}

/// Why one action of a cancelled transaction failed, or `Code: "None"` when it did not.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CancellationReason {
    /// `None`, `ConditionalCheckFailed`, `ValidationError`, `TransactionConflict`, ….
    pub code: String,
    /// AWS's message for the failure; absent for `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The item as it was, for a failed condition with `ReturnValuesOnConditionCheckFailure`
    /// `ALL_OLD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<Item>,
}

impl Error {
    /// AWS's short error type name, e.g. `ValidationException`.
    pub fn aws_type(&self) -> &'static str {
        match self {
            Error::Validation(_) => "ValidationException",
            Error::Serialization(_) => "SerializationException",
            Error::ResourceNotFound(_) => "ResourceNotFoundException",
            Error::ResourceInUse(_) => "ResourceInUseException",
            Error::ConditionalCheckFailed { .. } => "ConditionalCheckFailedException",
            Error::LimitExceeded(_) => "LimitExceededException",
            Error::ItemCollectionSizeLimitExceeded(_) => "ItemCollectionSizeLimitExceededException",
            Error::Internal(_) => "InternalServerError",
            Error::TransactionCanceled { .. } => "TransactionCanceledException",
            Error::IdempotentParameterMismatch(_) => "IdempotentParameterMismatchException",
            Error::TransactionInProgress(_) => "TransactionInProgressException",
            Error::DuplicateItem(_) => "DuplicateItemException",
            Error::BackupNotFound(_) => "BackupNotFoundException",
            Error::TableAlreadyExists(_) => "TableAlreadyExistsException",
            Error::TableNotFound(_) => "TableNotFoundException",
            Error::PointInTimeRecoveryUnavailable(_) => "PointInTimeRecoveryUnavailableException",
            Error::InvalidRestoreTime(_) => "InvalidRestoreTimeException",
            Error::PolicyNotFound(_) => "PolicyNotFoundException",
            Error::InvalidExportTime(_) => "InvalidExportTimeException",
            Error::ExportConflict(_) => "ExportConflictException",
            Error::ExportNotFound(_) => "ExportNotFoundException",
            Error::ImportNotFound(_) => "ImportNotFoundException",
            Error::ImportConflict(_) => "ImportConflictException",
            Error::GlobalTableAlreadyExists(_) => "GlobalTableAlreadyExistsException",
            Error::GlobalTableNotFound(_) => "GlobalTableNotFoundException",
            Error::ReplicaAlreadyExists(_) => "ReplicaAlreadyExistsException",
            Error::ReplicaNotFound(_) => "ReplicaNotFoundException",
            Error::IndexNotFound(_) => "IndexNotFoundException",
        }
    }

    /// Shorthand for a `ValidationException`.
    pub fn validation(message: impl Into<String>) -> Self {
        Error::Validation(message.into())
    }

    /// A `ValidationException` prefixed the way AWS reports invalid parameter values.
    pub fn invalid_parameter(message: impl std::fmt::Display) -> Self {
        Error::Validation(format!(
            "One or more parameter values were invalid: {message}"
        ))
    }

    /// The `ResourceNotFoundException` AWS answers for a missing table.
    pub fn table_not_found() -> Self {
        Error::ResourceNotFound("Requested resource not found".into())
    }
}

impl From<redb::Error> for Error {
    fn from(e: redb::Error) -> Self {
        Error::Internal(format!("storage error: {e}"))
    }
}

macro_rules! from_redb {
    ($($t:ty),*) => {$(
        impl From<$t> for Error {
            fn from(e: $t) -> Self {
                Error::from(redb::Error::from(e))
            }
        }
    )*};
}
from_redb!(
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError
);

/// Result alias for engine operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;
