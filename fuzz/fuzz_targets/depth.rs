//! The depth decoder (`peel decode --task depth`, the page's readout), with any codec a prompt
//! can name, and the exports made from its result.
#![no_main]

use libfuzzer_sys::fuzz_target;
use peel_fuzz::Visualization;
use peel_protocol::depth::DepthCodec;
use peel_protocol::export;

fuzz_target!(|input: (Visualization, Option<(f32, f32)>, f32)| {
    let (image, codec, fov) = input;
    let codec = match codec {
        Some((lambda, c)) => match DepthCodec::new(lambda, c) {
            Ok(codec) => codec,
            Err(_) => return,
        },
        None => DepthCodec::PAPER,
    };
    let (w, h) = image.size();
    let Ok(map) = codec.decode_image(image.pixels(), w, h) else { return };
    assert_eq!(map.meters.len(), (w * h) as usize);
    let _ = (map.sky_fraction(), map.mean_off_path());
    let _ = export::depth_png_mm(&map.meters, w, h);
    let _ = export::depth_npy(&map.meters, w, h);
    let _ = export::depth_pfm(&map.meters, w, h);
    let _ = export::depth_ply(&map.meters, image.pixels(), w, h, fov);
});
