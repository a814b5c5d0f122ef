//! Runs the `peel` binary: outputs for good input, exit code 2 and one stderr line for bad input.

use std::path::{Path, PathBuf};

use ndarray::{Array2, Array3};
use ndarray_npy::{read_npy, write_npy};
use serde_json::Value;

mod common;
use common::{bad_input, ok_json, peel};

fn p(path: &Path) -> String {
    path.display().to_string()
}

/// A 40x30 depth ramp from 0.2 m to 60 m.
fn depth_ramp() -> Array2<f32> {
    Array2::from_shape_fn((30, 40), |(y, x)| 0.2 + 60.0 * ((y * 40 + x) as f32 / 1199.0).powi(2))
}

fn save_rgb(path: &Path, w: u32, h: u32, colour_at: impl Fn(u32, u32) -> [u8; 3]) {
    image::RgbImage::from_fn(w, h, |x, y| image::Rgb(colour_at(x, y))).save(path).unwrap();
}

fn save_grey(path: &Path, w: u32, h: u32, value_at: impl Fn(u32, u32) -> u8) {
    image::GrayImage::from_fn(w, h, |x, y| image::Luma([value_at(x, y)])).save(path).unwrap();
}

#[test]
fn depth_encode_decode_round_trip_in_every_format() {
    let dir = common::scratch("peel-cli", "depth");
    let truth = depth_ramp();
    let npy = dir.join("truth.npy");
    write_npy(&npy, &truth).unwrap();
    let png = dir.join("vis.png");
    let out = peel(&["encode", "depth", &p(&npy), &p(&png)]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));

    // The paper's golden colour: 1 m is (255, 55, 0).
    let one_metre = dir.join("one.npy");
    write_npy(&one_metre, &Array2::from_elem((1, 1), 1.0f32)).unwrap();
    let one_png = dir.join("one.png");
    assert!(peel(&["encode", "depth", &p(&one_metre), &p(&one_png)]).status.success());
    assert_eq!(image::open(&one_png).unwrap().to_rgb8().get_pixel(0, 0).0, [255, 55, 0]);

    let summary = ok_json(peel(&["decode", "depth", &p(&png), "--out", &p(&dir.join("back.npy"))]));
    assert_eq!((summary["width"].as_u64(), summary["height"].as_u64()), (Some(40), Some(30)));
    assert_eq!(summary["sky_fraction"].as_f64(), Some(0.0));
    let back: Array2<f32> = read_npy(dir.join("back.npy")).unwrap();
    assert_eq!(back.dim(), (30, 40));
    for (d, b) in truth.iter().zip(back.iter()) {
        // Within one 8-bit step: at 60 m a step is ~1.5 % of the depth.
        assert!((d - b).abs() <= 0.02 * d, "{d} -> {b}");
    }

    // .pfm and 16-bit .png outputs hold the same depths (to the millimetre for PNG).
    ok_json(peel(&["decode", "depth", &p(&png), "--out", &p(&dir.join("back.pfm"))]));
    ok_json(peel(&["decode", "depth", &p(&png), "--out", &p(&dir.join("back_mm.png"))]));
    let pfm = ok_json(peel(&["metrics", "depth", "--pred", &p(&dir.join("back.pfm")), "--gt", &p(&dir.join("back.npy"))]));
    assert_eq!(pfm["metrics"]["abs_rel"].as_f64(), Some(0.0), "{pfm}");
    let mm = ok_json(peel(&["metrics", "depth", "--pred", &p(&dir.join("back_mm.png")), "--gt", &p(&dir.join("back.npy"))]));
    assert!(mm["metrics"]["abs_rel"].as_f64().unwrap() < 1e-3, "{mm}");
    assert_eq!(mm["metrics"]["valid_pixels"].as_u64(), Some(1200));

    // Scoring the visualization itself against the truth: near perfect, and the JSON has every metric.
    let scored = ok_json(peel(&["metrics", "depth", "--pred", &p(&png), "--gt", &p(&npy)]));
    for key in ["abs_rel", "sq_rel", "rmse", "rmse_log", "silog", "delta1", "delta2", "delta3"] {
        assert!(scored["metrics"][key].is_number(), "{key} missing: {scored}");
    }
    assert_eq!(scored["metrics"]["delta1"].as_f64(), Some(1.0));
    assert!(scored["metrics"]["abs_rel"].as_f64().unwrap() < 0.01);
}

