//! The beacon wire format: what the browser posts to the collector's `POST /b`.
//!
//! A page view is reported as a series of beacons that all carry its random
//! `id` and an increasing `seq`. Each beacon is a complete snapshot of what is
//! known so far, so the collector keeps the one with the highest `seq` ("the
//! final values win") and a beacon delivered twice counts once.
//!
//! Every field the browser cannot give is absent (`None`), never `0`.
//! Unknown fields are ignored on decoding, so older collectors accept newer
//! clients. Range and length checks live in the collector, not here.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use object::{serialize_fields, wire_object, Field, Fields, ToValue, Value};

pub mod object;
pub mod sample;

/// Version of this format, sent as `v` in every beacon.
pub const WIRE_VERSION: u8 = 1;

/// Largest beacon body the collector accepts, in bytes.
pub const MAX_BEACON_BYTES: usize = 64 * 1024;

wire_object! {
    /// One snapshot of a page view, as posted by the loader or the wasm module.
    #[derive(Deserialize, Debug, Clone, Default, PartialEq)]
    #[serde(default)]
    pub struct Beacon {
        /// Wire format version ([`WIRE_VERSION`]).
        pub v: u8,
        /// Site id registered on the collector (`data-site`).
        pub site: String,
        /// Random page-view id (not a visitor id): 16 to 64 URL-safe characters.
        pub id: String,
        /// Sequence number within the page view; a higher one replaces a lower.
        pub seq: u32,
        /// Which part of the client sent it.
        pub src: Source,
        /// Page path and query, without the fragment.
        pub url: String,
        /// The page's own name for its route (its kind, e.g.
        /// `/products/:id`): `data-route` or `palaute.route(name)`. Absent:
        /// the collector derives one from the URL.
        pub route: Option<String>,
        /// The site's release the view saw: `data-release` or
        /// `palaute.release(name)`.
        pub release: Option<String>,
        /// Host of `document.referrer` when it is another site.
        pub referrer_host: Option<String>,
        /// Start of the page view (navigation, activation or bfcache restore) in
        /// milliseconds since the Unix epoch, by the browser's clock.
        pub start: f64,
        /// How the page view started.
        pub nav_type: Option<NavType>,
        /// Time to first byte, ms.
        pub ttfb_ms: Option<f64>,
        /// First contentful paint, ms.
        pub fcp_ms: Option<f64>,
        /// Largest contentful paint, ms.
        pub lcp_ms: Option<f64>,
        /// Interaction to next paint, ms.
        pub inp_ms: Option<f64>,
        /// Cumulative layout shift (unitless).
        pub cls: Option<f64>,
        /// `DOMContentLoaded` event start, ms.
        pub dcl_ms: Option<f64>,
        /// `load` event start, ms.
        pub load_ms: Option<f64>,
        /// CSS-like selector of the LCP element.
        pub lcp_element: Option<String>,
        /// URL of the LCP resource (image, video poster, background).
        pub lcp_url: Option<String>,
        /// The four parts LCP is made of.
        pub lcp_subparts: Option<LcpSubparts>,
        /// CSS-like selector of the INP interaction's target.
        pub inp_target: Option<String>,
        /// The three parts INP is made of.
        pub inp_subparts: Option<InpSubparts>,
        /// The longest script during the INP interaction (Long Animation
        /// Frames): its `sourceURL` without query and fragment.
        pub inp_script_url: Option<String>,
        /// Its `sourceFunctionName`.
        pub inp_script_function: Option<String>,
        /// Its `invokerType` (`event-listener`, `user-callback`, ...).
        pub inp_script_invoker: Option<String>,
        /// How long it ran after the interaction began, ms.
        pub inp_script_ms: Option<f64>,
        /// The part of INP it started in.
        pub inp_script_subpart: Option<InpPart>,
        /// HTTP status of the navigation response, where the browser exposes it.
        pub response_status: Option<u16>,
        /// How long the page was visible, ms.
        pub visible_ms: Option<f64>,
        /// When the visitor left (page hidden or unloaded), ms; absent while the
        /// page is still in front of them.
        pub left_at_ms: Option<f64>,
        /// When the visitor left, an image in the viewport larger than the LCP
        /// candidate so far was still loading: the real LCP had not happened.
        pub lcp_pending: Option<bool>,
        /// Network Information API `effectiveType` (`4g`, `3g`, ...).
        pub effective_type: Option<String>,
        /// Network Information API `downlink`, Mbit/s.
        pub downlink_mbps: Option<f64>,
        /// Network Information API `rtt`, ms.
        pub rtt_ms: Option<f64>,
        /// Network Information API `saveData`.
        pub save_data: Option<bool>,
        /// `navigator.deviceMemory`, GiB.
        pub device_memory: Option<f64>,
        /// `navigator.hardwareConcurrency`.
        pub cpu_cores: Option<u16>,
        /// Uncaught JS errors and failed resource loads during the view.
        pub errors: Option<u32>,
        /// Rage clicks: bursts of rapid clicks on one spot of one element
        /// ([`crate::vitals::frustration`]); `0` when the module watched and
        /// there were none.
        pub rage_clicks: Option<u32>,
        /// Dead clicks: clicks on a control after which nothing happened.
        pub dead_clicks: Option<u32>,
        /// Selector of the first element of a rage or dead click.
        pub frustration_target: Option<String>,
        /// When that frustration began, ms from the page view's start.
        pub frustration_at_ms: Option<f64>,
        /// The visitor's answer to the feedback prompt or `palaute.feedback()`.
        pub feedback: Option<Feedback>,
        /// Custom dimensions from `palaute.tag(key, value)`.
        pub tags: Tags,
    }
}

