//! ddb-harness: a DynamoDB emulator server and test harness over [`ddb_engine`].
//!
//! - [`protocol::Router`] turns DynamoDB JSON 1.0 requests into engine calls.
//! - [`server::bind`] serves a router over HTTP/1.1 on tokio.
//! - [`Fixture`] gives each test a fresh engine and an in-process `aws_sdk_dynamodb::Client`;
//!   [`ddb_test`] wraps an `async fn` test in one.
//! - [`Fixture::on_stream`] feeds a table's stream records to handlers in Lambda's event shape.
//! - [`Faults`] injects AWS's throttling and server errors, or latency, into chosen requests.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate self as ddb_harness;

pub mod background;
pub mod cassette;
pub mod definitions;
mod faults;
pub mod fixture;
pub mod in_process;
pub mod protocol;
pub mod proxy;
pub mod replay;
pub mod server;
pub mod stream_handler;

#[doc(hidden)]
pub mod __private;

pub use ddb_engine as engine;
pub use ddb_macros::ddb_test;
pub use faults::{
    Fault, FaultRule, Faults, FaultsError, OperationClass, RuleId, RuleStats, Trigger,
};
pub use fixture::{Fixture, FixtureBuilder, FixtureError, TARGET_ENV, Target};
pub use hyper::http;
pub use protocol::Router;
pub use server::{ServerHandle, bind};
pub use stream_handler::{
    DrainReport, DynamoDbEvent, EventIdentity, EventRecord, FailedBatch, StartingPosition,
    StreamHandlerConfig, StreamHandlerError,
};
