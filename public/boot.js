// Loads the WASM app. wasm-bindgen's `start` function mounts it on <body>.
import init from "/pkg/app.js";

init({ module_or_path: "/pkg/app_bg.wasm" }).catch((err) => {
  document.body.textContent = `The app failed to start: ${err}`;
  throw err;
});