/// Custom dimensions: a JSON object of strings on the wire, in the order
/// first set, each key once. A list, not a `BTreeMap`: in the browser
/// module a map's insertion code costs more than the whole list (1.8 KB
/// brotli, measured), for 20 entries at most.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tags(Vec<(String, String)>);

impl Tags {
    /// How many there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// Sets `key` to `value`: a known key changes its value, a new one is
    /// added only while there are fewer than `max`. `false` when it was not.
    pub fn set(&mut self, key: &str, value: &str, max: usize) -> bool {
        if let Some(known) = self.0.iter_mut().find(|(k, _)| k == key) {
            known.1 = value.into();
        } else if self.0.len() < max {
            self.0.push((key.into(), value.into()));
        } else {
            return false;
        }
        true
    }

    /// The tags, in the order first set.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &String)> {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

impl<'a> IntoIterator for &'a Tags {
    type Item = (&'a String, &'a String);
    type IntoIter = Box<dyn Iterator<Item = (&'a String, &'a String)> + 'a>;

    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Tags {
    /// Later values of a repeated key win, as in a JSON object.
    fn from_iter<I: IntoIterator<Item = (K, V)>>(pairs: I) -> Tags {
        let mut tags = Tags::default();
        for (key, value) in pairs {
            tags.set(&key.into(), &value.into(), usize::MAX);
        }
        tags
    }
}

impl From<Tags> for BTreeMap<String, String> {
    fn from(tags: Tags) -> Self {
        tags.0.into_iter().collect()
    }
}

impl Fields for Tags {
    fn fields(&self) -> Vec<Field<'_>> {
        self.0.iter().map(|(k, v)| (k.as_str(), Some(Value::Text(v)))).collect()
    }
}

impl ToValue for Tags {
    fn value(&self) -> Option<Value<'_>> {
        Some(Value::Object(self))
    }
}

impl Serialize for Tags {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_fields(self, serializer)
    }
}

/// The wire's names of [`Source`], [`NavType`], [`Scale`], [`InpPart`] and [`Trigger`] (their `as_str`).
macro_rules! named_values {
    ($($ty:ty),*) => {
        $(impl ToValue for $ty {
            fn value(&self) -> Option<Value<'_>> {
                Some(Value::Text(self.as_str()))
            }
        })*
    };
}
named_values!(Source, NavType, Scale, InpPart, Trigger);

