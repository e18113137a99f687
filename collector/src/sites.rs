//! Registered sites: analyst tokens (random, shown once, stored only as a
//! SHA-256 hash) and a short-lived in-memory cache of the site list, so the
//! ingest path does not read the store for every beacon yet sees sites added
//! or removed by `palaute-collector site ...` within seconds.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use tokio::sync::RwLock;

use crate::error::{AppError, Result};
use crate::store::{Site, Store};

/// How long the cached site list is trusted.
const CACHE_TTL: Duration = Duration::from_secs(3);

/// A new analyst token: `pal_` and 32 random bytes in hex.
pub fn new_token() -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(format!("pal_{}", hex::encode(bytes)))
}

/// The stored form of a token.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// An origin as browsers send it: `scheme://host[:port]`, no path.
pub fn normalize_origin(origin: &str) -> Result<String> {
    let origin = origin.trim().trim_end_matches('/');
    let valid = (origin.starts_with("https://") || origin.starts_with("http://"))
        && !origin.split_once("://").is_some_and(|(_, rest)| rest.is_empty() || rest.contains(['/', '?', '#', ' ']));
    valid.then(|| origin.to_ascii_lowercase()).ok_or_else(|| {
        AppError::Invalid(format!("origin {origin:?}: expected scheme://host[:port], e.g. https://shop.example"))
    })
}

/// The site list, cached for a few seconds.
pub struct SiteRegistry {
    store: Arc<dyn Store>,
    cache: RwLock<(Option<Instant>, HashMap<String, Site>)>,
}

impl SiteRegistry {
    /// A registry reading from `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        SiteRegistry { store, cache: RwLock::new((None, HashMap::new())) }
    }

    /// The site `id`, if registered.
    pub async fn get(&self, id: &str) -> Result<Option<Site>> {
        {
            let cache = self.cache.read().await;
            if let (Some(loaded), sites) = &*cache {
                let fresh = loaded.elapsed() < CACHE_TTL;
                // A miss re-reads the store at most once a second.
                if fresh && (sites.contains_key(id) || loaded.elapsed() < Duration::from_secs(1)) {
                    return Ok(sites.get(id).cloned());
                }
            }
        }
        let sites: HashMap<String, Site> = self.store.sites().await?.into_iter().map(|s| (s.id.clone(), s)).collect();
        let site = sites.get(id).cloned();
        *self.cache.write().await = (Some(Instant::now()), sites);
        Ok(site)
    }

    /// The site `id` if `token` is its analyst token.
    pub async fn authorize(&self, id: &str, token: &str) -> Result<Site> {
        let site = self.get(id).await?.ok_or(AppError::Unauthorized)?;
        let hash = hash_token(token);
        // Both sides are hashes of the same length: comparing them leaks nothing useful.
        if hash.len() == site.token_hash.len() && hash.bytes().zip(site.token_hash.bytes()).all(|(a, b)| a == b) {
            Ok(site)
        } else {
            Err(AppError::Unauthorized)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hashed() {
        let (a, b) = (new_token().unwrap(), new_token().unwrap());
        assert_ne!(a, b);
        assert_eq!(a.len(), 4 + 64);
        assert_eq!(hash_token(&a).len(), 64);
        assert_ne!(hash_token(&a), hash_token(&b));
    }

    #[test]
    fn origins_are_normalized_or_rejected() {
        assert_eq!(normalize_origin("https://Shop.example/").unwrap(), "https://shop.example");
        assert_eq!(normalize_origin("http://127.0.0.1:8080").unwrap(), "http://127.0.0.1:8080");
        assert!(normalize_origin("shop.example").is_err());
        assert!(normalize_origin("https://shop.example/path").is_err());
        assert!(normalize_origin("https://").is_err());
    }
}
