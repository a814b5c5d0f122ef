//! Times bringing a 128×96 painting to a 1024×768 photo: the plain resize against the guided
//! upsampling, for segmentation (vote) and depth/normals (average). Prints the median of 15 runs.
//!
//!     cargo run --release -p peel-model --example upsample_bench [PHOTO]
//!
//! The photo (default: static/samples/coffee.png) is resized to 1024×768. The segmentation-like
//! painting is the photo at 128×96 cut into 8 brightness bands (more edges than a real
//! segmentation, so the vote's cost is not flattered); the depth-like one is the photo at 128×96.

use std::time::Instant;

use image::{Rgb, RgbImage, imageops::FilterType};
use peel_model::preprocess::{Upsampling, to_photo_size};
use peel_model::upsample::Combine;

fn median_ms(mut run: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..15)
        .map(|_| {
            let start = Instant::now();
            run();
            start.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../../static/samples/coffee.png").into());
    let photo = image::imageops::resize(&image::open(&path)?.to_rgb8(), 1024, 768, FilterType::Triangle);
    let smooth = image::imageops::resize(&photo, 128, 96, FilterType::Triangle);
    let bands = RgbImage::from_fn(128, 96, |x, y| {
        let p = smooth.get_pixel(x, y).0;
        let band = (u32::from(p[0]) + u32::from(p[1]) + u32::from(p[2])) / 96;
        Rgb([(band * 32) as u8, 255 - (band * 32) as u8, (band * 97 % 256) as u8])
    });
    println!("128x96 painting -> 1024x768 photo ({path}), median of 15 runs:");
    for (name, painting, combine) in [("segmentation", &bands, Combine::Vote), ("depth/normals", &smooth, Combine::Average)] {
        let resize = median_ms(|| drop(to_photo_size(painting.clone(), &photo, combine, Upsampling::Resize)));
        let guided = median_ms(|| drop(to_photo_size(painting.clone(), &photo, combine, Upsampling::Guided)));
        println!("{name:>14}: resize {resize:6.1} ms, guided {guided:6.1} ms ({:.1}x)", guided / resize);
    }
    Ok(())
}
