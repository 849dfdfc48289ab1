//! Command-line front ends.

pub mod scan;
