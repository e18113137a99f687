//! Web Vitals thresholds (the ones CrUX and the `web-vitals` library use) and
//! the good / needs-improvement / poor rating.

use serde::{Deserialize, Serialize};

/// A vital, as it appears in exports and in the API.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Vital {
    /// Time to first byte.
    Ttfb,
    /// First contentful paint.
    Fcp,
    /// Largest contentful paint.
    Lcp,
    /// Interaction to next paint.
    Inp,
    /// Cumulative layout shift.
    Cls,
}

/// How a value compares with its vital's thresholds.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Rating {
    /// At or under the "good" threshold.
    Good,
    /// Between the two thresholds.
    NeedsImprovement,
    /// Above the "poor" threshold.
    Poor,
}

/// Above this, a page's load event counts as slow (ms). There is no official
/// threshold for `load`; palaute uses LCP's poor threshold for it too.
pub const SLOW_LOAD_MS: f64 = 4000.0;

impl Vital {
    /// Every vital, in display order.
    pub const ALL: [Vital; 5] = [Vital::Ttfb, Vital::Fcp, Vital::Lcp, Vital::Inp, Vital::Cls];

    /// `(good, poor)` thresholds: good is `<= good`, poor is `> poor`.
    pub fn thresholds(self) -> (f64, f64) {
        match self {
            Vital::Ttfb => (800.0, 1800.0),
            Vital::Fcp => (1800.0, 3000.0),
            Vital::Lcp => (2500.0, 4000.0),
            Vital::Inp => (200.0, 500.0),
            Vital::Cls => (0.1, 0.25),
        }
    }

    /// Rates a value the way `web-vitals` does.
    pub fn rate(self, value: f64) -> Rating {
        let (good, poor) = self.thresholds();
        if value > poor {
            Rating::Poor
        } else if value > good {
            Rating::NeedsImprovement
        } else {
            Rating::Good
        }
    }

    /// The export field holding this vital.
    pub fn field(self) -> &'static str {
        match self {
            Vital::Ttfb => "ttfb_ms",
            Vital::Fcp => "fcp_ms",
            Vital::Lcp => "lcp_ms",
            Vital::Inp => "inp_ms",
            Vital::Cls => "cls",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_are_inclusive_of_good_and_exclusive_of_poor() {
        let check = |vital: Vital, value: f64, expected: Rating| {
            assert_eq!(vital.rate(value), expected, "{vital:?} {value}");
        };
        check(Vital::Lcp, 2500.0, Rating::Good);
        check(Vital::Lcp, 2500.1, Rating::NeedsImprovement);
        check(Vital::Lcp, 4000.0, Rating::NeedsImprovement);
        check(Vital::Lcp, 4000.1, Rating::Poor);
        check(Vital::Cls, 0.1, Rating::Good);
        check(Vital::Cls, 0.26, Rating::Poor);
        check(Vital::Inp, 200.0, Rating::Good);
        check(Vital::Ttfb, 1801.0, Rating::Poor);
        check(Vital::Fcp, 0.0, Rating::Good);
    }
}
