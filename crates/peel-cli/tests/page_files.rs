//! `peel decode` writes the page's files: for a small painting of every task, each file the CLI
//! writes is byte for byte the file the page's download button builds from the same painting.
//!
//! "The page's file" is built here exactly as `src/ui/exports.rs` builds it (that code is wasm-only):
//! the worker's values (`peel_protocol::decode::decode_painting` with the default options, as
//! `crates/peel-worker` calls it) through `peel_protocol::export`, under the page's download names.
//! The browser test "One decode" (tests/browser/exports.test.mjs) checks the same against the page
//! itself.

use std::path::{Path, PathBuf};

use peel_protocol::decode::{DecodeOptions, Values, decode_painting};
use peel_protocol::depth::DepthCodec;
use peel_protocol::export;
use peel_protocol::normals;
use peel_protocol::prompt;

mod common;
use common::{ok_json, peel};

const W: u32 = 24;
const H: u32 = 16;

fn s(path: &Path) -> String {
    path.display().to_string()
}

fn save_rgb(path: &Path, rgb: &[u8]) {
    image::RgbImage::from_raw(W, H, rgb.to_vec()).unwrap().save(path).unwrap();
}

fn paint(colour_at: impl Fn(u32, u32) -> [u8; 3]) -> Vec<u8> {
    let mut rgb = Vec::new();
    for y in 0..H {
        for x in 0..W {
            rgb.extend_from_slice(&colour_at(x, y));
        }
    }
    rgb
}

/// A deterministic nudge of a few 8-bit steps, as a generator paints slightly off the exact colours.
fn nudge(rgb: [u8; 3], x: u32, y: u32) -> [u8; 3] {
    let d = ((x * 7 + y * 13) % 9) as i16 - 4;
    rgb.map(|c| (i16::from(c) + d).clamp(0, 255) as u8)
}

/// The photo the point cloud takes its colours from.
fn photo() -> Vec<u8> {
    paint(|x, y| [(x * 10) as u8, (y * 15) as u8, ((x * y) % 256) as u8])
}

/// The files the page offers for `rgb` painted for `prompt_text`, by download name.
fn page_files(prompt_text: &str, rgb: &[u8], fov: f32) -> Vec<(String, Vec<u8>)> {
    let request = prompt::parse(prompt_text).unwrap();
    let task = request.task().name();
    let decoded = decode_painting(&request, rgb, W, H, &DecodeOptions::default()).unwrap();
    match &decoded.values {
        Values::Depth(m) => vec![
            ("peel-depth-mm.png".into(), export::depth_png_mm(m, W, H).unwrap()),
            ("peel-depth.npy".into(), export::depth_npy(m, W, H).unwrap()),
            (format!("peel-depth-fov{fov}.ply"), export::depth_ply(m, &photo(), W, H, fov).unwrap().0),
        ],
        Values::Normals(xyz) => vec![("peel-normals.npy".into(), export::normals_npy(xyz, W, H).unwrap())],
        Values::Labels(labels) => {
            let mut files = vec![
                (format!("peel-{task}-labels.png"), export::label_png(labels, W, H).unwrap().bytes),
                (format!("peel-{task}-legend.json"), export::legend_json(task, W, H, &decoded.segments)),
            ];
            for (i, segment) in decoded.segments.iter().enumerate() {
                let label = i as u16 + 1;
                files.push((export::mask_download_name(task, label, &segment.name), export::mask_png(labels, W, H, label).unwrap()));
            }
            files
        }
    }
}

/// Runs `peel decode` on `rgb` as the page would have exported it, writing each of the page's
/// files (depth and normals: one run per format; segmentation: the label map, its legend and
/// `--masks`), and returns them by the page's download names.
fn cli_files(dir: &Path, prompt_text: &str, rgb: &[u8], fov: f32) -> Vec<(String, Vec<u8>)> {
    let task = prompt::parse(prompt_text).unwrap().task().name();
    let viz = dir.join(format!("peel-{task}-visualization.png"));
    save_rgb(&viz, rgb);
    let photo_path = dir.join("photo.png");
    save_rgb(&photo_path, &photo());
    let out = dir.join("cli");
    std::fs::create_dir_all(&out).unwrap();
    let decode = |file: &str, extra: &[String]| {
        let mut args = vec!["decode".to_string(), task.into(), s(&viz), "--prompt".into(), prompt_text.into(), "--out".into(), s(&out.join(file))];
        args.extend_from_slice(extra);
        ok_json(peel(&args))
    };
    let read = |path: PathBuf| std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    match task {
        "depth" => {
            decode("peel-depth-mm.png", &[]);
            decode("peel-depth.npy", &[]);
            let ply = format!("peel-depth-fov{fov}.ply");
            decode(&ply, &["--fov".into(), fov.to_string(), "--photo".into(), s(&photo_path)]);
            ["peel-depth-mm.png", "peel-depth.npy", ply.as_str()].iter().map(|name| (name.to_string(), read(out.join(name)))).collect()
        }
        "normals" => {
            decode("peel-normals.npy", &[]);
            vec![("peel-normals.npy".into(), read(out.join("peel-normals.npy")))]
        }
        _ => {
            let masks = dir.join("masks");
            let labels = format!("peel-{task}-labels.png");
            let summary = decode(&labels, &["--masks".into(), s(&masks)]);
            let mut files = vec![
                (labels.clone(), read(out.join(&labels))),
                (format!("peel-{task}-legend.json"), read(out.join(format!("peel-{task}-labels.json")))),
            ];
            // Every mask the CLI wrote, under the names its legend gives them, and nothing else.
            let named: Vec<String> =
                summary["entries"].as_array().unwrap().iter().map(|e| e["mask_file"].as_str().unwrap().to_string()).collect();
            let mut written: Vec<String> = std::fs::read_dir(&masks).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
            written.sort();
            let mut sorted = named.clone();
            sorted.sort();
            assert_eq!(written, sorted, "the masks written are the legend's mask files");
            files.extend(named.into_iter().map(|name| (name.clone(), read(masks.join(&name)))));
            files
        }
    }
}

