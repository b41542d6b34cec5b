//! PartiQL for DynamoDB: ExecuteStatement, BatchExecuteStatement and ExecuteTransaction.
//!
//! Pipeline: `lexer` (tokens with byte spans) → `parser` (a [`Statement`], syntax errors as
//! AWS's `Statement wasn't well formed, can't be processed: …`, positioned errors as
//! `line:column:length`) → `compile` (literals and parameters to attribute values, WHERE to
//! the engine's [`crate::expr::Condition`], SET/REMOVE to its update actions, the key a
//! write pins) → `exec` (reads as Query or Scan, writes through PutItem, UpdateItem,
//! DeleteItem, transactions through TransactWriteItems/TransactGetItems). `render` writes
//! typed conditions and updates back as expression text with placeholders, so writes reuse
//! the item operations (and with them `Engine::store`, indexes and streams) unchanged.
//!
//! Error texts: AWS's where on record (moto's AWS-verified errors, AWS's developer guide),
//! otherwise DynamoDB Local 3.3.1's, which shares AWS's PartiQL front end.

mod ast;
mod compile;
mod exec;
mod lexer;
mod parser;
mod render;

pub use ast::{BinOp, Expr, IsWhat, Lit, Path, Returning, SelectList, Statement, UpdateClause};
pub use exec::{
    BatchExecuteStatementInput, BatchExecuteStatementOutput, BatchStatementError,
    BatchStatementRequest, BatchStatementResponse, ExecuteStatementInput, ExecuteStatementOutput,
    ExecuteTransactionInput, ExecuteTransactionOutput, MAX_BATCH_STATEMENTS,
    ParameterizedStatement, TransactionItem,
};
pub use parser::parse;

#[cfg(test)]
mod tests;
