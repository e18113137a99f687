//! The feedback prompt's rules, apart from any browser: when it may ask
//! ([`policy`]), what it says in each language ([`words`]) and its markup
//! ([`markup`]). The browser client (`client::prompt`) puts it on the page.

pub mod markup;
pub mod policy;
pub mod words;
