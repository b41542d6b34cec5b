//! ddb-conformance: checks the emulator against what real DynamoDB does.
//!
//! The first source is the dynalite test suite's expectations (`data/dynalite/`), which its
//! author validated against live DynamoDB: 6,407 requests with the error type and message AWS
//! returns. [`dynalite`] replays them through the harness [`Router`](ddb_harness::Router) and
//! reports, per operation and kind, how many the emulator meets.
//!
//! The second is cassettes recorded by `ddb-harness proxy` in `recordings/`: [`cassette`]
//! sends every recorded exchange to a fresh engine and compares the answers. The third is a
//! live reference ([`live`]), compared request by request after [`diff::normalize`].
//! [`report`] puts the first two together per operation and feature.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod cassette;
pub mod diff;
pub mod dynalite;
pub mod live;
pub mod report;
pub mod wire;
