//! Prints how long each decoder takes on a 1024×1024 image (best of 5 runs).
//!
//! `cargo run --release -p peel-protocol --example decode_speed`

use std::hint::black_box;
use std::time::{Duration, Instant};

use peel_protocol::color::CSS_COLORS;
use peel_protocol::depth::DepthCodec;
use peel_protocol::normals;
use peel_protocol::segmentation::{DEFAULT_TOLERANCE, instance, referring, semantic};

const SIDE: u32 = 1024;

fn best_of_5(mut f: impl FnMut()) -> Duration {
    (0..5)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}

/// Cheap deterministic per-pixel jitter in [-3, 3], like a generator's colour noise.
fn jitter(i: usize) -> i16 {
    ((i.wrapping_mul(2_654_435_761) >> 13) % 7) as i16 - 3
}

fn noisy(rgb: Vec<u8>) -> Vec<u8> {
    rgb.into_iter().enumerate().map(|(i, v)| (i16::from(v) + jitter(i)).clamp(0, 255) as u8).collect()
}

fn main() {
    let n = (SIDE * SIDE) as usize;
    let codec = DepthCodec::default();
    let depth: Vec<f32> = (0..n).map(|i| 0.3 + 80.0 * (i as f32 / n as f32)).collect();
    let depth_rgb = noisy(codec.encode_image(&depth, SIDE, SIDE).expect("encode depth"));
    let xyz: Vec<f32> = (0..n)
        .flat_map(|i| {
            let (x, y) = ((i % 1024) as f32 / 1024.0 - 0.5, (i / 1024) as f32 / 1024.0 - 0.5);
            [x, y, (1.0 - x * x - y * y).sqrt()]
        })
        .collect();
    let normal_rgb = noisy(normals::encode_image(&xyz, SIDE, SIDE).expect("encode normals"));
    // 20 classes in 52-pixel stripes; blocks of 4 colours on black for instances.
    let palette: Vec<[u8; 3]> = CSS_COLORS.iter().step_by(7).map(|c| c.1).take(20).collect();
    let seg_rgb = noisy((0..n).flat_map(|i| palette[(i % 1024) / 52 % 20]).collect());
    let inst_rgb = noisy(
        (0..n)
            .flat_map(|i| {
                let (x, y) = (i % 1024, i / 1024);
                if (x / 128 + y / 256) % 2 == 0 { palette[(x / 256 + y / 256) % 4] } else { [0, 0, 0] }
            })
            .collect(),
    );

    let report = |name: &str, t: Duration| {
        println!("{name:<28} {:>8.1} ms   {:>6.1} Mpx/s", t.as_secs_f64() * 1e3, n as f64 / t.as_secs_f64() / 1e6);
    };
    println!("decoding a {SIDE}x{SIDE} image, best of 5:");
    report("depth::decode_image", best_of_5(|| drop(black_box(codec.decode_image(&depth_rgb, SIDE, SIDE)))));
    report("normals::decode_image", best_of_5(|| drop(black_box(normals::decode_image(&normal_rgb, SIDE, SIDE)))));
    report(
        "semantic::decode (20 cls)",
        best_of_5(|| drop(black_box(semantic::decode(&seg_rgb, SIDE, SIDE, &palette, DEFAULT_TOLERANCE)))),
    );
    report(
        "referring::decode (2 tgt)",
        best_of_5(|| drop(black_box(referring::decode(&seg_rgb, SIDE, SIDE, &palette[..2], [0, 0, 0], DEFAULT_TOLERANCE)))),
    );
    let params = instance::InstanceParams::default();
    report("instance::decode", best_of_5(|| drop(black_box(instance::decode(&inst_rgb, SIDE, SIDE, [0, 0, 0], &params)))));
    let found = instance::decode(&inst_rgb, SIDE, SIDE, [0, 0, 0], &params).map(|m| m.instances.len());
    println!("(instance image: {found:?} instances found)");
}
