//! The semantic decoder with any palette and tolerance, and the label / mask / cut-out exports.
#![no_main]

use libfuzzer_sys::fuzz_target;
use peel_fuzz::Visualization;
use peel_protocol::export;
use peel_protocol::segmentation::{UNLABELED, semantic};

fuzz_target!(|input: (Visualization, Vec<[u8; 3]>, f32)| {
    let (image, palette, tolerance) = input;
    let (w, h) = image.size();
    let Ok(labels) = semantic::decode(image.pixels(), w, h, &palette, tolerance) else { return };
    assert!(labels.labels.iter().all(|&l| l == UNLABELED || usize::from(l) < palette.len()));
    let counts = labels.counts(palette.len());
    assert_eq!(counts.iter().sum::<usize>() + labels.labels.iter().filter(|&&l| l == UNLABELED).count(), labels.labels.len());
    let _ = semantic::render(&labels, &palette, [0, 0, 0]);
    let _ = export::label_png(&labels.labels, w, h);
    if let Some(first) = labels.labels.iter().copied().find(|&l| l != UNLABELED) {
        let _ = export::mask_png(&labels.labels, w, h, first);
        let _ = export::cutout_png(image.pixels(), &labels.labels, w, h, first);
    }
});
