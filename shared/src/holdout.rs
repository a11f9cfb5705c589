//! A campaign's holdout group: a share of the segment that is never sent to Facebook, so the
//! conversions of the people who were sent can be compared with those of people who were not
//! (the campaign's lift).
//!
//! - **Size**: a whole percentage from 1 to [`MAX_HOLDOUT_PERCENT`]; absent or 0 is "no
//!   holdout". Whole percentages are enough to size a test and keep the field, the overview and
//!   the arithmetic simple.
//! - **Who**: [`holdout_bucket`] puts every (campaign, identity) in one of 100 buckets by a
//!   stable hash; a person is held out when their bucket is below the percentage
//!   ([`in_holdout`]). The same person is in the same group on every run, and raising the
//!   percentage only moves people from the audience into the holdout (never the other way).
//! - **Lift**: [`HoldoutStats::compute`] compares the share of people who converted in each
//!   group with a 95 % confidence interval for the difference (Newcombe's hybrid score interval
//!   built from Wilson intervals), and says when the numbers are too small to conclude.
//!
//! `docs/domain.md` ("Holdout") states the same rules for people who reproduce the figures.

use serde::{Deserialize, Serialize};

use crate::error::FieldError;

/// The largest holdout, in percent of the segment: past half, the "audience" is the control.
pub const MAX_HOLDOUT_PERCENT: u8 = 50;

/// The field's path in a campaign draft, for errors.
pub const HOLDOUT_PATH: &str = "holdout_percent";

/// Checks a holdout percentage as the user typed it (JSON numbers may carry decimals).
/// `None` and 0 mean "no holdout"; otherwise a whole number from 1 to 50.
pub fn validate_holdout(value: Option<f64>) -> Option<FieldError> {
    let v = value?;
    let message = if !v.is_finite() || v < 0.0 {
        "The holdout is a percentage from 0 to 50.".to_owned()
    } else if v > f64::from(MAX_HOLDOUT_PERCENT) {
        format!(
            "A holdout can be at most {MAX_HOLDOUT_PERCENT} % of the audience; past that, the people sent to Facebook would be the minority."
        )
    } else if v.fract() != 0.0 {
        "Use a whole percentage (for example 10).".to_owned()
    } else {
        return None;
    };
    Some(FieldError::new(HOLDOUT_PATH, message))
}

/// The holdout percentage of a valid value: `None` for absent, 0, or invalid input.
pub fn holdout_percent(value: Option<f64>) -> Option<u8> {
    match value {
        Some(v) if validate_holdout(Some(v)).is_none() && v >= 1.0 => Some(v as u8),
        _ => None,
    }
}

/// The holdout in words, for the wizard's Overview: "No holdout." or "Holdout: 20 % of the
/// segment is never sent to Facebook, to measure the lift." An invalid value is described as
/// typed; its error is listed apart.
pub fn describe_holdout(value: Option<f64>) -> String {
    match value {
        None | Some(0.0) => "No holdout.".to_owned(),
        Some(v) => {
            format!("Holdout: {v} % of the segment is never sent to Facebook, to measure the lift.")
        }
    }
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0100_0000_01b3;

/// The bucket (0–99) of `identity` in campaign `campaign_id`'s holdout draw.
///
/// Exactly: the UTF-8 bytes of `"<campaign id in decimal>:<identity>"` are hashed with 64-bit
/// FNV-1a (offset basis `0xcbf29ce484222325`, prime `0x100000001b3`), the result is mixed with
/// MurmurHash3's 64-bit finaliser (`h ^= h >> 33; h *= 0xff51afd7ed558ccd; h ^= h >> 33;
/// h *= 0xc4ceb9fe1a85ec53; h ^= h >> 33`, wrapping) so that its low digits depend on every
/// byte, and the bucket is that number modulo 100. Integer arithmetic only: the same on every
/// platform, in the browser, and in any language that has 64-bit unsigned integers.
///
/// The campaign id is part of the key so that two campaigns hold out different people: nobody
/// is in every campaign's holdout.
pub fn holdout_bucket(campaign_id: i64, identity: &str) -> u8 {
    let mut h = FNV_OFFSET;
    let id = campaign_id.to_string();
    for b in id.bytes().chain([b':']).chain(identity.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(FNV_PRIME);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^= h >> 33;
    (h % 100) as u8
}

/// Whether `identity` is in campaign `campaign_id`'s holdout of `percent` %.
pub fn in_holdout(campaign_id: i64, identity: &str, percent: u8) -> bool {
    holdout_bucket(campaign_id, identity) < percent
}

// ---------------------------------------------------------------------------------------------
// Lift
// ---------------------------------------------------------------------------------------------

/// Below this many people who converted, or who did not, in either group, the comparison is
/// "too small to conclude": the normal approximation behind any 95 % interval (np ≥ 10 and
/// n(1 − p) ≥ 10, the usual rule of thumb) does not hold, and a handful of people would decide
/// the answer.
pub const MIN_OUTCOMES: u64 = 10;

/// z for a two-sided 95 % interval.
const Z95: f64 = 1.959_963_984_540_054;

/// One group's figures over the compared days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GroupFigures {
    /// People in the group on at least one of the days.
    pub people: u64,
    /// Of them, people who did the goal event at least once while in the group.
    pub converted: u64,
    /// Goal events by the group's people while in the group (the stats page's "conversions").
    pub conversions: u64,
}

impl GroupFigures {
    /// People who converted per 1,000 people; `None` for an empty group.
    pub fn per_thousand(&self) -> Option<f64> {
        (self.people > 0).then(|| self.converted as f64 * 1000.0 / self.people as f64)
    }
}

/// What the comparison allows one to say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Fewer than [`MIN_OUTCOMES`] people converted (or did not) in a group.
    TooSmall,
    /// The interval contains 0: the campaign may have made no difference.
    NoClearDifference,
    /// The whole interval is above 0: the audience converted more than the holdout.
    Lift,
    /// The whole interval is below 0: the audience converted less than the holdout.
    Negative,
}

