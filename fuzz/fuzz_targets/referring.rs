//! The referring decoder with any number of target colours.
#![no_main]

use libfuzzer_sys::fuzz_target;
use peel_fuzz::Visualization;
use peel_protocol::segmentation::referring;

fuzz_target!(|input: (Visualization, Vec<[u8; 3]>, [u8; 3], f32)| {
    let (image, targets, background, tolerance) = input;
    let (w, h) = image.size();
    let Ok(masks) = referring::decode(image.pixels(), w, h, &targets, background, tolerance) else { return };
    let counts = masks.counts();
    assert_eq!(counts.len(), targets.len());
    assert!(counts.iter().sum::<usize>() <= (w * h) as usize);
    assert_eq!(masks.union().len(), (w * h) as usize);
    let _ = masks.labels();
});
