//! XSD `dateTime` / `dateTimeStamp` parsing for `validFrom`, `validUntil`, `created`, `expires`.
//!
//! VC 2.0 requires `dateTimeStamp` (a time zone is mandatory):
//! <https://www.w3.org/TR/vc-data-model-2.0/#validity-period>. Data Integrity's `created` and
//! `expires` are `dateTime`; a value without a zone is read as UTC, which is what the
//! reference implementations do.

use chrono::{DateTime, NaiveDateTime, Utc};

/// A parsed date-time, remembering whether the text carried a zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XsdDateTime {
    /// The instant (UTC if the text had no zone).
    pub instant: DateTime<Utc>,
    /// True when the text had `Z` or an offset (`dateTimeStamp`).
    pub has_zone: bool,
}

/// Parses an XSD `dateTime`. Returns `None` if `text` is not one.
pub fn parse(text: &str) -> Option<XsdDateTime> {
    // Reject before chrono so that odd inputs ("+002023-…", spaces) cannot slip through.
    let bytes = text.as_bytes();
    if bytes.len() < 19 || bytes.len() > 40 || bytes[4] != b'-' || bytes[10] != b'T' {
        return None;
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(text) {
        return Some(XsdDateTime {
            instant: dt.with_timezone(&Utc),
            has_zone: true,
        });
    }
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|naive| XsdDateTime {
            instant: naive.and_utc(),
            has_zone: false,
        })
}

/// Parses a date-time option given on the command line or by a caller (must carry a zone).
pub fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    parse(text).filter(|t| t.has_zone).map(|t| t.instant)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_zoned_and_unzoned_forms() {
        let z = parse("2023-02-24T23:36:38Z").unwrap();
        assert!(z.has_zone);
        let off = parse("2023-02-25T01:36:38+02:00").unwrap();
        assert_eq!(z.instant, off.instant);
        let frac = parse("2023-02-24T23:36:38.123Z").unwrap();
        assert!(frac.instant > z.instant);
        let naive = parse("2023-02-24T23:36:38").unwrap();
        assert!(!naive.has_zone);
        assert_eq!(naive.instant, z.instant);
    }

    #[test]
    fn rejects_non_dates() {
        for bad in [
            "",
            "2023-02-24",
            "yesterday",
            "2023-13-01T00:00:00Z",
            "2023-02-24 23:36:38Z",
            "2023-02-30T00:00:00Z",
        ] {
            assert!(parse(bad).is_none(), "{bad}");
        }
        assert!(parse_timestamp("2023-02-24T23:36:38").is_none());
    }
}