/// The difference audience − holdout in people converted per 1,000, with its 95 % interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Lift {
    pub difference_per_thousand: f64,
    pub low_per_thousand: f64,
    pub high_per_thousand: f64,
    /// (audience rate − holdout rate) ÷ holdout rate, as a fraction; `None` when the holdout's
    /// rate is 0. A point estimate only: the interval is on the difference.
    pub relative: Option<f64>,
}

/// The holdout comparison of a campaign over a range of days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HoldoutStats {
    /// The campaign's holdout now; `None` when it has none (the figures may still cover days
    /// when it had one).
    pub percent: Option<u8>,
    /// The goal event; `None` without a conversion goal (nothing to compare).
    pub event: Option<String>,
    /// The first and last day compared (the range asked for, from the first run that held
    /// people out); `None` before any.
    pub from: Option<jiff::civil::Date>,
    pub to: Option<jiff::civil::Date>,
    pub audience: GroupFigures,
    pub holdout: GroupFigures,
    /// `None` when a group is empty.
    pub lift: Option<Lift>,
    pub verdict: Verdict,
}

/// Wilson's score interval for `x` successes out of `n` (95 %), as fractions.
pub fn wilson(x: u64, n: u64) -> Option<(f64, f64)> {
    if n == 0 || x > n {
        return None;
    }
    let (n, p) = (n as f64, x as f64 / n as f64);
    let z2 = Z95 * Z95;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = Z95 / denom * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    Some(((centre - half).max(0.0), (centre + half).min(1.0)))
}

/// The difference p1 − p2 of two proportions with Newcombe's hybrid score interval (his
/// "method 10", 1998), as fractions: with Wilson intervals (l1, u1) and (l2, u2),
/// low = d − √((p1 − l1)² + (u2 − p2)²) and high = d + √((u1 − p1)² + (p2 − l2)²).
/// Unlike the Wald interval it stays inside [−1, 1] and behaves with few or no successes.
pub fn newcombe_difference(x1: u64, n1: u64, x2: u64, n2: u64) -> Option<(f64, f64, f64)> {
    let (l1, u1) = wilson(x1, n1)?;
    let (l2, u2) = wilson(x2, n2)?;
    let p1 = x1 as f64 / n1 as f64;
    let p2 = x2 as f64 / n2 as f64;
    let d = p1 - p2;
    let low = d - ((p1 - l1).powi(2) + (u2 - p2).powi(2)).sqrt();
    let high = d + ((u1 - p1).powi(2) + (p2 - l2).powi(2)).sqrt();
    Some((d, low, high))
}

