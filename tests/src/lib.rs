//! Shared helpers for the end-to-end tests: a server on an ephemeral port and an
//! `aws_sdk_dynamodb::Client` pointed at it over real HTTP.
#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::sync::Arc;

use aws_credential_types::Credentials;
use aws_sdk_dynamodb::config::{BehaviorVersion, Region};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    StreamSpecification, StreamViewType,
};
use aws_sdk_dynamodbstreams::types::ShardIteratorType;
use ddb_engine::Engine;
use ddb_harness::{Router, ServerHandle};

/// A running in-memory server and a client for it.
pub struct TestServer {
    /// The server; dropped at the end of the test.
    pub handle: ServerHandle,
    /// A client with dummy credentials in `us-east-1`.
    pub client: aws_sdk_dynamodb::Client,
}

/// Starts a fresh in-memory server on 127.0.0.1 with an ephemeral port.
pub async fn start() -> TestServer {
    let engine = Engine::builder().seed(42).build().expect("engine");
    let router = Router::new(Arc::new(engine));
    let handle = ddb_harness::bind(SocketAddr::from(([127, 0, 0, 1], 0)), router)
        .await
        .expect("bind");
    let client = client_for(&handle.endpoint(), "AKIDTEST", "us-east-1");
    TestServer { handle, client }
}

/// A DynamoDB client for `endpoint` with the given access key and region, over plain HTTP.
pub fn client_for(endpoint: &str, access_key: &str, region: &str) -> aws_sdk_dynamodb::Client {
    let http = aws_smithy_http_client::Builder::new().build_http();
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .credentials_provider(Credentials::new(
            access_key,
            "secret",
            None,
            None,
            "ddb-tests",
        ))
        .endpoint_url(endpoint)
        .http_client(http)
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

/// A string attribute value.
pub fn s(v: &str) -> aws_sdk_dynamodb::types::AttributeValue {
    aws_sdk_dynamodb::types::AttributeValue::S(v.to_string())
}

/// Creates on-demand table `name` keyed by string `id`; returns its ARN.
pub async fn create_id_table(client: &aws_sdk_dynamodb::Client, name: &str) -> String {
    create_id_table_with(client, name, None).await
}

/// Creates on-demand table `name` keyed by string `id`, with a stream of view type `stream`
/// when given; returns its ARN.
pub async fn create_id_table_with(
    client: &aws_sdk_dynamodb::Client,
    name: &str,
    stream: Option<StreamViewType>,
) -> String {
    let mut req = client
        .create_table()
        .table_name(name)
        .attribute_definitions(attr_s("id"))
        .key_schema(hash_key("id"))
        .billing_mode(BillingMode::PayPerRequest);
    if let Some(view) = stream {
        req = req.stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(view)
                .build()
                .expect("stream specification"),
        );
    }
    let out = req.send().await.expect("create table");
    out.table_description()
        .and_then(|d| d.table_arn())
        .expect("table ARN")
        .to_string()
}

/// A string (`S`) attribute definition for `name`.
pub fn attr_s(name: &str) -> AttributeDefinition {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .expect("attribute definition")
}

/// A `HASH` key schema element for `name`.
pub fn hash_key(name: &str) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(KeyType::Hash)
        .build()
        .expect("key schema")
}

/// Every record of stream `arn`: each shard in DescribeStream's order, read from
/// `TRIM_HORIZON` until a GetRecords page is empty or has no next iterator.
pub async fn stream_records(
    streams: &aws_sdk_dynamodbstreams::Client,
    arn: &str,
) -> Vec<aws_sdk_dynamodbstreams::types::Record> {
    let desc = streams
        .describe_stream()
        .stream_arn(arn)
        .send()
        .await
        .expect("describe stream");
    let mut records = Vec::new();
    for shard in desc
        .stream_description()
        .expect("stream description")
        .shards()
    {
        let mut iterator = streams
            .get_shard_iterator()
            .stream_arn(arn)
            .shard_id(shard.shard_id().expect("shard id"))
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await
            .expect("get shard iterator")
            .shard_iterator;
        while let Some(it) = iterator {
            let page = streams
                .get_records()
                .shard_iterator(it)
                .send()
                .await
                .expect("get records");
            if page.records().is_empty() {
                break;
            }
            records.extend(page.records().iter().cloned());
            iterator = page.next_shard_iterator;
        }
    }
    records
}
