//! Per-client rate limiting of `POST /b` (tower_governor, a keyed GCRA
//! limiter): a client that sends faster than `rate_limit_per_second`
//! beacons, after a burst of `rate_limit_burst`, is answered `429` with
//! `Retry-After`. The layer counts each request as one beacon before its
//! body is read; the handler charges a batch's other beacons
//! ([`BeaconLimit::charge`]), so a batch of 50 counts 50.
//!
//! The client is its IP address (an IPv6 address by its /64, which is what
//! one household or phone gets), read from the socket or, behind a trusted
//! reverse proxy, from the last `X-Forwarded-For` hop. It is held only in the
//! limiter's memory, forgotten once the client is idle, and never stored.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::response::IntoResponse;
use tower_governor::governor::GovernorConfigBuilder;
use tower_governor::key_extractor::KeyExtractor;
use tower_governor::{GovernorError, GovernorLayer};

use crate::config::Config;
use crate::error::AppError;
use crate::metrics::Metrics;
use crate::workers::Workers;

/// How often idle clients are dropped from the limiter's memory.
const FORGET_IDLE_EVERY: Duration = Duration::from_secs(60);

/// Who a request comes from, for rate limiting only.
#[derive(Debug, Clone, Copy)]
pub struct ClientKey {
    /// Read the client from `X-Forwarded-For` (only behind a trusted proxy).
    pub trust_forwarded_for: bool,
}

impl ClientKey {
    /// The client of a request with `headers` from `peer`.
    pub fn of(&self, headers: &axum::http::HeaderMap, peer: Option<SocketAddr>) -> Option<IpAddr> {
        let forwarded = || {
            let header = headers.get("x-forwarded-for")?.to_str().ok()?;
            header.rsplit(',').next()?.trim().parse::<IpAddr>().ok()
        };
        let peer = || peer.map(|p| p.ip());
        let ip = if self.trust_forwarded_for { forwarded().or_else(peer) } else { peer() };
        ip.map(client_prefix)
    }
}

/// The peer's address of a request, as the server puts it there
/// (`ConnectInfo`, `serve.rs`).
pub fn peer(extensions: &axum::http::Extensions) -> Option<SocketAddr> {
    extensions.get::<ConnectInfo<SocketAddr>>().map(|info| info.0)
}

impl KeyExtractor for ClientKey {
    type Key = IpAddr;

    fn extract<T>(&self, request: &Request<T>) -> Result<IpAddr, GovernorError> {
        self.of(request.headers(), peer(request.extensions())).ok_or(GovernorError::UnableToExtractKey)
    }
}

/// The limiter's layer for `POST /b`, and the limiter itself, shared, for
/// the beacons of a batch beyond its first.
#[derive(Clone)]
pub struct BeaconLimit {
    /// Counts each request as one beacon, before its body is read.
    pub layer: GovernorLayer<ClientKey, governor::middleware::NoOpMiddleware, Body>,
    limiter: tower_governor::governor::SharedRateLimiter<IpAddr, governor::middleware::NoOpMiddleware>,
    key: ClientKey,
}

impl BeaconLimit {
    /// Charges a request's `beacons` beyond the one its layer counted;
    /// `Err(RateLimited)` when the client is over its rate (the whole
    /// request is refused: nothing of it is stored).
    pub fn charge(
        &self,
        headers: &axum::http::HeaderMap,
        peer: Option<SocketAddr>,
        beacons: usize,
    ) -> Result<(), AppError> {
        let Some(more) = NonZeroU32::new(u32::try_from(beacons.saturating_sub(1)).unwrap_or(u32::MAX)) else {
            return Ok(());
        };
        let Some(key) = self.key.of(headers, peer) else { return Ok(()) };
        match self.limiter.check_key_n(&key, more) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) | Err(_) => Err(AppError::RateLimited),
        }
    }
}

/// The address a client is limited by: IPv4 as is, IPv6 by its /64.
pub fn client_prefix(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// The limiter layer for `POST /b`, or `None` when `rate_limit_per_second`
/// is 0 (limiting off). Every refusal is counted as outcome `rate_limited`.
/// Must run inside a tokio runtime: it starts the task that forgets idle
/// clients.
pub fn layer(config: &Config, metrics: Arc<Metrics>, workers: &mut Workers) -> Option<BeaconLimit> {
    if config.rate_limit_per_second == 0 {
        return None;
    }
    let key = ClientKey { trust_forwarded_for: config.trust_forwarded_for };
    let governor = GovernorConfigBuilder::default()
        .key_extractor(key)
        .period(Duration::from_secs(1) / config.rate_limit_per_second)
        .burst_size(config.rate_limit_burst.max(1))
        .finish()?;
    let limiter = governor.limiter().clone();
    let forgetting = limiter.clone();
    workers.spawn(|mut stop| async move {
        while stop.sleep(FORGET_IDLE_EVERY).await {
            forgetting.retain_recent();
        }
    });
    let layer = GovernorLayer::new(governor).error_handler(move |error| {
        let answer = match error {
            GovernorError::TooManyRequests { .. } => AppError::RateLimited,
            GovernorError::UnableToExtractKey => AppError::Internal("no client address".into()),
            GovernorError::Other { msg, .. } => AppError::Internal(msg.unwrap_or_default()),
        };
        metrics.ingest.with_label_values(&[answer.outcome()]).inc();
        answer.into_response()
    });
    Some(BeaconLimit { layer, limiter, key })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_client_is_its_64_prefix_and_mapped_ipv4_is_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa:bbbb:cccc:dddd".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        assert_eq!(client_prefix(a), client_prefix(b));
        assert_ne!(client_prefix(a), client_prefix("2001:db8:1:3::1".parse().unwrap()));
        assert_eq!(client_prefix("::ffff:10.0.0.7".parse().unwrap()), "10.0.0.7".parse::<IpAddr>().unwrap());
    }
}
