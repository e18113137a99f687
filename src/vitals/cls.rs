//! Cumulative Layout Shift, as web-vitals computes it: layout shifts
//! without recent input are grouped into session windows (each shift less
//! than 1 s after the previous one and less than 5 s after the window's
//! first); CLS is the largest window's total.

/// The session windows of a page view so far.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SessionWindows {
    current: f64,
    first_start: f64,
    last_start: f64,
    largest: f64,
}

impl SessionWindows {
    /// Adds a `layout-shift` entry.
    pub fn add(&mut self, start_time: f64, value: f64, had_recent_input: bool) {
        if had_recent_input {
            return;
        }
        let joins =
            self.current != 0.0 && start_time - self.last_start < 1000.0 && start_time - self.first_start < 5000.0;
        if joins {
            self.current += value;
        } else {
            self.current = value;
            self.first_start = start_time;
        }
        self.last_start = start_time;
        self.largest = self.largest.max(self.current);
    }

    /// CLS so far: the largest window's total.
    pub fn value(&self) -> f64 {
        self.largest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cls(shifts: &[(f64, f64, bool)]) -> f64 {
        let mut windows = SessionWindows::default();
        for &(start, value, input) in shifts {
            windows.add(start, value, input);
        }
        windows.value()
    }

    #[test]
    fn groups_shifts_into_session_windows() {
        assert_eq!(cls(&[]), 0.0);
        // One window: 0.1 + 0.2.
        assert!((cls(&[(100.0, 0.1, false), (600.0, 0.2, false)]) - 0.3).abs() < 1e-12);
        // A gap of 1 s or more starts a new window; the largest wins.
        assert!((cls(&[(100.0, 0.1, false), (1100.0, 0.05, false), (1200.0, 0.05, false)]) - 0.1).abs() < 1e-12);
        // A window is capped at 5 s from its first shift.
        let steady: Vec<_> = (0..12).map(|i| (i as f64 * 900.0, 0.01, false)).collect();
        assert!((cls(&steady) - 0.06).abs() < 1e-12, "{}", cls(&steady));
        // Shifts right after input do not count.
        assert!((cls(&[(100.0, 0.1, false), (300.0, 0.5, true)]) - 0.1).abs() < 1e-12);
    }
}
