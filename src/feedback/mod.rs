//! The feedback prompt's rules, apart from any browser: when the prompt may
//! ask ([`policy`]). The client draws it and chooses its words
//! (`www/client/prompt.js`, `www/client/words.js`).

pub mod policy;