impl HoldoutStats {
    /// The comparison of `audience` with `holdout`.
    pub fn compute(
        percent: Option<u8>,
        event: Option<String>,
        days: (Option<jiff::civil::Date>, Option<jiff::civil::Date>),
        audience: GroupFigures,
        holdout: GroupFigures,
    ) -> HoldoutStats {
        let lift = newcombe_difference(
            audience.converted,
            audience.people,
            holdout.converted,
            holdout.people,
        )
        .map(|(d, low, high)| {
            let p2 = holdout.converted as f64 / holdout.people as f64;
            Lift {
                difference_per_thousand: d * 1000.0,
                low_per_thousand: low * 1000.0,
                high_per_thousand: high * 1000.0,
                relative: (p2 > 0.0).then(|| d / p2),
            }
        });
        let enough = |g: &GroupFigures| {
            g.converted >= MIN_OUTCOMES && g.people.saturating_sub(g.converted) >= MIN_OUTCOMES
        };
        let verdict = match lift {
            Some(l) if enough(&audience) && enough(&holdout) => {
                if l.low_per_thousand > 0.0 {
                    Verdict::Lift
                } else if l.high_per_thousand < 0.0 {
                    Verdict::Negative
                } else {
                    Verdict::NoClearDifference
                }
            }
            _ => Verdict::TooSmall,
        };
        HoldoutStats {
            percent,
            event,
            from: days.0,
            to: days.1,
            audience,
            holdout,
            lift,
            verdict,
        }
    }

    /// One plain sentence saying what the figures allow one to conclude.
    pub fn conclusion(&self) -> String {
        match (self.verdict, self.lift) {
            (Verdict::TooSmall, _) => format!(
                "Too few people to conclude: each group needs at least {MIN_OUTCOMES} people who converted and {MIN_OUTCOMES} who did not. Keep the campaign running, or enlarge the holdout."
            ),
            (Verdict::Lift, Some(l)) => format!(
                "The campaign lifted conversions: {} more people converted per 1,000 in the audience than in the holdout (95 % confidence: {} to {}).",
                format_per_thousand(l.difference_per_thousand),
                format_per_thousand(l.low_per_thousand),
                format_per_thousand(l.high_per_thousand),
            ),
            (Verdict::Negative, Some(l)) => format!(
                "The audience converted less than the holdout: {} fewer people per 1,000 (95 % confidence: {} to {}).",
                format_per_thousand(-l.difference_per_thousand),
                format_per_thousand(-l.high_per_thousand),
                format_per_thousand(-l.low_per_thousand),
            ),
            (_, Some(l)) => format!(
                "No clear difference yet: the 95 % interval of the lift ({} to {} per 1,000) includes zero.",
                format_per_thousand(l.low_per_thousand),
                format_per_thousand(l.high_per_thousand),
            ),
            (_, None) => "No clear difference yet.".to_owned(),
        }
    }
}

