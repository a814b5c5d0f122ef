//! The surface-normal decoder and its `.npy` export.
#![no_main]

use libfuzzer_sys::fuzz_target;
use peel_fuzz::Visualization;
use peel_protocol::{export, normals};

fuzz_target!(|image: Visualization| {
    let (w, h) = image.size();
    let Ok(map) = normals::decode_image(image.pixels(), w, h) else { return };
    assert_eq!(map.normals.len(), (w * h) as usize);
    let flat: Vec<f32> = map.normals.iter().flatten().copied().collect();
    let _ = export::normals_npy(&flat, w, h);
});
