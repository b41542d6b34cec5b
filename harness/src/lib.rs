//! ddb-harness: a DynamoDB emulator server and test harness over [`ddb_engine`].
//!
//! - [`protocol::Router`] turns DynamoDB JSON 1.0 requests into engine calls.
//! - [`server::bind`] serves a router over HTTP/1.1 on tokio.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate self as ddb_harness;

pub mod protocol;
pub mod server;

pub use ddb_engine as engine;
pub use hyper::http;
pub use protocol::Router;
pub use server::{ServerHandle, bind};
