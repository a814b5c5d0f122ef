//! The weights manifest (`weights/manifest.json`, fetched by the worker).
#![no_main]

use libfuzzer_sys::fuzz_target;
use peel_model::state::Manifest;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(manifest) = Manifest::from_json(text) {
        let _ = manifest.architecture.config();
        let _ = manifest.supports("depth");
    }
});
