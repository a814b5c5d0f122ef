//! The instance decoder with any background and parameters.
#![no_main]

use libfuzzer_sys::fuzz_target;
use peel_fuzz::Visualization;
use peel_protocol::segmentation::instance::{self, InstanceParams};

fuzz_target!(|input: (Visualization, [u8; 3], f32, f32, Option<u16>)| {
    let (image, background, background_tolerance, cluster_radius, min_pixels) = input;
    let params = InstanceParams { background_tolerance, cluster_radius, min_pixels: min_pixels.map(usize::from) };
    let (w, h) = image.size();
    let Ok(map) = instance::decode(image.pixels(), w, h, background, &params) else { return };
    assert_eq!(map.ids.len(), (w * h) as usize);
    assert!(map.ids.iter().all(|&id| usize::from(id) <= map.instances.len()));
    assert_eq!(map.masks().len(), map.instances.len());
});
