//! Runs the shipped network on one photo again and again on the CPU (flex) backend, for a profiler:
//! the warm paint the benchmark's "model" column times, without the page around it. Prints the
//! median of the runs.
//!
//!     cargo build --release -p peel-model --example network_profile
//!     perf record -g target/release/examples/network_profile [PHOTO] [RUNS]
//!     perf report --no-children --sort symbol
//!
//! The photo (default: static/samples/chelsea.png, as in docs/PERFORMANCE.md) is prepared at the
//! app's input size and painted with the depth prompt; the weights come from $PEEL_WEIGHTS or the
//! repo's weights/.

use std::path::PathBuf;
use std::time::Instant;

use burn::prelude::*;
use peel_model::{Device, Generator, preprocess};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let mut args = std::env::args().skip(1);
    let photo = args.next().map(PathBuf::from).unwrap_or_else(|| root.join("static/samples/chelsea.png"));
    let runs: usize = args.next().map(|n| n.parse()).transpose()?.unwrap_or(100);
    let weights = std::env::var_os("PEEL_WEIGHTS").map(PathBuf::from).unwrap_or_else(|| root.join("weights"));

    let device = Device::default();
    let generator = Generator::load_dir(&weights, &device)?;
    let request = peel_protocol::prompt::parse("Generate a metric depth map of the input image.")?;
    let conditioning = generator.condition(&request)?;
    let input = preprocess::prepare(&image::open(&photo)?.to_rgb8(), generator.manifest().input_long_side);
    let shape = [1, 3, input.height as usize, input.width as usize];
    let input = Tensor::<4>::from_data(TensorData::new(input.chw, shape), &device);

    let mut times: Vec<f64> = (0..runs.max(1))
        .map(|_| {
            let start = Instant::now();
            let painted = generator.paint_tensor(input.clone(), &conditioning).expect("the input shape was checked");
            painted.into_data();
            start.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    println!("{}x{} input, {} runs: median {:.1} ms", shape[3], shape[2], times.len(), times[times.len() / 2]);
    Ok(())
}
