//! The `from` / `to` and filter query parameters every aggregate endpoint
//! takes: ISO-8601 times or dates, or relative periods like `7d`, `24h`,
//! `30m` (that long before now); a filter for each dimension that is a
//! column ([`NAMED`]: `path=`, `device=`, ...; an empty value is no
//! filter). Any other parameter is refused with the accepted names.

use std::collections::BTreeMap;

use serde::Deserialize;
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::{ObjectBuilder, Required, Type};
use utoipa::IntoParams;

use crate::error::{AppError, Result};
use crate::grouping::{Named, NAMED};
use crate::store::Selection;

/// Default period when `from` is absent: the last 7 days.
pub const DEFAULT_PERIOD_MS: i64 = 7 * 86_400_000;

/// The period and filters of a request.
#[derive(Deserialize, Debug, Default, Clone)]
pub struct PeriodQuery {
    /// Start: ISO-8601 or relative (`7d`). Default: 7 days before `to`.
    pub from: Option<String>,
    /// End: ISO-8601 or relative. Default: now.
    pub to: Option<String>,
    /// The other parameters: filters by name, and anything else, which
    /// [`selection`](Self::selection) refuses.
    #[serde(flatten)]
    pub filters: BTreeMap<String, String>,
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
        let mut selection = Selection::period(site, from_ms, to_ms);
        for (name, value) in self.filters.iter().filter(|(_, value)| !value.is_empty()) {
            let filter = NAMED.iter().find(|n| n.column && n.name == name).ok_or_else(|| {
                let filters = Named::names(|n| n.column);
                AppError::Invalid(format!(
                    "{name:?} is not a parameter here: the period is from, to; filters are {filters}"
                ))
            })?;
            selection = selection.with(filter.dimension.clone(), value).map_err(AppError::Invalid)?;
        }
        Ok(selection)
    }
}

/// Described by hand, so that the filters come from [`NAMED`].
impl IntoParams for PeriodQuery {
    fn into_params(parameter_in: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let text = |name: &str, description: &str| {
            ParameterBuilder::new()
                .name(name)
                .parameter_in(parameter_in().unwrap_or_default())
                .required(Required::False)
                .description(Some(description))
                .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                .build()
        };
        let period = [
            text("from", "Start: ISO-8601 or relative (`7d`). Default: 7 days before `to`."),
            text("to", "End: ISO-8601 or relative. Default: now."),
        ];
        let filters =
            NAMED.iter().filter(|n| n.column).map(|n| text(n.name, &format!("Only this value: {}.", n.description)));
        period.into_iter().chain(filters).collect()
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

    #[test]
    fn filters_are_the_column_dimensions_and_nothing_else_is_taken() {
        let query = |pairs: &[(&str, &str)]| PeriodQuery {
            filters: pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            ..PeriodQuery::default()
        };
        let selection = query(&[("device", "mobile"), ("path", "/cart"), ("os", "")]).selection("shop", NOW).unwrap();
        assert_eq!(
            selection.filter_columns().collect::<Vec<_>>(),
            [("path", "/cart"), ("device", "mobile")],
            "in the order of NAMED; an empty value is no filter"
        );
        for refused in ["hour_of_day", "tag:ab", "nonsense"] {
            let error = query(&[(refused, "x")]).selection("shop", NOW).unwrap_err().to_string();
            assert!(
                error.contains(refused)
                    && error.contains("path, route, release, device, browser, os, effective_type, nav_type"),
                "{error}"
            );
        }
    }
}
