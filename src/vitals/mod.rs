//! Pure rules that give measured values their meaning, shared by the client
//! and the collector. Nothing here touches a browser or a store.

pub mod cls;
pub mod frustration;
pub mod inp;
pub mod leave;
pub mod navigations;
pub mod script;
pub mod selector;
pub mod thresholds;
pub mod view;
