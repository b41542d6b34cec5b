//! ddb-engine: a DynamoDB engine on redb.
//!
//! The engine is synchronous and knows nothing of HTTP: callers hand it typed inputs (serde
//! structs shaped like AWS's request JSON) and a [`Namespace`], and get typed outputs or an
//! [`Error`] carrying AWS's error type and message.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod backup_ops;
mod batch_ops;
mod bulk;
mod catalog;
mod clock;
mod codec;
mod contributor_insights;
mod engine;
mod error;
mod export_import;
pub mod expr;
mod global_tables;
mod group_commit;
mod ids;
mod index;
mod inspect;
mod item_ops;
mod keys;
mod kinesis;
mod legacy;
mod meta_cache;
mod meta_ops;
mod number;
pub mod partiql;
mod pitr;
mod precheck;
mod query_ops;
mod resource_policy;
mod s3dir;
mod snapshot;
mod streams;
mod table_ops;
mod transact_ops;
mod ttl;
mod value;
mod vector;
mod warm_throughput;
mod write_ops;

pub use backup_ops::{
    BackupArnInput, BackupDescription, BackupDescriptionOutput, BackupDetails, BackupKind,
    BackupMeta, BackupSummary, CreateBackupInput, CreateBackupOutput, IndexInfo, ListBackupsInput,
    ListBackupsOutput, MAX_LIST_BACKUPS, RestoreSummary, RestoreTableFromBackupInput,
    RestoreTableOutput, SourceTableDetails, SourceTableFeatureDetails, TableOverrides,
    ThroughputPair,
};
pub use batch_ops::{
    BatchGetItemInput, BatchGetItemOutput, BatchWriteItemInput, BatchWriteItemOutput,
    DeleteRequest, KeysAndAttributes, MAX_BATCH_GET_KEYS, MAX_BATCH_GET_RESPONSE,
    MAX_BATCH_WRITE_REQUESTS, PutRequest, TableMap, WriteRequest,
};
pub use bulk::{
    BULK_TOKEN_WINDOW_MS, BulkOperationArnInput, BulkOperationDescription, BulkOperationOutput,
    BulkOperationSummary, BulkOperationTableDetail, CancelBulkOperationOutput,
    DEFAULT_ITEMS_PER_SECOND, InputS3Configuration, ListBulkOperationsInput,
    ListBulkOperationsOutput, OutputS3Configuration, StartBulkPutItemsInput,
};
pub use catalog::{
    BillingMode, IndexDescription, OnDemandThroughput, Projection,
    ProvisionedThroughputDescription, StreamSpecification, TableDescription, TableMeta, Tag,
};
pub use clock::{Clock, ManualClock, SystemClock, Timestamp};
pub use contributor_insights::{
    ContributorInsightsSummary, DescribeContributorInsightsInput,
    DescribeContributorInsightsOutput, ListContributorInsightsInput, ListContributorInsightsOutput,
    MAX_LIST_CONTRIBUTOR_INSIGHTS, UpdateContributorInsightsInput, UpdateContributorInsightsOutput,
};
pub use engine::{Engine, EngineBuilder, Namespace};
pub use error::{CancellationReason, Error, Result};
pub use export_import::{
    CsvOptions, DescribeExportInput, DescribeImportInput, EXPORT_IMPORT_TOKEN_WINDOW_MS,
    ExportDescription, ExportDescriptionOutput, ExportSummary, ExportTableToPointInTimeInput,
    ImportSummary, ImportTableDescription, ImportTableInput, ImportTableOutput,
    IncrementalExportSpecification, InputFormatOptions, ListExportsInput, ListExportsOutput,
    ListImportsInput, ListImportsOutput, MAX_LIST_EXPORTS_IMPORTS, S3BucketSource,
};
pub use global_tables::{
    AutoScaling, AutoScalingPolicy, AutoScalingSettings, AutoScalingSettingsUpdate,
    CreateGlobalTableInput, DescribeGlobalTableSettingsOutput,
    DescribeTableReplicaAutoScalingOutput, GlobalMeta, GlobalTableDescription,
    GlobalTableNameInput, GlobalTableOutput, GlobalTableSummary, ListGlobalTablesInput,
    ListGlobalTablesOutput, Member, RegionNameItem, ReplicaDescription, ReplicaGroup,
    ReplicaSettingsDescription, TableAutoScalingDescription, UpdateGlobalTableInput,
    UpdateGlobalTableSettingsInput, UpdateTableReplicaAutoScalingInput, VERSION_2017, VERSION_2019,
    WitnessDescription,
};
pub use ids::IdSource;
pub use item_ops::{
    ConsumedCapacity, DeleteItemInput, ExpressionParams, GetItemInput, GetItemOutput,
    ItemCollectionMetrics, PutItemInput, UpdateItemInput, WriteItemOutput,
};
pub use keys::{AttributeDefinition, KeySchemaElement, KeyType, PrimaryKey};
pub use kinesis::{
    DEFAULT_PRECISION, DESTINATION_ACTIVE, DESTINATION_DISABLED,
    DescribeKinesisStreamingDestinationInput, DescribeKinesisStreamingDestinationOutput,
    KinesisDataStreamDestination, KinesisStreamingConfiguration, KinesisStreamingDestinationInput,
    KinesisStreamingDestinationOutput, UpdateKinesisStreamingDestinationInput,
    UpdateKinesisStreamingDestinationOutput,
};
pub use legacy::{
    AttributeValueUpdate, Condition as LegacyCondition, ExpectedAttributeValue, TYPE_MISMATCH,
    attribute_updates_to_update, attributes_to_get_projection, conditions_to_filter,
    expected_to_condition, key_conditions, update_error,
};
pub use meta_ops::{
    DescribeEndpointsInput, DescribeEndpointsOutput, DescribeLimitsInput, DescribeLimitsOutput,
    EmptyOutput, Endpoint, ListTagsOfResourceInput, ListTagsOfResourceOutput, MAX_TAGS, TagInput,
    TagResourceInput, UntagResourceInput, tagging_access_denied,
};
pub use number::{Number, NumberError};
pub use pitr::{
    ContinuousBackupsDescription, ContinuousBackupsOutput, DescribeContinuousBackupsInput,
    MAX_RECOVERY_PERIOD_DAYS, PitrSettings, PointInTimeRecoveryDescription,
    PointInTimeRecoverySpecification, RestoreTableToPointInTimeInput, UpdateContinuousBackupsInput,
};
pub use precheck::precheck_request;
pub use query_ops::{
    MAX_PAGE_BYTES, QueryInput, QueryOutput, ReadCapacity, ScanInput, ScanOutput, Units,
};
pub use resource_policy::{
    DeleteResourcePolicyInput, GetResourcePolicyInput, GetResourcePolicyOutput, MAX_POLICY_BYTES,
    PutResourcePolicyInput, RevisionIdOutput,
};
pub use s3dir::{S3Dir, S3Object, gunzip};
pub use streams::{
    DescribeStreamInput, DescribeStreamOutput, GetRecordsInput, GetRecordsOutput,
    GetShardIteratorInput, GetShardIteratorOutput, ITERATOR_LIFETIME_MILLIS, Identity,
    ListStreamsInput, ListStreamsOutput, MAX_GET_RECORDS_LIMIT, Record, SHARD_ROLLOVER_MILLIS,
    STREAM_RETENTION_MILLIS, SequenceNumberRange, Shard, ShardFilter, StreamDescription,
    StreamRecord, StreamSummary, StreamsError, StreamsResult,
};
pub use table_ops::{
    CreateTableInput, DescribeTableOutput, ListTablesInput, ListTablesOutput,
    TableDescriptionOutput, TableNameInput, UpdateTableInput,
};
pub use transact_ops::{
    ConditionCheck, Delete, Get, IDEMPOTENCY_WINDOW_MS, ItemResponse, MAX_TRANSACT_ITEMS,
    MAX_TRANSACTION_PAYLOAD, Put, TransactGetItem, TransactGetItemsInput, TransactGetItemsOutput,
    TransactWriteItem, TransactWriteItemsInput, TransactWriteItemsOutput, Update,
};
pub use ttl::{
    DescribeTimeToLiveOutput, TTL_COOLDOWN_MILLIS, TTL_MAX_AGE_SECONDS, TimeToLiveDescription,
    TimeToLiveSpecification, UpdateTimeToLiveInput, UpdateTimeToLiveOutput,
};
pub use value::{
    AttributeValue, Item, MAX_ITEM_SIZE, MAX_NESTING, ScalarType, check_nesting, item_size,
    lenient_bool,
};
pub use vector::{
    DeleteVectorIndexAction, DistanceFunction, MAX_DIMENSIONS, MAX_TOP_K, SearchResultItem,
    SearchSchemaElement, SearchSchemaElementType, SearchVectorsInput, SearchVectorsOutput,
    VectorAttributeDefinition, VectorCapacity, VectorIndex, VectorIndexDescription,
    VectorIndexUpdate,
};
pub use warm_throughput::{
    ON_DEMAND_INITIAL, Warm, WarmThroughputDescription, WarmThroughputInput,
};