/// Header lines and vertices ((x, y, z), (r, g, b)) of a binary little-endian PLY.
fn read_ply(path: &Path) -> (Vec<String>, Vec<([f32; 3], [u8; 3])>) {
    let bytes = std::fs::read(path).unwrap();
    let end = b"end_header\n";
    let at = bytes.windows(end.len()).position(|w| w == end).expect("end_header") + end.len();
    let header: Vec<String> = String::from_utf8_lossy(&bytes[..at]).lines().map(String::from).collect();
    let count: usize = header.iter().find_map(|l| l.strip_prefix("element vertex ")).unwrap().parse().unwrap();
    assert_eq!(bytes.len() - at, 15 * count, "15 bytes per vertex");
    let f = |c: &[u8]| f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
    let vertices = bytes[at..].chunks_exact(15).map(|v| ([f(&v[0..4]), f(&v[4..8]), f(&v[8..12])], [v[12], v[13], v[14]])).collect();
    (header, vertices)
}

#[test]
fn depth_decodes_to_a_point_cloud_coloured_by_the_photo() {
    let dir = common::scratch("peel-cli", "ply");
    // The ramp with a band of sky across the top rows.
    let ramp = depth_ramp();
    let truth = Array2::from_shape_fn(ramp.dim(), |(y, x)| if y < 3 { f32::INFINITY } else { ramp[[y, x]] });
    let npy = dir.join("truth.npy");
    write_npy(&npy, &truth).unwrap();
    let vis = dir.join("vis.png");
    assert!(peel(&["encode", "depth", &p(&npy), &p(&vis)]).status.success());
    let photo = dir.join("photo.png");
    save_rgb(&photo, 40, 30, |x, y| [x as u8 * 6, y as u8 * 8, 77]);
    ok_json(peel(&["decode", "depth", &p(&vis), "--out", &p(&dir.join("back.npy"))]));
    let back: Array2<f32> = read_npy(dir.join("back.npy")).unwrap();
    let ply = dir.join("cloud.ply");
    let summary = ok_json(peel(&["decode", "depth", &p(&vis), "--out", &p(&ply), "--fov", "75", "--photo", &p(&photo)]));
    let finite = back.iter().filter(|d| d.is_finite()).count();
    assert_eq!(finite, 40 * 27, "the sky rows decode as infinity");
    assert_eq!(summary["points"].as_u64(), Some(finite as u64));
    assert_eq!(summary["colours"], "photo");
    let (header, vertices) = read_ply(&ply);
    assert!(header.contains(&format!("element vertex {finite}")), "{header:?}");
    assert_eq!(vertices.len(), finite);
    // The first point is pixel (0, 3), the first below the sky; f = 20 / tan(37.5°), centre (20, 15).
    let f = 20.0 / 37.5f32.to_radians().tan();
    let d = back[[3, 0]];
    let expected = [d * (0.5 - 20.0) / f, -d * (3.5 - 15.0) / f, -d];
    let (position, colour) = vertices[0];
    for (got, want) in position.iter().zip(expected) {
        assert!((got - want).abs() <= 1e-5 * want.abs().max(1.0), "{position:?} vs {expected:?}");
    }
    assert_eq!(colour, [0, 24, 77], "colour of the photo's pixel (0, 3)");
    // Without --photo the points take the visualization's colours; a bad fov is refused.
    let plain = ok_json(peel(&["decode", "depth", &p(&vis), "--out", &p(&dir.join("plain.ply"))]));
    assert_eq!((plain["colours"].as_str(), plain["fov_deg"].as_f64()), (Some("visualization"), Some(60.0)));
    bad_input(peel(&["decode", "depth", &p(&vis), "--out", &p(&dir.join("bad.ply")), "--fov", "180"]), "field of view");

    // The 16-bit PNG holds the same depths in millimetres, 0 for the sky.
    ok_json(peel(&["decode", "depth", &p(&vis), "--out", &p(&dir.join("mm.png"))]));
    let image::DynamicImage::ImageLuma16(mm) = image::open(dir.join("mm.png")).unwrap() else { panic!("expected 16-bit grey") };
    for ((x, y, v), d) in mm.enumerate_pixels().map(|(x, y, v)| (x, y, v.0[0])).zip(back.iter()) {
        let want = if d.is_finite() { (d * 1000.0).round() as u16 } else { 0 };
        assert_eq!(v, want, "pixel ({x}, {y}): {d} m");
    }
}

