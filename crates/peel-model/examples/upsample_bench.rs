//! Times bringing a painting to a photo's size: the plain resize against the guided upsampling,
//! for segmentation (vote) and depth/normals (average). Prints the median of 15 runs for two
//! cases: a 128×96 painting to a 1024×768 photo, and the app's own case, each network's painting
//! (half its input, whose long side is the shipped manifest's for the task: 256 px for depth and
//! normals, 320 for segmentation; 128×80 and 160×96 for a 451×300 photo) at the photo's size.
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
use peel_model::state::Manifest;
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

/// The photo at `size`, cut into 8 brightness bands: a segmentation-like painting.
fn banded(photo: &RgbImage, (w, h): (u32, u32)) -> RgbImage {
    let smooth = image::imageops::resize(photo, w, h, FilterType::Triangle);
    RgbImage::from_fn(w, h, |x, y| {
        let p = smooth.get_pixel(x, y).0;
        let band = (u32::from(p[0]) + u32::from(p[1]) + u32::from(p[2])) / 96;
        Rgb([(band * 32) as u8, 255 - (band * 32) as u8, (band * 97 % 256) as u8])
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let samples = concat!(env!("CARGO_MANIFEST_DIR"), "/../../static/samples/");
    let path = std::env::args().nth(1).unwrap_or_else(|| format!("{samples}coffee.png"));
    let large = image::imageops::resize(&image::open(&path)?.to_rgb8(), 1024, 768, FilterType::Triangle);
    let app_photo = image::open(format!("{samples}chelsea.png"))?.to_rgb8();
    let manifest = Manifest::from_json(&std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../weights/manifest.json"))?)?;
    // The painting each task gets for the app's photo: half its network's input.
    let painting_size = |task: &str| {
        let (w, h) = preprocess::model_size(app_photo.width(), app_photo.height(), manifest.input_long_side_for(task));
        preprocess::output_size(w, h)
    };
    for (photo, segmentation_size, geometry_size) in
        [(&large, (128, 96), (128, 96)), (&app_photo, painting_size("semantic"), painting_size("depth"))]
    {
        println!("to a {}x{} photo, median of 15 runs:", photo.width(), photo.height());
        let bands = banded(photo, segmentation_size);
        let smooth = image::imageops::resize(photo, geometry_size.0, geometry_size.1, FilterType::Triangle);
        for (name, painting, combine) in [("segmentation", &bands, Combine::Vote), ("depth/normals", &smooth, Combine::Average)] {
            let resize = median_ms(|| drop(to_photo_size(painting.clone(), photo, combine, Upsampling::Resize)));
            let guided = median_ms(|| drop(to_photo_size(painting.clone(), photo, combine, Upsampling::Guided)));
            let (pw, ph) = painting.dimensions();
            println!("{name:>14} ({pw}x{ph} painting): resize {resize:6.2} ms, guided {guided:6.2} ms ({:.1}x)", guided / resize);
        }
        let min_pixels = (f64::from(bands.width() * bands.height()) * SPECK_SHARE).ceil() as usize;
        let specks = median_ms(|| {
            despeckle(&mut bands.clone(), min_pixels);
        });
        println!("{:>14}: {specks:6.2} ms (pieces under {min_pixels} pixels repainted)", "despeckle");
    }
    Ok(())
}
