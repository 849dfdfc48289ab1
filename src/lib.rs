//! promptgate: finds secrets, personal data and internal names in AI prompts, sorts each prompt into
//! the three boxes (safe, caution, never), and redacts or blocks by policy.

pub mod ca;
pub mod cli;
pub mod engine;
pub mod fingerprint;
pub mod output;
pub mod policy;
pub mod proxy;
pub mod redact;
pub mod report;
pub mod types;

pub use engine::{Engine, Finding};
pub use policy::Policy;
pub use types::{Action, Category, Verdict};
