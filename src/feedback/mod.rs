//! The feedback prompt's rules, apart from any browser: when the prompt may
//! ask ([`policy`]) and what it says in each language ([`text`]). The client
//! draws it (`client/prompt/`); the collector never builds this module's
//! callers but shares its types.

pub mod policy;
pub mod text;
