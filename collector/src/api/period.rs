//! The `from` / `to` and filter query parameters every aggregate endpoint
//! takes: ISO-8601 times or dates, or relative periods like `7d`, `24h`,
//! `30m` (that long before now); `path`, `device`, `browser`, `os`,
//! `effective_type`, `nav_type` (an empty value is no filter).

use serde::Deserialize;
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};
use utoipa::IntoParams;

use crate::error::{AppError, Result};
use crate::store::Selection;

/// Default period when `from` is absent: the last 7 days.
pub const DEFAULT_PERIOD_MS: i64 = 7 * 86_400_000;

/// The period and filters of a request.
#[derive(Deserialize, Debug, Default, Clone, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeriodQuery {
    /// Start: ISO-8601 or relative (`7d`). Default: 7 days before `to`.
    pub from: Option<String>,
    /// End: ISO-8601 or relative. Default: now.
    pub to: Option<String>,
    /// Only this path.
    pub path: Option<String>,
    /// Only this device class.
    pub device: Option<String>,
    /// Only this browser family.
    pub browser: Option<String>,
    /// Only this OS family.
    pub os: Option<String>,
    /// Only this effective connection type.
    pub effective_type: Option<String>,
    /// Only this navigation type.
    pub nav_type: Option<String>,
}

impl PeriodQuery {
    /// The selection for `site`, relative to `now_ms`.
    pub fn selection(&self, site: &str, now_ms: i64) -> Result<Selection> {
        let to_ms = match &self.to {
            Some(t) => parse_time(t, now_ms)?,
            None => now_ms + 1,
        };
        let from_ms = match &self.from {
            Some(t) => parse_time(t, now_ms)?,
            None => to_ms - DEFAULT_PERIOD_MS,
        };
        if from_ms > to_ms {
            return Err(AppError::Invalid("from: after to".into()));
        }
        let given = |filter: &Option<String>| filter.clone().filter(|value| !value.is_empty());
        Ok(Selection {
            site: site.into(),
            from_ms,
            to_ms,
            path: given(&self.path),
            device: given(&self.device),
            browser: given(&self.browser),
            os: given(&self.os),
            effective_type: given(&self.effective_type),
            nav_type: given(&self.nav_type),
            fields: crate::store::Fields::All,
        })
    }
}

/// Parses an ISO-8601 time (`2026-01-31T12:00:00Z`), a date (`2026-01-31`,
/// midnight UTC) or a relative period (`90s`, `30m`, `24h`, `7d`, `2w`).
pub fn parse_time(text: &str, now_ms: i64) -> Result<i64> {
    let bad = || AppError::Invalid(format!("time {text:?}: expected ISO-8601 or a period like 7d"));
    if let Ok(time) = OffsetDateTime::parse(text, &Rfc3339) {
        return Ok((time.unix_timestamp_nanos() / 1_000_000) as i64);
    }
    let date_format = time::macros::format_description!("[year]-[month]-[day]");
    if let Ok(date) = Date::parse(text, &date_format) {
        return Ok(date.midnight().assume_utc().unix_timestamp() * 1000);
    }
    let unit = text.chars().last().ok_or_else(bad)?;
    let amount: i64 = text[..text.len() - unit.len_utf8()].parse().map_err(|_| bad())?;
    let unit_ms = match unit {
        's' => 1_000,
        'm' => 60_000,
        'h' => 3_600_000,
        'd' => 86_400_000,
        'w' => 7 * 86_400_000,
        _ => return Err(bad()),
    };
    if !(0..=100_000).contains(&amount) {
        return Err(bad());
    }
    Ok(now_ms - amount * unit_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000_000;

    #[test]
    fn parses_absolute_and_relative_times() {
        let check = |text: &str, expected: i64| assert_eq!(parse_time(text, NOW).unwrap(), expected, "{text}");
        check("2023-11-14T22:13:20Z", NOW);
        check("2023-11-14T22:13:20.5+00:00", NOW + 500);
        check("2023-11-14", NOW - (22 * 3600 + 13 * 60 + 20) * 1000);
        check("7d", NOW - 7 * 86_400_000);
        check("24h", NOW - 86_400_000);
        check("30m", NOW - 1_800_000);
        for bad in ["", "d", "7y", "yesterday", "-3d", "1e9d"] {
            assert!(parse_time(bad, NOW).is_err(), "{bad}");
        }
    }

    #[test]
    fn defaults_to_the_last_seven_days() {
        let selection = PeriodQuery::default().selection("shop", NOW).unwrap();
        assert_eq!(selection.to_ms - selection.from_ms, DEFAULT_PERIOD_MS);
        let reversed = PeriodQuery { from: Some("1d".into()), to: Some("2d".into()), ..PeriodQuery::default() };
        assert!(reversed.selection("shop", NOW).is_err());
    }
}
