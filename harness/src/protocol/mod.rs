//! Request-level protocol checks that DynamoDB's front end ("Coral") performs before an
//! operation runs: JSON type checks (`SerializationException`) and model constraints
//! (`ValidationException`), driven by the official service models in `harness/model/`.

pub mod pattern;
pub mod validate;

pub use validate::{ServiceModel, Violation};
