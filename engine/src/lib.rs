//! ddb-engine: a DynamoDB engine on redb.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod error;
pub mod expr;
mod number;
mod value;

pub use error::{Error, Result};
pub use number::{Number, NumberError};
pub use value::{AttributeValue, Item, MAX_ITEM_SIZE, ScalarType, item_size};
