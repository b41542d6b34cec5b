//! Data-driven tests of the expression API.