/// Reads a JSON object of strings, refusing it as soon as it holds more
/// than [`crate::limits::MAX_TAGS`] distinct keys: each key is compared with
/// at most that many known ones, so a body of thousands of keys costs time
/// in proportion to its length, not to its square, and is refused at its
/// first key too many. Later values of a repeated key win.
impl<'de> Deserialize<'de> for Tags {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Tags, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Tags;

            fn expecting(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
                f.write_str("an object of strings")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Tags, A::Error> {
                let max = crate::limits::MAX_TAGS;
                let mut tags = Tags::default();
                while let Some((key, value)) = map.next_entry::<String, String>()? {
                    if !tags.set(&key, &value, max) {
                        return Err(serde::de::Error::custom(format_args!("tags: more than {max}")));
                    }
                }
                Ok(tags)
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

/// The part of the client that sent a beacon.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, Default, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The wasm module, which owns the page view once it runs.
    #[default]
    Module,
    /// The loader alone, for a visitor who left before the module started.
    Loader,
}

impl Source {
    /// The name used in the wire format.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Module => "module",
            Source::Loader => "loader",
        }
    }
}

/// How a page view started (Web Vitals `navigationType`, with underscores).
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum NavType {
    /// A plain navigation.
    Navigate,
    /// A reload.
    Reload,
    /// Back or forward navigation that loaded the page anew.
    BackForward,
    /// Back or forward navigation restored from the back/forward cache.
    BackForwardCache,
    /// A prerendered page that was activated.
    Prerender,
    /// A discarded tab that was restored.
    Restore,
    /// A single-page app's route change (the Soft Navigation API).
    SoftNavigation,
}

impl NavType {
    /// The name used in the wire format and in exports.
    pub fn as_str(self) -> &'static str {
        match self {
            NavType::Navigate => "navigate",
            NavType::Reload => "reload",
            NavType::BackForward => "back_forward",
            NavType::BackForwardCache => "back_forward_cache",
            NavType::Prerender => "prerender",
            NavType::Restore => "restore",
            NavType::SoftNavigation => "soft_navigation",
        }
    }
}

/// What made the feedback prompt ask.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// A slow load (LCP or `load` past the poor threshold).
    Slow,
    /// An interaction slower than INP's poor threshold.
    Interaction,
    /// A rage click or a dead click.
    Frustration,
    /// The visitor left while the page loaded and came back.
    Returned,
    /// The page's own call: `palaute.ask()` or `palaute.feedback()`.
    Api,
}

impl Trigger {
    /// The name used in the wire format and in exports.
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Slow => "slow",
            Trigger::Interaction => "interaction",
            Trigger::Frustration => "frustration",
            Trigger::Returned => "returned",
            Trigger::Api => "api",
        }
    }
}

/// A part of INP: where the longest script of the interaction started.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum InpPart {
    /// Before the interaction's handlers ran.
    InputDelay,
    /// While they ran.
    Processing,
    /// After them, until the next paint.
    Presentation,
}

impl InpPart {
    /// The name used in the wire format and in exports.
    pub fn as_str(self) -> &'static str {
        match self {
            InpPart::InputDelay => "input_delay",
            InpPart::Processing => "processing",
            InpPart::Presentation => "presentation",
        }
    }
}

wire_object! {
    /// LCP broken into its parts (they add up to LCP).
    #[derive(Deserialize, Debug, Clone, Copy, Default, PartialEq)]
    #[serde(default)]
    pub struct LcpSubparts {
        /// Time to first byte, ms.
        pub ttfb: f64,
        /// From first byte until the LCP resource started loading, ms.
        pub load_delay: f64,
        /// How long the LCP resource took to load, ms.
        pub load_duration: f64,
        /// From the resource loaded until the element was painted, ms.
        pub render_delay: f64,
    }
}

