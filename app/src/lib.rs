//! The browser app: a Leptos client-side-rendered SPA. `boot.js` loads this module and
//! wasm-bindgen runs [`start`], which mounts [`app::App`] on the page.

mod api;
mod app;
mod components;
mod contexts;
mod lazy_pages;
mod local_time;
mod number_text;
mod pages;

use wasm_bindgen::prelude::wasm_bindgen;

#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
