//! Times bringing a painting to a photo's size: the plain resize against the guided upsampling,
//! for segmentation (vote) and depth/normals (average). Prints the median of 15 runs for two
//! cases: a 128×96 painting to a 1024×768 photo, and the app's own case, the network's painting
//! (half its input, whose long side is 256 px: 128×80 for a 451×300 photo) at the photo's size.
//!
//!     cargo run --release -p peel-model --example upsample_bench [PHOTO]
//!
//! The photo defaults to static/samples/coffee.png (the app's case: static/samples/chelsea.png,
//! the benchmark's photo). The segmentation-like painting is the photo at the painting's size
//! cut into 8 brightness bands (more edges than a real segmentation, so the vote's cost is not
//! flattered); the depth-like one is the photo at the painting's size. The speck step that
//! instance and referring paintings take first (`despeckle`, at the app's share) is timed on the
//! banded painting too.

use std::time::Instant;

use image::{Rgb, RgbImage, imageops::FilterType};
use peel_model::despeckle::despeckle;
use peel_model::preprocess::{self, SPECK_SHARE, Upsampling, to_photo_size};
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
    let samples = concat!(env!("CARGO_MANIFEST_DIR"), "/../../static/samples/");
    let path = std::env::args().nth(1).unwrap_or_else(|| format!("{samples}coffee.png"));
    let large = image::imageops::resize(&image::open(&path)?.to_rgb8(), 1024, 768, FilterType::Triangle);
    let app_photo = image::open(format!("{samples}chelsea.png"))?.to_rgb8();
    let (w, h) = preprocess::model_size(app_photo.width(), app_photo.height(), 256);
    let (pw, ph) = preprocess::output_size(w, h);
    for (photo, (pw, ph)) in [(&large, (128, 96)), (&app_photo, (pw, ph))] {
        let smooth = image::imageops::resize(photo, pw, ph, FilterType::Triangle);
        let bands = RgbImage::from_fn(pw, ph, |x, y| {
            let p = smooth.get_pixel(x, y).0;
            let band = (u32::from(p[0]) + u32::from(p[1]) + u32::from(p[2])) / 96;
            Rgb([(band * 32) as u8, 255 - (band * 32) as u8, (band * 97 % 256) as u8])
        });
        println!("{pw}x{ph} painting -> {}x{} photo, median of 15 runs:", photo.width(), photo.height());
        for (name, painting, combine) in [("segmentation", &bands, Combine::Vote), ("depth/normals", &smooth, Combine::Average)] {
            let resize = median_ms(|| drop(to_photo_size(painting.clone(), photo, combine, Upsampling::Resize)));
            let guided = median_ms(|| drop(to_photo_size(painting.clone(), photo, combine, Upsampling::Guided)));
            println!("{name:>14}: resize {resize:6.2} ms, guided {guided:6.2} ms ({:.1}x)", guided / resize);
        }
        let min_pixels = (f64::from(pw * ph) * SPECK_SHARE).ceil() as usize;
        let specks = median_ms(|| drop(despeckle(&mut bands.clone(), min_pixels)));
        println!("{:>14}: {specks:6.2} ms (pieces under {min_pixels} pixels repainted)", "despeckle");
    }
    Ok(())
}
