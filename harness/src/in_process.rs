//! An `aws_sdk_dynamodb::Client` wired to a [`Router`] in the same process: requests go
//! through the SDK's real serialization, signing and error parsing, then straight into
//! [`Router::handle`] — no socket, no port, no credentials to set up.

use aws_credential_types::Credentials;
use aws_sdk_dynamodb::config::{BehaviorVersion, Region};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use bytes::Bytes;

use crate::protocol::Router;

/// A smithy HTTP client that answers from a [`Router`].
#[derive(Debug, Clone)]
pub struct InProcessHttpClient {
    router: Router,
}

impl InProcessHttpClient {
    /// A client over `router`.
    pub fn new(router: Router) -> Self {
        InProcessHttpClient { router }
    }

    fn answer(&self, request: HttpRequest) -> Result<HttpResponse, ConnectorError> {
        let body = request
            .body()
            .bytes()
            .map(Bytes::copy_from_slice)
            .unwrap_or_default();
        let request = request
            .try_into_http1x()
            .map_err(|e| ConnectorError::other(Box::new(e), None))?
            .map(|_| body);
        let response = self.router.handle(request);
        let (parts, body) = response.into_parts();
        let response = hyper::http::Response::from_parts(parts, SdkBody::from(body));
        HttpResponse::try_from(response).map_err(|e| ConnectorError::other(Box::new(e), None))
    }
}

impl HttpConnector for InProcessHttpClient {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let result = self.answer(request);
        HttpConnectorFuture::new(async move { result })
    }
}

impl HttpClient for InProcessHttpClient {
    fn http_connector(
        &self,
        _settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }
}

/// A DynamoDB client answering from `router`, as `access_key` in `region`.
pub fn client(router: Router, access_key: &str, region: &str) -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .credentials_provider(Credentials::new(
            access_key,
            "ddb-harness",
            None,
            None,
            "ddb-harness",
        ))
        .endpoint_url("http://in-process.ddb-harness.invalid")
        .http_client(InProcessHttpClient::new(router))
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

/// A DynamoDB Streams client answering from `router`, as `access_key` in `region`.
pub fn streams_client(
    router: Router,
    access_key: &str,
    region: &str,
) -> aws_sdk_dynamodbstreams::Client {
    streams_client_over(
        InProcessHttpClient::new(router),
        "http://in-process.ddb-harness.invalid",
        access_key,
        region,
    )
}

/// A DynamoDB Streams client sending to `endpoint` through `http`, as `access_key` in
/// `region` (any secret: neither the router nor local endpoints check it by default).
pub(crate) fn streams_client_over(
    http: impl HttpClient + 'static,
    endpoint: &str,
    access_key: &str,
    region: &str,
) -> aws_sdk_dynamodbstreams::Client {
    let config = aws_sdk_dynamodbstreams::Config::builder()
        .behavior_version(aws_sdk_dynamodbstreams::config::BehaviorVersion::latest())
        .region(aws_sdk_dynamodbstreams::config::Region::new(
            region.to_string(),
        ))
        .credentials_provider(Credentials::new(
            access_key,
            "ddb-harness",
            None,
            None,
            "ddb-harness",
        ))
        .endpoint_url(endpoint)
        .http_client(http)
        .build();
    aws_sdk_dynamodbstreams::Client::from_conf(config)
}
