//! Numbers typed by the user, read with the browser's own parser.
//!
//! Why not `str::parse::<f64>`: Rust's float parser brings its tables (`dec2flt`'s 10 KB table of
//! powers of five, which hardly compresses) and code: 17.9 KB brotli in a chunk that the wizard
//! and Segments downloaded only for their three number fields. JavaScript's `Number()` is already
//! in the browser. It also reads forms Rust's parser refuses ("", "0x1A", "0b1", "Infinity"), so
//! only the characters of a decimal number are let through; on those the two agree.

use wasm_bindgen::prelude::wasm_bindgen;

#[wasm_bindgen]
extern "C" {
    /// JavaScript's `Number(text)`: the whole string must read as a number, else NaN.
    #[wasm_bindgen(js_name = Number)]
    fn js_number(text: &str) -> f64;
}

/// The number in `text` (surrounding whitespace ignored), or `None` if it is not one: what
/// `text.trim().parse::<f64>().ok()` gives for every finite decimal number.
pub fn parse_number(text: &str) -> Option<f64> {
    let text = text.trim();
    let decimal = text
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'));
    if text.is_empty() || !decimal {
        return None;
    }
    let n = js_number(text);
    (!n.is_nan()).then_some(n)
}