#[test]
fn range_tuned_codec_from_flags_and_prompt_agree() {
    let dir = common::scratch("peel-cli", "range");
    let npy = dir.join("truth.npy");
    write_npy(&npy, &depth_ramp()).unwrap();
    let png = dir.join("vis.png");
    assert!(peel(&["encode", "depth", &p(&npy), &p(&png), "--lambda", "-4", "--c", "120"]).status.success());
    let prompt = "Generate a metric depth map of the input image. Use the power transform with lambda = -4 and c = 120.";
    let by_prompt = ok_json(peel(&["decode", "depth", &p(&png), "--prompt", prompt, "--out", &p(&dir.join("a.npy"))]));
    assert_eq!((by_prompt["lambda"].as_f64(), by_prompt["c"].as_f64()), (Some(-4.0), Some(120.0)));
    let scored = ok_json(peel(&["metrics", "depth", "--pred", &p(&png), "--gt", &p(&npy), "--lambda", "-4", "--c", "120"]));
    // The outdoor codec spends ~9 cm per 8-bit step near 0 m, so sub-metre depths are coarse.
    assert!(scored["metrics"]["abs_rel"].as_f64().unwrap() < 0.03, "{scored}");
    // Decoding with the paper's codec instead gives very different depths.
    let wrong = ok_json(peel(&["metrics", "depth", "--pred", &p(&png), "--gt", &p(&npy)]));
    assert!(wrong["metrics"]["abs_rel"].as_f64().unwrap() > 0.5, "{wrong}");
}

#[test]
fn normals_encode_decode_round_trip() {
    let dir = common::scratch("peel-cli", "normals");
    let truth = Array3::from_shape_fn((20, 30, 3), |(y, x, c)| {
        let (nx, ny) = (x as f32 / 30.0 - 0.5, 0.5 - y as f32 / 20.0);
        let nz = (1.0 - nx * nx - ny * ny).sqrt();
        [nx, ny, nz][c]
    });
    let npy = dir.join("truth.npy");
    write_npy(&npy, &truth).unwrap();
    let png = dir.join("vis.png");
    assert!(peel(&["encode", "normals", &p(&npy), &p(&png)]).status.success());
    let summary = ok_json(peel(&["decode", "normals", &p(&png), "--out", &p(&dir.join("back.npy"))]));
    assert!((summary["mean_raw_length"].as_f64().unwrap() - 1.0).abs() < 0.01);
    let back: Array3<f32> = read_npy(dir.join("back.npy")).unwrap();
    assert_eq!(back.dim(), (20, 30, 3));
    let scored = ok_json(peel(&["metrics", "normals", "--pred", &p(&png), "--gt", &p(&npy)]));
    let m = &scored["metrics"];
    assert!(m["mean_deg"].as_f64().unwrap() < 0.5, "{scored}");
    assert_eq!(m["pct_within_11_25"].as_f64(), Some(100.0));
    assert_eq!(m["valid_pixels"].as_u64(), Some(600));
}