fn assert_same_files(name: &str, prompt_text: &str, rgb: &[u8]) {
    let dir = common::scratch("peel-page-files", name);
    let fov = 75.0;
    let page = page_files(prompt_text, rgb, fov);
    let cli = cli_files(&dir, prompt_text, rgb, fov);
    let names = |files: &[(String, Vec<u8>)]| files.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&cli), names(&page), "{name}: the same files");
    for ((file, ours), (_, theirs)) in cli.iter().zip(&page) {
        let first = ours.iter().zip(theirs).position(|(a, b)| a != b);
        assert!(ours == theirs, "{name}: {file} differs from the page's ({} vs {} bytes, first difference at {first:?})", ours.len(), theirs.len());
    }
}

#[test]
fn depth_files_are_the_pages() {
    let codec = DepthCodec::default();
    // Near at the bottom, far at the top, a band of sky along the top rows.
    let rgb = paint(|x, y| {
        if y < 2 {
            return [255, 255, 255];
        }
        nudge(codec.encode_rgb8(0.3 + 0.8 * (H - y) as f32 + 0.05 * x as f32), x, y)
    });
    assert_same_files("depth", "Generate a metric depth map of the input image.", &rgb);
}

#[test]
fn range_tuned_depth_files_are_the_pages() {
    let codec = DepthCodec::new(-4.0, 120.0).unwrap();
    let rgb = paint(|x, y| nudge(codec.encode_rgb8(2.0 + 4.0 * y as f32 + x as f32), x, y));
    assert_same_files("depth-range", "Generate a metric depth map. lambda = -4, c = 120", &rgb);
}

#[test]
fn normals_files_are_the_pages() {
    let xyz: Vec<f32> = (0..W * H)
        .flat_map(|p| {
            let (x, y) = ((p % W) as f32 / W as f32 - 0.5, 0.5 - (p / W) as f32 / H as f32);
            [x, y, (1.0 - x * x - y * y).sqrt()]
        })
        .collect();
    let mut rgb = normals::encode_image(&xyz, W, H).unwrap();
    rgb[..3].copy_from_slice(&[128, 128, 128]); // mid-grey: no direction
    assert_same_files("normals", "Generate a surface normal map of the input image.", &rgb);
}

#[test]
fn semantic_files_are_the_pages() {
    let prompt = r##"Generate a semantic segmentation visualization image, using this color mapping: {"cat": "orange", "exit sign": <0, 0, 255>, "sky": "#10aa05"}"##;
    let colours = [[255, 165, 0], [0, 0, 255], [16, 170, 5]];
    let rgb = paint(|x, y| match (x, y) {
        (0..=2, 0..=2) => [128, 128, 128], // none of the classes
        _ => nudge(colours[(x / 8) as usize], x, y),
    });
    assert_same_files("semantic", prompt, &rgb);
}

#[test]
fn instance_files_are_the_pages() {
    let prompt = "Generate an instance segmentation visualization of this image. Each piece of garlic is colored differently. Background is RGB(88, 50, 82).";
    let rgb = paint(|x, y| match (x / 6, y / 6) {
        (0, 0) => [255, 0, 0],
        (2, 0) => [255, 0, 0],
        (1, 1) => [0, 0, 255],
        (3, 2) => [0, 200, 0],
        _ => [88, 50, 82],
    });
    assert_same_files("instance", prompt, &rgb);
}

#[test]
fn referring_files_are_the_pages() {
    let prompt = "A segmentation map image. The area that corresponds to the man in pink t shirt is rendered solid white; the other man is rendered in green; the cup is rendered in cyan.";
    let rgb = paint(|x, y| if x < 6 { [255, 255, 255] } else if x < 14 { nudge([0, 128, 0], x, y) } else { [0, 0, 0] });
    assert_same_files("referring", prompt, &rgb);
}
