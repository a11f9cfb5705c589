//! Facebook's rate-limit headers and the pause they call for.
//!
//! `X-App-Usage` `{"call_count","total_cputime","total_time"}` (percent), `X-Ad-Account-Usage`
//! `{"acc_id_util_pct","reset_time_duration"}` and `X-Business-Use-Case-Usage`
//! `{"<business>":[{"type","call_count","total_cputime","total_time",
//! "estimated_time_to_regain_access"(minutes)}]}`.

use std::time::Duration;

use reqwest::header::HeaderMap;
use serde_json::Value;

/// Above this usage (percent) the client starts spacing its calls out.
pub const SLOW_DOWN_ABOVE_PCT: f64 = 75.0;

/// What the headers of one answer say.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Usage {
    /// The highest percentage reported by any header.
    pub max_pct: f64,
    /// The longest `estimated_time_to_regain_access` (or `reset_time_duration` when at 100%).
    pub regain_access: Option<Duration>,
}

impl Usage {
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let mut usage = Usage::default();
        let json = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|s| serde_json::from_str::<Value>(s).ok())
        };
        if let Some(app) = json("x-app-usage") {
            usage.note_pcts(&app, &["call_count", "total_cputime", "total_time"]);
        }
        if let Some(acc) = json("x-ad-account-usage") {
            usage.note_pcts(&acc, &["acc_id_util_pct"]);
            if let Some(reset) =
                number(acc.get("reset_time_duration")).filter(|_| usage.max_pct >= 100.0)
            {
                usage.note_wait(Duration::from_secs_f64(reset.max(0.0)));
            }
        }
        if let Some(Value::Object(buc)) = json("x-business-use-case-usage") {
            for entries in buc.values() {
                for entry in entries.as_array().into_iter().flatten() {
                    usage.note_pcts(entry, &["call_count", "total_cputime", "total_time"]);
                    if let Some(minutes) =
                        number(entry.get("estimated_time_to_regain_access")).filter(|m| *m > 0.0)
                    {
                        usage.note_wait(Duration::from_secs_f64(minutes * 60.0));
                    }
                }
            }
        }
        usage
    }

    fn note_pcts(&mut self, obj: &Value, keys: &[&str]) {
        for key in keys {
            if let Some(pct) = number(obj.get(*key)) {
                self.max_pct = self.max_pct.max(pct);
            }
        }
    }

    fn note_wait(&mut self, wait: Duration) {
        self.regain_access = Some(self.regain_access.map_or(wait, |w| w.max(wait)));
    }

    /// The pause before the next call: the regain time if blocked, otherwise a delay growing
    /// linearly from 0 at [`SLOW_DOWN_ABOVE_PCT`] to `max_delay` at 100%.
    pub fn pause(&self, max_delay: Duration) -> Duration {
        if let Some(wait) = self.regain_access {
            return wait;
        }
        if self.max_pct <= SLOW_DOWN_ABOVE_PCT {
            return Duration::ZERO;
        }
        let frac = ((self.max_pct - SLOW_DOWN_ABOVE_PCT) / (100.0 - SLOW_DOWN_ABOVE_PCT)).min(1.0);
        max_delay.mul_f64(frac)
    }
}

// Facebook sends numbers, but tolerate numeric strings.
fn number(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn no_headers_no_pause() {
        let u = Usage::from_headers(&HeaderMap::new());
        assert_eq!(u.pause(Duration::from_secs(10)), Duration::ZERO);
    }

    #[test]
    fn highest_percentage_wins_and_slows_down_above_75() {
        let u = Usage::from_headers(&headers(&[
            (
                "x-app-usage",
                r#"{"call_count":10,"total_cputime":5,"total_time":3}"#,
            ),
            (
                "x-business-use-case-usage",
                r#"{"123":[{"type":"custom_audience","call_count":90,"total_cputime":1,"total_time":1,"estimated_time_to_regain_access":0}]}"#,
            ),
        ]));
        assert_eq!(u.max_pct, 90.0);
        assert_eq!(u.regain_access, None);
        assert_eq!(u.pause(Duration::from_secs(10)), Duration::from_secs(6));
    }

    #[test]
    fn regain_time_is_honoured() {
        let u = Usage::from_headers(&headers(&[(
            "x-business-use-case-usage",
            r#"{"1":[{"type":"ads_management","call_count":100,"estimated_time_to_regain_access":3}],"2":[{"type":"custom_audience","call_count":50,"estimated_time_to_regain_access":1}]}"#,
        )]));
        assert_eq!(u.pause(Duration::from_secs(1)), Duration::from_secs(180));
    }

    #[test]
    fn ad_account_usage_at_100_waits_for_reset() {
        let u = Usage::from_headers(&headers(&[(
            "x-ad-account-usage",
            r#"{"acc_id_util_pct":100,"reset_time_duration":42,"ads_api_access_tier":"standard_access"}"#,
        )]));
        assert_eq!(u.regain_access, Some(Duration::from_secs(42)));
    }
}