#[test]
fn semantic_decode_writes_index_png_and_legend_and_scores() {
    let dir = common::scratch("peel-cli", "semantic");
    let prompt = r##"Generate a semantic segmentation visualization image, using this color mapping: {"cat": "red", "exit sign": <0, 0, 255>, "background": "#10aa05"}"##;
    let colours = [[255, 0, 0], [0, 0, 255], [16, 170, 5]];
    let class_at = |x: u32, y: u32| if x < 10 { 0 } else if y < 5 { 1 } else { 2 };
    let vis = dir.join("vis.png");
    // Slightly off colours, as a generator would paint them; one stray grey pixel.
    save_rgb(&vis, 20, 10, |x, y| if (x, y) == (19, 9) { [128, 128, 128] } else { colours[class_at(x, y)].map(|v: u8| v.saturating_sub(6)) });
    let out = dir.join("labels.png");
    let legend = ok_json(peel(&["decode", "semantic", &p(&vis), "--prompt", prompt, "--out", &p(&out)]));
    assert_eq!(legend["entries"][1]["name"], "exit sign");
    assert_eq!(legend["entries"][1]["label"].as_u64(), Some(2));
    assert_eq!(legend["entries"][0]["pixels"].as_u64(), Some(100));
    assert_eq!(legend["entries"][0]["color"], serde_json::json!([255, 0, 0]));
    assert_eq!(legend["unlabeled_pixels"].as_u64(), Some(1));
    assert_eq!(legend["legend"].as_str(), Some(p(&dir.join("labels.json")).as_str()));
    // The legend file is the page's legend; stdout repeats its fields and adds the paths and counts.
    let on_disk: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("labels.json")).unwrap()).unwrap();
    let mut keys: Vec<&String> = on_disk.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["entries", "height", "label_map", "task", "width"]);
    for key in keys {
        assert_eq!(on_disk[key], legend[key], "{key}");
    }
    // Labels: 0 = none of the classes, i = the prompt's class i (from 1).
    let labels = image::open(&out).unwrap().to_luma8();
    assert_eq!((labels.get_pixel(0, 0).0[0], labels.get_pixel(15, 2).0[0], labels.get_pixel(15, 8).0[0]), (1, 2, 3));
    assert_eq!(labels.get_pixel(19, 9).0[0], 0);

    // --masks: one PNG per class, 255 where the label map holds that class, named as the legend says.
    let masks_dir = dir.join("masks");
    let with_masks = ok_json(peel(&["decode", "semantic", &p(&vis), "--prompt", prompt, "--out", &p(&out), "--masks", &p(&masks_dir)]));
    for (i, name) in ["peel-semantic-mask-01-cat.png", "peel-semantic-mask-02-exit-sign.png", "peel-semantic-mask-03-background.png"].iter().enumerate() {
        assert_eq!(with_masks["entries"][i]["mask_file"].as_str(), Some(*name));
        let mask = image::open(masks_dir.join(name)).unwrap().to_luma8();
        assert_eq!(mask.dimensions(), (20, 10));
        for (m, l) in mask.pixels().zip(labels.pixels()) {
            assert_eq!(m.0[0], if usize::from(l.0[0]) == i + 1 { 255 } else { 0 });
        }
        let inside = mask.pixels().filter(|v| v.0[0] == 255).count() as u64;
        assert_eq!(Some(inside), with_masks["entries"][i]["pixels"].as_u64(), "{name}");
    }
    assert_eq!(with_masks["masks"].as_str(), Some(p(&masks_dir).as_str()));

    let gt = dir.join("gt.png");
    save_grey(&gt, 20, 10, |x, y| class_at(x, y) as u8);
    let scored = ok_json(peel(&["metrics", "semantic", "--pred", &p(&vis), "--gt", &p(&gt), "--prompt", prompt]));
    // One pixel of class 2 left unlabeled: IoU 49/50 for that class.
    let expected = (1.0 + 1.0 + 49.0 / 50.0) / 3.0;
    assert!((scored["metrics"]["miou"].as_f64().unwrap() - expected).abs() < 1e-9, "{scored}");
    // The decoded label map (0 = none, i = class i) scores the same.
    let again = ok_json(peel(&["metrics", "semantic", "--pred", &p(&out), "--gt", &p(&gt), "--num-classes", "3"]));
    assert_eq!(again["metrics"]["miou"], scored["metrics"]["miou"]);
}

