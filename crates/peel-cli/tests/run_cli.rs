//! Runs `peel run` with the shipped weights: the painting at the photo's size, the decoded
//! output, the summary line, and exit code 2 with one line on bad input.

use std::path::{Path, PathBuf};
use std::process::Output;

use ndarray::{Array2, Array3};
use ndarray_npy::read_npy;
use serde_json::Value;

mod common;
use common::{bad_input, ok_json, peel};

/// `peel run` prints its summary as one JSON line.
fn summary_line(out: Output) -> Value {
    let lines = String::from_utf8_lossy(&out.stdout).lines().count();
    assert_eq!(lines, 1, "one summary line expected: {}", String::from_utf8_lossy(&out.stdout));
    ok_json(out)
}

/// A 200x150 photo: sky above, ground below, a dark box.
fn photo(dir: &Path) -> PathBuf {
    let path = dir.join("photo.png");
    image::RgbImage::from_fn(200, 150, |x, y| {
        if (80..120).contains(&x) && (70..130).contains(&y) {
            image::Rgb([40, 30, 30])
        } else if y < 60 {
            image::Rgb([120, 170, 230])
        } else {
            image::Rgb([90 + (y / 3) as u8, 120, 60])
        }
    })
    .save(&path)
    .unwrap();
    path
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn run_paints_depth_and_decodes_it() {
    let dir = common::scratch("peel-run-cli", "depth");
    let img = photo(&dir);
    let viz = dir.join("depth.png");
    let npy = dir.join("depth.npy");
    let summary = summary_line(peel(&[
        "run", s(&img), "--prompt", "Generate a metric depth map of the input image.", "--out", s(&viz), "--decoded", s(&npy),
    ]));
    assert_eq!(summary["task"], "depth");
    assert_eq!((summary["width"].as_u64(), summary["height"].as_u64()), (Some(200), Some(150)));
    assert_eq!(summary["model_input"], serde_json::json!([256, 192]));
    assert!(summary["inference_ms"].as_f64().unwrap() > 0.0);
    eprintln!("peel run depth 200x150 (model input 256x192): {summary}");
    assert_eq!(image::open(&viz).unwrap().to_rgb8().dimensions(), (200, 150));
    let depth: Array2<f32> = read_npy(&npy).unwrap();
    assert_eq!(depth.dim(), (150, 200));
    assert_eq!(summary["decoded"]["width"].as_u64(), Some(200));
}

#[test]
fn run_paints_normals_and_segmentation() {
    let dir = common::scratch("peel-run-cli", "tasks");
    let img = photo(&dir);
    let normals = dir.join("normals.npy");
    let summary = summary_line(peel(&[
        "run", s(&img), "--prompt", "Generate a surface normal map.", "--out", s(&dir.join("n.png")), "--decoded", s(&normals),
    ]));
    assert_eq!(summary["task"], "normals");
    let n: Array3<f32> = read_npy(&normals).unwrap();
    assert_eq!(n.dim(), (150, 200, 3));

    // Segmentation: --decoded may name the legend; the index PNG goes beside it.
    let legend = dir.join("classes.json");
    let prompt = r#"Generate a semantic segmentation visualization image, using this color mapping: {"sky": "blue", "grass": "green"}"#;
    let summary = summary_line(peel(&["run", s(&img), "--prompt", prompt, "--out", s(&dir.join("sem.png")), "--decoded", s(&legend)]));
    assert_eq!(summary["task"], "semantic");
    assert!(legend.is_file() && dir.join("classes.png").is_file());
    let decoded = &summary["decoded"];
    let total: u64 = decoded["entries"].as_array().unwrap().iter().map(|c| c["pixels"].as_u64().unwrap()).sum::<u64>()
        + decoded["unlabeled_pixels"].as_u64().unwrap();
    assert_eq!(total, 200 * 150);

    let summary = summary_line(peel(&[
        "run", s(&img), "--prompt", "Instance segmentation. Each box is colored differently.", "--out", s(&dir.join("i.png")),
        "--decoded", s(&dir.join("instances.png")),
    ]));
    assert_eq!(summary["decoded"]["task"], "instance");
}

#[test]
fn run_rejects_bad_input_with_one_line() {
    let dir = common::scratch("peel-run-cli", "bad");
    let img = photo(&dir);
    let out = s(&dir.join("o.png")).to_string();
    bad_input(peel(&["run", s(&img), "--prompt", "Paint me a cat.", "--out", &out]), "--prompt: prompt error at character 1");
    bad_input(peel(&["run", s(&dir.join("missing.png")), "--prompt", "depth map", "--out", &out]), "missing.png");
    bad_input(peel(&["run", s(&img), "--prompt", "depth map", "--out", s(&dir.join("o.xyz"))]), "unknown image extension");
    bad_input(
        peel(&["run", s(&img), "--prompt", "normal map", "--out", &out, "--decoded", s(&dir.join("n.png"))]),
        "normals decodes to .npy",
    );
    bad_input(
        peel(&["run", s(&img), "--prompt", "referring: the box is rendered red", "--out", &out, "--decoded", s(&dir.join("o.json"))]),
        "--decoded would overwrite --out",
    );
    bad_input(peel(&["run", s(&img), "--prompt", "depth map", "--out", &out, "--weights", s(&dir)]), "manifest.json");
    bad_input(
        peel(&["run", s(&img), "--prompt", r#"using this color mapping: {"qwxz zzyzx": "red"}"#, "--out", &out]),
        "\"qwxz zzyzx\"",
    );
    bad_input(
        peel(&["run", s(&img), "--prompt", "Generate a metric depth map. lambda = -4, c = 120", "--out", &out]),
        "paper's codec only",
    );
}