/// A rate per 1,000 with one decimal: "12.3", "-0.4".
pub fn format_per_thousand(v: f64) -> String {
    let r = (v * 10.0).round() / 10.0;
    // -0.0 reads as "0.0".
    format!("{:.1}", if r == 0.0 { 0.0 } else { r })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_names_the_field_and_accepts_whole_percentages() {
        for ok in [None, Some(0.0), Some(1.0), Some(20.0), Some(50.0)] {
            assert_eq!(validate_holdout(ok), None, "{ok:?}");
        }
        for bad in [
            Some(60.0),
            Some(50.5),
            Some(-1.0),
            Some(12.5),
            Some(f64::NAN),
        ] {
            let e = validate_holdout(bad).expect("an error");
            assert_eq!(e.path, "holdout_percent");
        }
        assert!(
            validate_holdout(Some(60.0))
                .unwrap()
                .message
                .contains("50 %")
        );
        assert_eq!(holdout_percent(Some(20.0)), Some(20));
        assert_eq!(holdout_percent(Some(0.0)), None);
        assert_eq!(holdout_percent(Some(60.0)), None);
        assert_eq!(describe_holdout(None), "No holdout.");
        assert_eq!(describe_holdout(Some(0.0)), "No holdout.");
        assert!(describe_holdout(Some(20.0)).starts_with("Holdout: 20 % of the segment"));
    }

    #[test]
    fn the_bucket_is_the_documented_hash() {
        // Computed apart from this code, with the steps of `holdout_bucket`'s doc in Python
        // (integers modulo 2^64). They must never change, or people would change group
        // between releases.
        assert_eq!(holdout_bucket(7, "alice"), 88);
        assert_eq!(holdout_bucket(7, "bob"), 81);
        assert_eq!(holdout_bucket(12, "alice"), 11);
        assert_eq!(holdout_bucket(1, "Zoë"), 62);
        assert!(in_holdout(7, "bob", 82) && !in_holdout(7, "bob", 81));
    }

    #[test]
    fn buckets_are_even_and_raising_the_percentage_only_adds_people() {
        let n = 100_000;
        let held = |p: u8| {
            (0..n)
                .filter(|i| in_holdout(3, &format!("user-{i:06}"), p))
                .count()
        };
        let twenty = held(20);
        // 20,000 expected; the binomial's standard deviation is about 126.
        assert!((19_500..=20_500).contains(&twenty), "{twenty}");
        // Monotone: everyone held out at 10 % is held out at 20 %.
        for i in 0..5_000 {
            let id = format!("user-{i:06}");
            if in_holdout(3, &id, 10) {
                assert!(in_holdout(3, &id, 20));
            }
        }
        // Another campaign draws other people.
        let both = (0..10_000)
            .filter(|i| {
                let id = format!("user-{i:06}");
                in_holdout(3, &id, 20) && in_holdout(4, &id, 20)
            })
            .count();
        assert!((300..=500).contains(&both), "{both}");
    }

    #[test]
    fn wilson_and_newcombe_match_the_published_examples() {
        // Newcombe (1998), Statistics in Medicine 17:857–872, Table II: 81/263 → 0.2553–0.3662.
        let (l, u) = wilson(81, 263).unwrap();
        assert!(
            (l - 0.2553).abs() < 5e-5 && (u - 0.3662).abs() < 5e-5,
            "{l} {u}"
        );
        // Newcombe (1998), Statistics in Medicine 17:873–890, Table II, method 10:
        // 56/70 − 48/80 = 0.2000, 95 % CI 0.0524 to 0.3339.
        let (d, low, high) = newcombe_difference(56, 70, 48, 80).unwrap();
        assert!((d - 0.2).abs() < 1e-12);
        assert!((low - 0.0524).abs() < 5e-5, "{low}");
        assert!((high - 0.3339).abs() < 5e-5, "{high}");
        // Zero successes stay inside the bounds: 0/10 − 0/20 → −0.1611 to 0.2775.
        let (_, low, high) = newcombe_difference(0, 10, 0, 20).unwrap();
        assert!((low + 0.1611).abs() < 5e-5, "{low}");
        assert!((high - 0.2775).abs() < 5e-5, "{high}");
        assert_eq!(newcombe_difference(1, 0, 1, 2), None);
    }

    #[test]
    fn the_verdict_says_when_the_numbers_are_too_small() {
        let g = |people, converted| GroupFigures {
            people,
            converted,
            conversions: converted,
        };
        // 100 of 1,000 vs 50 of 1,000: 50 per 1,000 more, clearly above 0.
        let s = HoldoutStats::compute(Some(20), None, (None, None), g(1000, 100), g(1000, 50));
        assert_eq!(s.verdict, Verdict::Lift);
        let l = s.lift.unwrap();
        assert!((l.difference_per_thousand - 50.0).abs() < 1e-9);
        assert!(l.low_per_thousand > 0.0 && l.high_per_thousand > l.difference_per_thousand);
        assert_eq!(l.relative, Some(1.0));
        assert!(
            s.conclusion()
                .contains("50.0 more people converted per 1,000")
        );
        // Nine conversions in the holdout: too small, whatever the rates.
        let s = HoldoutStats::compute(Some(20), None, (None, None), g(1000, 100), g(200, 9));
        assert_eq!(s.verdict, Verdict::TooSmall);
        assert!(s.conclusion().starts_with("Too few people to conclude"));
        // Close rates: the interval spans 0.
        let s = HoldoutStats::compute(Some(20), None, (None, None), g(1000, 100), g(250, 24));
        assert_eq!(s.verdict, Verdict::NoClearDifference);
        assert!(s.conclusion().contains("includes zero"));
        // Worse than the holdout.
        let s = HoldoutStats::compute(Some(20), None, (None, None), g(2000, 40), g(1000, 100));
        assert_eq!(s.verdict, Verdict::Negative);
        // An empty holdout: nothing to compare.
        let s = HoldoutStats::compute(Some(20), None, (None, None), g(1000, 100), g(0, 0));
        assert_eq!((s.verdict, s.lift), (Verdict::TooSmall, None));
        assert_eq!(format_per_thousand(-0.04), "0.0");
        assert_eq!(format_per_thousand(12.345), "12.3");
    }
}