#[test]
fn referring_decode_and_metrics() {
    let dir = common::scratch("peel-cli", "referring");
    let prompt = "A segmentation map image. The area that corresponds to the man in pink t shirt is rendered solid white; the other man is rendered in green.";
    let vis = dir.join("vis.png");
    save_rgb(&vis, 20, 10, |x, _| if x < 5 { [255, 255, 255] } else if x < 10 { [0, 128, 0] } else { [0, 0, 0] });
    let legend = ok_json(peel(&["decode", "referring", &p(&vis), "--prompt", prompt, "--out", &p(&dir.join("masks.png"))]));
    assert_eq!(legend["entries"][0]["name"], "the man in pink t shirt");
    assert_eq!(legend["entries"][1]["pixels"].as_u64(), Some(50));
    assert_eq!(legend["unlabeled_pixels"].as_u64(), Some(100));
    let masks = image::open(dir.join("masks.png")).unwrap().to_luma8();
    assert_eq!((masks.get_pixel(0, 0).0[0], masks.get_pixel(7, 0).0[0], masks.get_pixel(15, 0).0[0]), (1, 2, 0));

    let gt = dir.join("gt.png");
    save_grey(&gt, 20, 10, |x, _| if x < 12 { 255 } else { 0 });
    let scored = ok_json(peel(&["metrics", "referring", "--pred", &p(&vis), "--gt", &p(&gt), "--prompt", prompt]));
    assert!((scored["metrics"]["ciou"].as_f64().unwrap() - 100.0 / 120.0).abs() < 1e-9, "{scored}");
    assert_eq!(scored["metrics"]["giou"], scored["metrics"]["ciou"]);
}

#[test]
fn instance_decode_and_metrics() {
    let dir = common::scratch("peel-cli", "instance");
    let prompt = "Generate an instance segmentation visualization of this image. Each piece of garlic is colored differently. Background is RGB(88, 50, 82).";
    // Two red squares far apart and one blue one on the prompt's background.
    let id_at = |x: u32, y: u32| match (x / 10, y / 10) {
        (0, 0) => 1,
        (2, 0) => 2,
        (1, 1) => 3,
        _ => 0,
    };
    let colour = [[88, 50, 82], [255, 0, 0], [255, 0, 0], [0, 0, 255]];
    let vis = dir.join("vis.png");
    save_rgb(&vis, 30, 20, |x, y| colour[id_at(x, y)]);
    let legend = ok_json(peel(&["decode", "instance", &p(&vis), "--prompt", prompt, "--out", &p(&dir.join("ids.png"))]));
    let instances = legend["entries"].as_array().unwrap();
    assert_eq!(instances.len(), 3, "{legend}");
    assert!(instances.iter().all(|i| i["pixels"].as_u64() == Some(100)));
    let names: Vec<&str> = instances.iter().map(|i| i["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["piece of garlic 1", "piece of garlic 2", "piece of garlic 3"]);

    let gt = dir.join("gt.png");
    save_grey(&gt, 30, 20, |x, y| id_at(x, y) as u8);
    let scored = ok_json(peel(&["metrics", "instance", "--pred", &p(&vis), "--gt", &p(&gt), "--prompt", prompt]));
    assert_eq!(scored["metrics"]["f1"].as_f64(), Some(1.0), "{scored}");
    let from_ids = ok_json(peel(&["metrics", "instance", "--pred", &p(&dir.join("ids.png")), "--gt", &p(&gt)]));
    assert_eq!(from_ids["metrics"]["true_positives"].as_u64(), Some(3));
}

#[test]
#[ignore = "needs ../shared/data/vision-banana-outputs (not in the repository); the README's test command runs it"]
fn real_vision_banana_depth_decodes() {
    let shared = std::env::var_os("PEEL_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared")));
    let image = shared.join("data/vision-banana-outputs/depth_depth_kinkaku_1.png");
    assert!(image.is_file(), "missing {} (set PEEL_SHARED)", image.display());
    let dir = common::scratch("peel-cli", "real");
    let summary = ok_json(peel(&["decode", "depth", &p(&image), "--out", &p(&dir.join("kinkaku.npy"))]));
    assert_eq!((summary["width"].as_u64(), summary["height"].as_u64()), (Some(896), Some(1200)));
    let sky = summary["sky_fraction"].as_f64().unwrap();
    assert!((0.2..0.4).contains(&sky), "{summary}");
    // The page's figure: the median (most pixels sit within one 8-bit step of the path; the mean,
    // 0.021, is pulled up by the fewer pixels far off it).
    let off = summary["median_off_path"].as_f64().unwrap();
    assert!((0.002..0.01).contains(&off), "{summary}");
}

