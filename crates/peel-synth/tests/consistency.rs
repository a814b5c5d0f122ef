//! Ground-truth consistency of generated samples, determinism, and the on-disk format.
//!
//! The default tests render a few dozen samples (well under a minute). The full check from the
//! issue (200 samples, seed 1) is `cargo test --release -p peel-synth --test consistency -- --ignored`;
//! set `PEEL_SYNTH_CHECK_DIR` to check a folder written by `peel synth` instead of rendering.

use std::path::{Path, PathBuf};

use peel_synth::validate::check_sample;
use peel_synth::{SceneKind, Synth, SynthConfig, default_photo_dir, generate_dataset, read_sample};

fn config(seed: u64, kind: SceneKind, w: u32, h: u32) -> SynthConfig {
    let mut c = SynthConfig { width: w, height: h, seed, kind, ..SynthConfig::default() };
    c.photos.dir = default_photo_dir();
    c.photos.max_photos = 16;
    c
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("peel-synth-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// Checks every sample folder under `dir`; returns (samples, median planar angle, kinds seen).
fn check_dir(dir: &Path) -> (usize, f32, Vec<String>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_dir()).collect();
    entries.sort();
    assert!(!entries.is_empty(), "no samples in {}", dir.display());
    let mut all = Vec::new();
    let mut kinds = Vec::new();
    for e in &entries {
        let s = read_sample(e).unwrap_or_else(|err| panic!("{}: {err}", e.display()));
        let r = check_sample(&s).unwrap_or_else(|err| panic!("{}: {err}", e.display()));
        let med = r.median_angle();
        assert!(r.planar_angles.len() > 100, "{}: only {} planar pixels", e.display(), r.planar_angles.len());
        assert!(med < 3.0, "{}: median normal error {med} deg", e.display());
        plausible_metric_scale(&s);
        all.extend(r.planar_angles);
        if !kinds.contains(&s.meta.kind) {
            kinds.push(s.meta.kind.clone());
        }
    }
    all.sort_by(|a, b| a.total_cmp(b));
    let pct = |q: usize| all[(all.len() * q / 100).min(all.len() - 1)];
    println!("planar pixels: {}, normal error p50 {:.4} p90 {:.4} p99 {:.4} deg", all.len(), pct(50), pct(90), pct(99));
    (entries.len(), all[all.len() / 2], kinds)
}

/// Metric sanity per scene kind.
fn plausible_metric_scale(s: &peel_synth::Sample) {
    let finite: Vec<f32> = s.depth.iter().copied().filter(|d| d.is_finite()).collect();
    let max = finite.iter().copied().fold(0.0f32, f32::max);
    let min = finite.iter().copied().fold(f32::INFINITY, f32::min);
    match s.meta.kind.as_str() {
        // Rooms are at most 8 x 8 x 3.2 m.
        "indoor" | "tabletop" => assert!(max < 12.0 && min > 0.01, "{}: depth range {min}..{max}", s.meta.id),
        "outdoor" => {
            let sky = s.semantic.iter().filter(|&&c| c == 1).count();
            assert!(max > 8.0 && (sky > 0 || max > 20.0), "{}: outdoor scene only {max} m deep, {sky} sky pixels", s.meta.id)
        }
        k => panic!("unknown kind {k}"),
    }
    if s.meta.kind == "tabletop" {
        // Close-up: several objects standing on a table within 0.2..2.2 m of the camera.
        let tables: Vec<u16> = s.meta.instances.iter().filter(|i| i.class == "table").map(|i| i.id).collect();
        let close = s
            .meta
            .instances
            .iter()
            .filter(|i| i.on.is_some_and(|t| tables.contains(&t)) && (0.2..2.2).contains(&-i.position[2]))
            .count();
        assert!(close >= 2, "{}: only {close} objects on a table within 0.2..2.2 m", s.meta.id);
    }
}

#[test]
fn generated_samples_are_consistent() {
    let dir = tmp("mixed");
    let synth = Synth::new(config(7, SceneKind::Mixed, 192, 160));
    let stats = generate_dataset(&synth, 0, 24, &dir, |_| {}).unwrap();
    assert_eq!(stats.count, 24);
    let (n, med, kinds) = check_dir(&dir);
    assert_eq!(n, 24);
    assert!(med < 3.0, "median {med}");
    for k in ["indoor", "outdoor", "tabletop"] {
        assert!(kinds.iter().any(|x| x == k), "no {k} scene among {kinds:?}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn every_kind_passes_the_checks() {
    for kind in [SceneKind::Indoor, SceneKind::Outdoor, SceneKind::Tabletop] {
        let synth = Synth::new(config(3, kind, 128, 128));
        for i in 0..6 {
            let s = synth.render(i);
            assert_eq!(s.meta.kind, kind.name());
            let r = check_sample(&s).unwrap_or_else(|e| panic!("{kind:?} {i}: {e}"));
            assert!(r.median_angle() < 3.0);
            plausible_metric_scale(&s);
        }
    }
}

#[test]
fn same_seed_same_bytes_regardless_of_threads() {
    let cfg = config(11, SceneKind::Mixed, 96, 80);
    let a = Synth::new(cfg.clone());
    let b = Synth::new(cfg.clone());
    let pool1 = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let pool3 = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap();
    for i in [0u64, 5, 9] {
        let x = pool1.install(|| a.render(i));
        let y = pool3.install(|| b.render(i));
        assert_eq!(x.rgb, y.rgb, "rgb differs for sample {i}");
        assert_eq!(x.depth.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), y.depth.iter().map(|v| v.to_bits()).collect::<Vec<_>>());
        assert_eq!(x.normal.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), y.normal.iter().map(|v| v.to_bits()).collect::<Vec<_>>());
        assert_eq!(x.instance, y.instance);
        assert_eq!(x.meta, y.meta);
    }
    // Files too: two runs give identical bytes; another seed differs.
    let (d1, d2) = (tmp("det1"), tmp("det2"));
    generate_dataset(&a, 0, 3, &d1, |_| {}).unwrap();
    generate_dataset(&b, 0, 3, &d2, |_| {}).unwrap();
    for id in ["000000", "000001", "000002"] {
        for f in ["rgb.png", "depth.npy", "normal.npy", "semantic.png", "instance.png", "meta.json"] {
            let x = std::fs::read(d1.join(id).join(f)).unwrap();
            let y = std::fs::read(d2.join(id).join(f)).unwrap();
            assert!(x == y, "{id}/{f} differs between runs");
        }
    }
    let other = Synth::new(config(12, SceneKind::Mixed, 96, 80)).render(0);
    assert_ne!(other.rgb, a.render(0).rgb);
    std::fs::remove_dir_all(&d1).unwrap();
    std::fs::remove_dir_all(&d2).unwrap();
}

#[test]
fn written_files_read_back_identically() {
    let synth = Synth::new(config(5, SceneKind::Tabletop, 64, 48));
    let s = synth.render(2);
    let dir = tmp("roundtrip");
    s.write(&dir).unwrap();
    let r = read_sample(&dir).unwrap();
    assert_eq!(r.rgb, s.rgb);
    assert_eq!(r.semantic, s.semantic);
    assert_eq!(r.instance, s.instance);
    assert_eq!(r.meta, s.meta);
    assert_eq!(r.depth.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), s.depth.iter().map(|v| v.to_bits()).collect::<Vec<_>>());
    assert_eq!(r.normal, s.normal);
    assert_eq!(s.depth_array().unwrap().dim(), (48, 64));
    assert_eq!(s.normal_array().unwrap().dim(), (48, 64, 3));
    let mut short = s.clone();
    short.depth.pop();
    short.normal.pop();
    assert!(short.depth_array().is_err() && short.normal_array().is_err(), "a buffer of the wrong length is an error, not a panic");
    // A corrupted file is an error, not a panic.
    std::fs::write(dir.join("depth.npy"), b"garbage").unwrap();
    assert!(read_sample(&dir).is_err());
    // So is an array of another shape than meta.json's.
    ndarray_npy::write_npy(dir.join("depth.npy"), &ndarray::Array2::<f32>::zeros((48, 65))).unwrap();
    let err = read_sample(&dir).expect_err("another shape").to_string();
    assert!(err.contains("differs from meta.json"), "{err}");
    // And a header that claims petabytes the file lacks: refused without allocating them.
    let header = format!("{:<117}\n", "{'descr': '<f4', 'fortran_order': False, 'shape': (48000000, 64000000), }");
    let mut lying = b"\x93NUMPY\x01\x00".to_vec();
    lying.extend((header.len() as u16).to_le_bytes());
    lying.extend(header.as_bytes());
    lying.extend([0u8; 64]);
    std::fs::write(dir.join("depth.npy"), lying).unwrap();
    assert!(read_sample(&dir).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn checker_rejects_inconsistent_ground_truth() {
    let synth = Synth::new(config(9, SceneKind::Indoor, 64, 64));
    let s = synth.render(0);
    assert!(check_sample(&s).is_ok());
    // Wrong depth on a finite pixel.
    let mut bad = s.clone();
    let i = bad.depth.iter().position(|d| d.is_finite()).unwrap();
    bad.depth[i] = f32::INFINITY;
    assert!(check_sample(&bad).is_err());
    // An instance id missing from meta.json.
    let mut bad = s.clone();
    bad.meta.instances.remove(0);
    assert!(check_sample(&bad).is_err());
    // Flipped normals.
    let mut bad = s.clone();
    bad.normal.iter_mut().for_each(|v| *v = -*v);
    assert!(check_sample(&bad).is_err());
    // Normals rotated (still unit and facing the camera) no longer agree with the depth.
    let mut bad = s.clone();
    for n in bad.normal.chunks_exact_mut(3) {
        let (x, z) = (n[0], n[2]);
        n[0] = 0.8 * x + 0.6 * z;
        n[2] = -0.6 * x + 0.8 * z;
    }
    let med = check_sample(&bad).map(|r| r.median_angle()).unwrap_or(90.0);
    assert!(med > 10.0, "rotated normals gave median {med}");
    // An expression that denotes nothing.
    let mut bad = s;
    bad.meta.expressions[0].instance_ids.clear();
    assert!(check_sample(&bad).is_err());
}

/// The acceptance check: 200 samples from seed 1 (default size and kind).
#[test]
#[ignore = "slow: renders 200 samples; run with --ignored"]
fn two_hundred_samples_seed_1() {
    let (dir, cleanup) = match std::env::var("PEEL_SYNTH_CHECK_DIR") {
        Ok(d) => (PathBuf::from(d), false),
        Err(_) => {
            let dir = tmp("200");
            let mut cfg = SynthConfig { seed: 1, ..SynthConfig::default() };
            cfg.photos.dir = default_photo_dir();
            let synth = Synth::new(cfg);
            generate_dataset(&synth, 0, 200, &dir, |_| {}).unwrap();
            (dir, true)
        }
    };
    let (n, med, kinds) = check_dir(&dir);
    println!("checked {n} samples in {}: median planar normal error {med:.4} deg, kinds {kinds:?}", dir.display());
    assert!(n >= 200);
    assert!(med < 3.0);
    if cleanup {
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