wire_object! {
    /// INP broken into its parts (they add up to INP).
    #[derive(Deserialize, Debug, Clone, Copy, Default, PartialEq)]
    #[serde(default)]
    pub struct InpSubparts {
        /// From the input until its handlers started, ms.
        pub input_delay: f64,
        /// Time spent in the event handlers, ms.
        pub processing: f64,
        /// From the handlers' end until the next frame was presented, ms.
        pub presentation: f64,
    }
}

wire_object! {
    /// A visitor's feedback on the page view.
    #[derive(Deserialize, Debug, Clone, Default, PartialEq)]
    #[serde(default)]
    pub struct Feedback {
        /// `1` satisfied / `0` not on `thumbs`; `1`-`5` on `five`.
        pub rating: u8,
        /// The rating scale.
        pub scale: Scale,
        /// Optional free text, plain text only.
        pub comment: Option<String>,
        /// When the answer was given, ms from the page view's start.
        pub at_ms: f64,
        /// What made the prompt ask (`api` for `palaute.ask()` and
        /// `palaute.feedback()`); absent when the site's `always` mode asked
        /// on a view that gave no other reason.
        pub trigger: Option<Trigger>,
    }
}

/// A feedback rating scale.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, Default, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Scale {
    /// 👍 = 1, 👎 = 0.
    #[default]
    Thumbs,
    /// 1 (worst) to 5 (best).
    Five,
}

impl Scale {
    /// The name used in the wire format and in exports.
    pub fn as_str(self) -> &'static str {
        match self {
            Scale::Thumbs => "thumbs",
            Scale::Five => "five",
        }
    }

    /// Whether `rating` is a valid answer on this scale.
    pub fn accepts(self, rating: u8) -> bool {
        match self {
            Scale::Thumbs => rating <= 1,
            Scale::Five => (1..=5).contains(&rating),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_a_minimal_loader_beacon_and_ignores_unknown_fields() {
        let json = r#"{"v":1,"site":"shop","id":"abcdefghijklmnop","seq":1,"src":"loader",
            "url":"/a?b=1","start":1700000000000.5,"nav_type":"back_forward","ttfb_ms":12.5,
            "a_field_from_the_future":[1,2,3]}"#;
        let beacon: Beacon = serde_json::from_str(json).unwrap();
        assert_eq!(beacon.src, Source::Loader);
        assert_eq!(beacon.nav_type, Some(NavType::BackForward));
        assert_eq!(beacon.ttfb_ms, Some(12.5));
        assert_eq!(beacon.fcp_ms, None, "absent means unknown, never 0");
        assert!(beacon.tags.is_empty());
    }

    #[test]
    fn round_trips_every_field() {
        let beacon = sample::every_field("shop", "0123456789abcdef0123", 1_700_000_000_000.5);
        let json: serde_json::Value = serde_json::to_value(&beacon).unwrap();
        // Every field is present in the sample (a field added to `Beacon`
        // and not to it fails here), and named as `Deserialize` reads it.
        assert_eq!(json.as_object().unwrap().len(), beacon.fields().len(), "{json}");
        assert_eq!(serde_json::from_value::<Beacon>(json).unwrap(), beacon);
    }

    #[test]
    fn tags_keep_each_key_once_and_stop_at_their_bound() {
        let mut tags = Tags::default();
        assert!(tags.set("ab", "a", 2) && tags.set("plan", "pro", 2));
        assert!(tags.set("ab", "b", 2), "a known key changes past the bound");
        assert!(!tags.set("third", "x", 2), "a new key past the bound is ignored");
        assert_eq!(serde_json::to_string(&tags).unwrap(), r#"{"ab":"b","plan":"pro"}"#);
        let read: Tags = serde_json::from_str(r#"{"k":"1","k":"2"}"#).unwrap();
        assert_eq!((read.len(), read.get("k")), (1, Some("2")), "the last of a repeated key wins");
    }

    #[test]
    fn scales_accept_only_their_ratings() {
        assert!(Scale::Thumbs.accepts(0) && Scale::Thumbs.accepts(1) && !Scale::Thumbs.accepts(2));
        assert!(!Scale::Five.accepts(0) && Scale::Five.accepts(5) && !Scale::Five.accepts(6));
    }
}
