//! `POST /b`: beacons in, durable page-view snapshots out.
//!
//! The body is JSON sent as `text/plain` (no CORS preflight). Answers: `204`
//! stored durably, `400` invalid (including an unknown site or an origin the
//! site does not allow), `413` too large, `503` cannot store now (the client
//! retries). The client IP is never read here, and the user agent is reduced
//! to classes and dropped.

mod handler;
pub mod ua;
pub mod validate;

pub use handler::ingest;
