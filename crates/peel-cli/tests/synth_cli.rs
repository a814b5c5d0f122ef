//! Runs `peel synth`: the sample folders it writes, its throughput line, and exit code 2 on bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn peel(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_peel")).args(args).output().expect("run peel")
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("peel-synth-cli").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn bad(out: Output, fragment: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert!(stderr.contains(fragment) && !stderr.contains("panicked"), "{stderr:?} should mention {fragment:?}");
}

#[test]
fn synth_writes_samples_and_reports_throughput() {
    let dir = scratch("ok");
    let d = dir.to_str().unwrap();
    let out = peel(&["synth", "--count", "3", "--seed", "4", "--size", "64x48", "--kind", "tabletop", "--out", d, "--no-photos"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("samples/s") && stdout.contains("3 samples 64x48"), "{stdout}");
    for id in ["000000", "000001", "000002"] {
        let s = peel_synth::read_sample(&dir.join(id)).unwrap();
        assert_eq!((s.width, s.height), (64, 48));
        assert_eq!(s.meta.kind, "tabletop");
        peel_synth::validate::check_sample(&s).unwrap();
    }
    assert!(!dir.join("000003").exists());
    // --start shards: sample 2 of a sharded run equals sample 2 of the first run.
    let dir2 = scratch("shard");
    let out = peel(&["synth", "--count", "1", "--start", "2", "--seed", "4", "--size", "64x48", "--kind", "tabletop", "--out", dir2.to_str().unwrap(), "--no-photos"]);
    assert_eq!(out.status.code(), Some(0));
    for f in ["rgb.png", "depth.npy", "meta.json"] {
        assert_eq!(std::fs::read(dir.join("000002").join(f)).unwrap(), std::fs::read(dir2.join("000002").join(f)).unwrap(), "{f}");
    }
}

#[test]
fn synth_contact_sheet() {
    let dir = scratch("sheet");
    let png = dir.join("sheet.png");
    let out = peel(&["synth", "--count", "2", "--size", "32x32", "--contact-sheet", png.to_str().unwrap(), "--no-photos"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let img = image::open(&png).unwrap();
    // Two samples side by side, five panels each.
    assert!(img.width() > 5 * 2 * 128 && img.height() >= 128, "{}x{}", img.width(), img.height());
}

#[test]
fn synth_rejects_bad_input() {
    let d = scratch("bad");
    let ds = d.to_str().unwrap();
    bad(peel(&["synth", "--size", "0x10", "--out", ds]), "size");
    bad(peel(&["synth", "--size", "banana", "--out", ds]), "size");
    bad(peel(&["synth", "--size", "100000x64", "--out", ds]), "size");
    bad(peel(&["synth", "--kind", "underwater", "--out", ds]), "kind");
    bad(peel(&["synth", "--count", "1"]), "--out");
    bad(peel(&["synth", "--count", "x", "--out", ds]), "count");
    std::fs::create_dir_all(&d).unwrap();
    let file = d.join("a-file");
    std::fs::write(&file, b"x").unwrap();
    bad(peel(&["synth", "--count", "1", "--out", file.to_str().unwrap()]), "a-file");
    let below_file = file.join("sub");
    bad(peel(&["synth", "--count", "1", "--out", below_file.to_str().unwrap()]), "sub");
}
