//! `peel upsample` and `peel run --upsample`: the painting brought to the photo's size, guided by
//! the photo or plainly resized; bad input exits 2 with one line.

use std::path::{Path, PathBuf};

use image::{GenericImageView, Rgb, RgbImage};

mod common;
use common::{bad_input, ok_json, peel};

const RED: Rgb<u8> = Rgb([255, 0, 0]);
const BLUE: Rgb<u8> = Rgb([0, 0, 255]);

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Left of the slanted edge x = 70 + y/2 (photo pixel centres).
fn left(x: u32, y: u32) -> bool {
    (x as f32 + 0.5) < 70.0 + (y as f32 + 0.5) / 2.0
}

/// A 240x160 photo (dark left of the edge, bright right) and its 30x20 painting, blocky at the edge.
fn photo_and_painting(dir: &Path) -> (PathBuf, PathBuf) {
    let photo = dir.join("photo.png");
    RgbImage::from_fn(240, 160, |x, y| if left(x, y) { Rgb([30, 40, 50]) } else { Rgb([220, 210, 190]) })
        .save(&photo)
        .unwrap();
    let painting = dir.join("painting.png");
    RgbImage::from_fn(30, 20, |x, y| if left(x * 8 + 4, y * 8 + 4) { RED } else { BLUE }).save(&painting).unwrap();
    (photo, painting)
}

fn upsample(dir: &Path, task: &str, method: &str) -> RgbImage {
    let (photo, painting) = photo_and_painting(dir);
    let out = dir.join(format!("{task}-{method}.png"));
    let summary = ok_json(peel(&["upsample", task, s(&painting), "--guide", s(&photo), "--out", s(&out), "--method", method]));
    assert_eq!((summary["width"].as_u64(), summary["height"].as_u64()), (Some(240), Some(160)));
    assert_eq!(summary["painting"], serde_json::json!([30, 20]));
    assert_eq!(summary["method"], method);
    image::open(&out).unwrap().to_rgb8()
}

#[test]
fn upsample_follows_the_photo_edge_and_keeps_painted_colours() {
    let dir = common::scratch("peel-upsample-cli", "semantic");
    let mislabelled = |image: &RgbImage| image.enumerate_pixels().filter(|&(x, y, p)| (*p == RED) != left(x, y)).count();
    let guided = upsample(&dir, "semantic", "guided");
    let resized = upsample(&dir, "semantic", "resize");
    assert!(guided.pixels().all(|p| *p == RED || *p == BLUE));
    let (g, r) = (mislabelled(&guided), mislabelled(&resized));
    assert!(r > 160 && g * 10 <= r, "mislabelled pixels: guided {g}, resize {r}");
}

#[test]
fn upsample_blends_depth() {
    let dir = common::scratch("peel-upsample-cli", "depth");
    let resized = upsample(&dir, "depth", "resize");
    let guided = upsample(&dir, "depth", "guided");
    let blends = |image: &RgbImage| image.pixels().filter(|p| **p != RED && **p != BLUE).count();
    // Bilinear blends across the painted edge; the guided average hardly does, as the photo has an edge there.
    assert!(blends(&resized) > 4 * blends(&guided).max(1), "blended pixels: resize {}, guided {}", blends(&resized), blends(&guided));
}

#[test]
fn upsample_repaints_instance_specks_unless_told_not_to() {
    let dir = common::scratch("peel-upsample-cli", "specks");
    let (photo, painting) = photo_and_painting(&dir);
    // One red pixel inside the blue: under the app's share of the 600 painted pixels (1/400, 1.5 pixels).
    // Resized by nearest neighbour, so that only the speck rule can remove it.
    let speckled = dir.join("speckled.png");
    let mut img = image::open(&painting).unwrap().to_rgb8();
    img.put_pixel(25, 10, RED);
    img.save(&speckled).unwrap();
    let red_right_of_edge = |task: &str, extra: &[&str]| {
        let out = dir.join(format!("{task}-{}.png", extra.len()));
        let args = ["upsample", task, s(&speckled), "--guide", s(&photo), "--out", s(&out), "--method", "resize"];
        ok_json(peel(&[&args[..], extra].concat()));
        image::open(&out).unwrap().to_rgb8().enumerate_pixels().filter(|&(x, y, p)| *p == RED && x > 180 && (60..110).contains(&y)).count()
    };
    assert_eq!(red_right_of_edge("instance", &[]), 0);
    assert_eq!(red_right_of_edge("referring", &[]), 0);
    assert!(red_right_of_edge("instance", &["--speck-share", "0"]) > 0);
    // Semantic paintings keep every piece: a small region of a class is still that class.
    assert!(red_right_of_edge("semantic", &[]) > 0);
}

#[test]
fn upsample_rejects_bad_input_with_one_line() {
    let dir = common::scratch("peel-upsample-cli", "bad");
    let (photo, painting) = photo_and_painting(&dir);
    let out = dir.join("o.png");
    let grey = dir.join("grey.png");
    image::GrayImage::new(4, 4).save(&grey).unwrap();
    bad_input(peel(&["upsample", "semantic", s(&grey), "--guide", s(&photo), "--out", s(&out)]), "not grey");
    bad_input(peel(&["upsample", "depth", s(&painting), "--guide", s(&dir.join("missing.png")), "--out", s(&out)]), "missing.png");
    bad_input(peel(&["upsample", "depth", s(&painting), "--guide", s(&photo), "--out", s(&dir.join("o.xyz"))]), "unknown image extension");
    for share in ["1.5", "-0.1", "NaN"] {
        bad_input(peel(&["upsample", "instance", s(&painting), "--guide", s(&photo), "--out", s(&out), "--speck-share", share]), "--speck-share");
    }
}

#[test]
fn run_upsamples_as_asked() {
    let dir = common::scratch("peel-upsample-cli", "run");
    let (photo, _) = photo_and_painting(&dir);
    let prompt = r#"Generate a semantic segmentation visualization image, using this color mapping: {"sky": "blue", "road": "gray"}"#;
    for method in ["guided", "resize"] {
        let out = dir.join(format!("{method}.png"));
        let summary = ok_json(peel(&["run", s(&photo), "--prompt", prompt, "--out", s(&out), "--upsample", method]));
        assert_eq!(summary["upsample"], method);
        assert_eq!(image::open(&out).unwrap().dimensions(), (240, 160));
    }
    let default = ok_json(peel(&["run", s(&photo), "--prompt", prompt, "--out", s(&dir.join("default.png"))]));
    assert_eq!(default["upsample"], "guided");
}
