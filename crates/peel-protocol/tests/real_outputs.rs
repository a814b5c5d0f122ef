//! Decoding genuine Vision Banana outputs (from the paper's project page) gives sensible values.
//!
//! Needs `shared/data/vision-banana-outputs/` beside the repository (or `PEEL_SHARED`), which a
//! clone does not have: a plain `cargo test` lists these tests as ignored, with that reason.
//! `scripts/test.sh` (CI, where the data exists) runs them with `--ignored`, and there a missing
//! folder fails them.

use std::path::PathBuf;

use peel_protocol::depth::{DepthCodec, DepthMap};
use peel_protocol::normals;

fn outputs_dir() -> PathBuf {
    let shared = std::env::var_os("PEEL_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared")));
    let dir = shared.join("data/vision-banana-outputs");
    assert!(dir.is_dir(), "missing {}: these tests need the shared data (set PEEL_SHARED)", dir.display());
    dir
}

fn load_rgb(name: &str) -> (Vec<u8>, u32, u32) {
    let path = outputs_dir().join(name);
    let img = image::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).to_rgb8();
    let (w, h) = img.dimensions();
    (img.into_raw(), w, h)
}

/// Depths inside a region given as fractions of the image `(x0, y0, x1, y1)`.
fn region(map: &DepthMap, (x0, y0, x1, y1): (f32, f32, f32, f32)) -> Vec<f32> {
    let (w, h) = (map.width as f32, map.height as f32);
    let mut out = Vec::new();
    for y in (y0 * h) as usize..(y1 * h) as usize {
        for x in (x0 * w) as usize..(x1 * w) as usize {
            out.push(map.meters[y * map.width as usize + x]);
        }
    }
    out
}

fn median(mut values: Vec<f32>) -> f32 {
    assert!(!values.is_empty());
    values.sort_by(f32::total_cmp);
    values[values.len() / 2]
}

fn finite(values: &[f32]) -> Vec<f32> {
    values.iter().copied().filter(|v| v.is_finite()).collect()
}

#[test]
#[ignore = "needs ../shared/data/vision-banana-outputs (not in the repository); the README's test command runs it"]
fn kinkaku_ji_depth_has_near_trees_far_temple_and_sky() {
    let (rgb, w, h) = load_rgb("depth_depth_kinkaku_1.png");
    let map = DepthCodec::default().decode_image(&rgb, w, h).unwrap();
    let sky = region(&map, (0.3, 0.02, 0.7, 0.12));
    // The generator paints sky white or one 8-bit step short of it (412.5 m).
    let far_limit = DepthCodec::default().far_limit_rgb8();
    let sky_share = sky.iter().filter(|d| **d >= far_limit).count() as f32 / sky.len() as f32;
    let sky_median = median(sky.clone());
    let left_pine = median(finite(&region(&map, (0.0, 0.30, 0.06, 0.40))));
    let right_pine = median(finite(&region(&map, (0.74, 0.62, 0.84, 0.70))));
    let temple = median(finite(&region(&map, (0.62, 0.40, 0.72, 0.45))));
    println!(
        "kinkaku {w}x{h}: sky {sky_share:.3} at or beyond {far_limit:.1} m (median {sky_median}), left pine {left_pine:.2} m, right pine {right_pine:.2} m, \
         temple {temple:.2} m, whole-image sky {:.3}, mean off-path {:.4}",
        map.sky_fraction(),
        map.mean_off_path()
    );
    assert!(sky_share > 0.99, "sky should decode as (nearly) infinitely far: {sky_share}");
    assert_eq!(sky_median, f32::INFINITY, "most of the sky is pure white");
    assert!((2.0..8.0).contains(&left_pine), "near pine at a few metres: {left_pine}");
    assert!(right_pine > left_pine && right_pine < temple, "{left_pine} < {right_pine} < {temple}");
    assert!((16.5..200.0).contains(&temple), "temple beyond the magenta vertex: {temple}");
    assert!((0.01..0.025).contains(&map.mean_off_path()), "off-path {}", map.mean_off_path());
}

#[test]
#[ignore = "needs ../shared/data/vision-banana-outputs (not in the repository); the README's test command runs it"]
fn eth3d_depth_is_a_plausible_indoor_outdoor_range() {
    let (rgb, w, h) = load_rgb("depth_depth_eth3d_47_1.jpg");
    let map = DepthCodec::default().decode_image(&rgb, w, h).unwrap();
    let depths = finite(&map.meters);
    let (p5, p50, p95) = {
        let mut d = depths.clone();
        d.sort_by(f32::total_cmp);
        (d[d.len() / 20], d[d.len() / 2], d[d.len() * 19 / 20])
    };
    println!(
        "eth3d {w}x{h}: depth p5 {p5:.2} m, median {p50:.2} m, p95 {p95:.2} m, sky {:.3}, mean off-path {:.4}",
        map.sky_fraction(),
        map.mean_off_path()
    );
    assert!(p5 > 0.2 && p95 < 200.0 && p5 < p50 && p50 < p95);
    assert!((0.01..0.025).contains(&map.mean_off_path()), "off-path {}", map.mean_off_path());
}

#[test]
#[ignore = "needs ../shared/data/vision-banana-outputs (not in the repository); the README's test command runs it"]
fn normal_outputs_are_unit_vectors_facing_the_camera() {
    for name in ["normal_sn_1_out.jpg", "normal_sn_2_out.jpg"] {
        let (rgb, w, h) = load_rgb(name);
        let map = normals::decode_image(&rgb, w, h).unwrap();
        let n = map.normals.len() as f32;
        let share = |pred: &dyn Fn(&[f32; 3]) -> bool| map.normals.iter().filter(|v| pred(v)).count() as f32 / n;
        let near_unit = map.raw_length.iter().filter(|l| (**l - 1.0).abs() < 0.1).count() as f32 / n;
        let median_length = median(map.raw_length.clone());
        let mean_z = map.normals.iter().map(|v| v[2]).sum::<f32>() / n;
        let facing_away = share(&|v| v[2] < -0.1);
        let (left, right, up, down) = (share(&|v| v[0] < -0.3), share(&|v| v[0] > 0.3), share(&|v| v[1] > 0.3), share(&|v| v[1] < -0.3));
        println!(
            "{name} {w}x{h}: {near_unit:.3} within 10% of unit length (median {median_length:.3}), mean z {mean_z:.3}, \
             {facing_away:.4} facing away; left {left:.3} right {right:.3} up {up:.3} down {down:.3}"
        );
        // JPEG and the generator leave raw lengths spread around 1 (p25-p75 about 0.95-1.03).
        assert!((median_length - 1.0).abs() < 0.03, "{name}: median raw length {median_length}");
        assert!(near_unit > 0.75, "{name}: raw vectors should be mostly unit length: {near_unit}");
        assert!(mean_z > 0.3, "{name}: visible surfaces face the camera: {mean_z}");
        assert!(facing_away < 0.02, "{name}: few normals point away from the camera: {facing_away}");
        // Not a flat wash of one colour: surfaces turn in several directions.
        assert!([left, right, up, down].iter().filter(|&&s| s > 0.02).count() >= 3, "{name}: too uniform");
    }
}
