//! Every instant the app shows goes through here: it is read on the wall clock of the viewer's
//! time zone (the browser's) and worded by [`shared::time_text`]: "Mon 7 Dec 2026, 15:21 CET".
//!
//! The browser's `Intl.DateTimeFormat` does the time zone work, for the viewer's zone and for a
//! campaign's: the app carries no time zone database for this, so the first download (the
//! campaign list) stays small. The API sends RFC 3339 UTC; a text that does not read as an
//! instant is shown as it came.

use std::{cell::RefCell, collections::HashMap};

use js_sys::{Array, Object, Reflect};
use shared::time_text::{WallClock, campaign_clock_text, instant_text, is_offset_name};
use wasm_bindgen::{JsCast, JsValue, prelude::wasm_bindgen};

#[wasm_bindgen]
extern "C" {
    /// `Intl.DateTimeFormat`, built with `catch`: a zone name the browser does not know throws.
    #[wasm_bindgen(js_namespace = Intl)]
    type DateTimeFormat;
    #[wasm_bindgen(catch, constructor, js_namespace = Intl)]
    fn new(locale: &str, options: &Object) -> Result<DateTimeFormat, JsValue>;
    /// `formatToParts` of milliseconds since the epoch.
    #[wasm_bindgen(method, js_name = formatToParts)]
    fn format_to_parts(this: &DateTimeFormat, millis: f64) -> Array;
    #[wasm_bindgen(method, js_name = resolvedOptions)]
    fn resolved_options(this: &DateTimeFormat) -> Object;

    /// One of `formatToParts`' `{type, value}`.
    type Part;
    #[wasm_bindgen(method, getter, js_name = "type")]
    fn kind(this: &Part) -> String;
    #[wasm_bindgen(method, getter)]
    fn value(this: &Part) -> String;
}

/// English variants asked in turn for a zone's short name, until one has a name rather than an
/// offset: "CET" is British English's, "EST" American, "IST" Indian, "AEDT" Australian…
const LOCALES: [&str; 10] = [
    "en-GB", "en-US", "en-IN", "en-AU", "en-ZA", "en-SG", "en-HK", "en-NZ", "en-CA", "en-IE",
];

thread_local! {
    /// Per zone, the formatter that names it best; `None` for a zone the browser does not know.
    static FORMATS: RefCell<HashMap<String, Option<DateTimeFormat>>> = RefCell::default();
    static VIEWER_ZONE: String = browser_zone();
}

/// The viewer's time zone, as the browser reports it ("Europe/Berlin"); UTC if it does not.
pub fn viewer_zone() -> String {
    VIEWER_ZONE.with(Clone::clone)
}

/// "Mon 7 Dec 2026, 15:21 CET": `rfc3339` in the viewer's time zone.
pub fn instant(rfc3339: &str) -> String {
    millis(rfc3339)
        .and_then(|ms| read(ms, &viewer_zone()))
        .map_or_else(|| rfc3339.to_owned(), |clock| instant_text(&clock))
}

/// A time a schedule is about: [`instant`], and the campaign's reading of it when the campaign's
/// zone reads differently ("09:00 in Asia/Kolkata").
pub fn schedule_instant(rfc3339: &str, campaign_zone: &str) -> (String, Option<String>) {
    let Some(ms) = millis(rfc3339) else {
        return (rfc3339.to_owned(), None);
    };
    let Some(viewer) = read(ms, &viewer_zone()) else {
        return (rfc3339.to_owned(), None);
    };
    let campaign =
        read(ms, campaign_zone).and_then(|c| campaign_clock_text(&viewer, &c, campaign_zone));
    (instant_text(&viewer), campaign)
}

/// The wall clock of `zone` now ("what day is it for the ad account?"); the viewer's zone when
/// `zone` is none or the browser does not know it. jiff has no zone database in the browser: its
/// own reading would fall back to UTC.
pub fn now_in(zone: Option<&str>) -> Option<WallClock> {
    let now = js_sys::Date::now();
    zone.and_then(|z| read(now, z))
        .or_else(|| read(now, &viewer_zone()))
}

/// Milliseconds since the epoch; none when the text is not an instant. `Date.parse` reads RFC
/// 3339 (with any number of fractional digits) at no cost to the download.
fn millis(rfc3339: &str) -> Option<f64> {
    Some(js_sys::Date::parse(rfc3339)).filter(|ms| ms.is_finite())
}

/// The instant `ms` on the wall clock of `zone`, with the zone's short name.
fn read(ms: f64, zone: &str) -> Option<WallClock> {
    FORMATS.with(|formats| {
        let mut formats = formats.borrow_mut();
        let format = formats
            .entry(zone.to_owned())
            .or_insert_with(|| best_format(ms, zone))
            .as_ref()?;
        wall_clock(format, ms)
    })
}

/// The first of [`LOCALES`] that names `zone` at `ms`, else the first (which gives the offset).
fn best_format(ms: f64, zone: &str) -> Option<DateTimeFormat> {
    let mut fallback = None;
    for locale in LOCALES {
        let format = DateTimeFormat::new(locale, &options(zone)).ok()?;
        if wall_clock(&format, ms).is_some_and(|c| !is_offset_name(&c.zone)) {
            return Some(format);
        }
        fallback.get_or_insert(format);
    }
    fallback
}

/// `{timeZone, year, month, day, hour, minute: numeric, hourCycle: h23, timeZoneName: short}`.
fn options(zone: &str) -> Object {
    let options = Object::new();
    let set = |key: &str, value: &str| {
        let _ = Reflect::set(&options, &key.into(), &value.into());
    };
    set("timeZone", zone);
    for key in ["year", "month", "day", "hour", "minute"] {
        set(key, "numeric");
    }
    set("hourCycle", "h23");
    set("timeZoneName", "short");
    options
}

fn wall_clock(format: &DateTimeFormat, ms: f64) -> Option<WallClock> {
    let (mut year, mut month, mut day, mut hour, mut minute) = (None, None, None, None, None);
    let mut zone = String::new();
    for part in format.format_to_parts(ms).iter() {
        let part: Part = part.unchecked_into();
        let number = || part.value().parse::<u16>().ok();
        match part.kind().as_str() {
            "year" => year = number(),
            "month" => month = number(),
            "day" => day = number(),
            "hour" => hour = number(),
            "minute" => minute = number(),
            "timeZoneName" => zone = part.value(),
            _ => {}
        }
    }
    let small = |n: Option<u16>| n.and_then(|n| u8::try_from(n).ok());
    Some(WallClock {
        year: i16::try_from(year?).ok()?,
        month: small(month).filter(|m| (1..=12).contains(m))?,
        day: small(day).filter(|d| (1..=31).contains(d))?,
        // `h23` reads 0–23; some engines still said 24 for midnight.
        hour: small(hour)? % 24,
        minute: small(minute).filter(|m| *m < 60)?,
        zone,
    })
}

fn browser_zone() -> String {
    DateTimeFormat::new("en-GB", &Object::new())
        .ok()
        .and_then(|f| Reflect::get(&f.resolved_options(), &"timeZone".into()).ok())
        .and_then(|v| v.as_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "UTC".to_owned())
}
