//! Shared helpers for the end-to-end tests: a server on an ephemeral port and an
//! `aws_sdk_dynamodb::Client` pointed at it over real HTTP.
#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::sync::Arc;

use aws_credential_types::Credentials;
use aws_sdk_dynamodb::config::{BehaviorVersion, Region};
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
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    };
    let out = client
        .create_table()
        .table_name(name)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("id")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("attribute definition"),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("id")
                .key_type(KeyType::Hash)
                .build()
                .expect("key schema"),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect("create table");
    out.table_description()
        .and_then(|d| d.table_arn())
        .expect("table ARN")
        .to_string()
}