#[test]
fn bad_input_exits_2_with_one_line() {
    let dir = common::scratch("peel-cli", "bad");
    let vis = dir.join("vis.png");
    save_rgb(&vis, 4, 4, |_, _| [255, 0, 0]);
    let small = dir.join("small.png");
    save_grey(&small, 2, 2, |_, _| 0);
    let garbage = dir.join("garbage.png");
    std::fs::write(&garbage, b"not an image").unwrap();
    let garbage_npy = dir.join("garbage.npy");
    std::fs::write(&garbage_npy, b"\x93NUMPY nonsense").unwrap();
    let out = |name: &str| p(&dir.join(name));

    bad_input(peel(&["decode", "depth", &p(&dir.join("missing.png")), "--out", &out("a.npy")]), "missing.png");
    bad_input(peel(&["decode", "depth", &p(&garbage), "--out", &out("a.npy")]), "garbage.png");
    bad_input(peel(&["decode", "depth", &p(&vis), "--out", &out("a.txt")]), "unsupported depth output extension");
    bad_input(peel(&["decode", "depth", &p(&vis), "--out", &out("a.npy"), "--lambda", "2"]), "lambda");
    bad_input(peel(&["decode", "normals", &p(&vis), "--out", &out("a.png")]), ".npy");
    bad_input(peel(&["decode", "semantic", &p(&vis), "--out", &out("s.png")]), "needs --prompt");
    bad_input(
        peel(&["decode", "semantic", &p(&vis), "--prompt", r#"color mapping: {"cat": "reddish"}"#, "--out", &out("s.png")]),
        "prompt error at character 25",
    );
    bad_input(
        peel(&["decode", "semantic", &p(&vis), "--prompt", "Generate a metric depth map.", "--out", &out("s.png")]),
        "asks for depth, not semantic",
    );
    bad_input(peel(&["encode", "depth", &p(&garbage_npy), &out("e.png")]), "garbage.npy");
    bad_input(peel(&["encode", "depth", &p(&vis), &out("e.png")]), "found a colour image");
    bad_input(peel(&["metrics", "semantic", "--pred", &p(&vis), "--gt", &p(&small), "--prompt", r#"color mapping: {"a": red}"#]), "size mismatch");
    bad_input(peel(&["metrics", "referring", "--pred", &p(&small), &p(&small), "--gt", &p(&small)]), "in pairs");
    bad_input(peel(&["metrics", "instance", "--pred", &p(&vis), "--gt", &p(&small)]), "need --prompt");

    // Usage errors come from clap, also with exit code 2.
    assert_eq!(peel(&["decode", "colour", &p(&vis), "--out", &out("a.npy")]).status.code(), Some(2));
    assert_eq!(peel(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(peel(&["--help"]).status.code(), Some(0));
}
