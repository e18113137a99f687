//! `POST /b`: beacons in, durable page-view snapshots out.
//!
//! The body is JSON sent as `text/plain` (no CORS preflight). Answers: `204`
//! stored durably (or dropped, for a crawler or headless browser), `400`
//! invalid (including an unknown site or an origin the site does not allow),
//! `413` too large, `429` rate-limited, `503` cannot store now (the client
//! retries). The client IP is read only by the rate limiter and never
//! stored, and the user agent is reduced to classes and dropped.

mod handler;
pub mod rate_limit;
pub mod site_config;
pub mod ua;
pub mod validate;

pub use handler::ingest;
