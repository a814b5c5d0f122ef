//! Helpers shared by the CLI integration tests: run the `peel` binary and check its conventions
//! (exit 0 with JSON on stdout; exit 2 with one `peel: …` line on stderr).
#![allow(dead_code)] // each test binary uses a subset

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// Runs the binary; `PEEL_WEIGHTS` is cleared so `peel run` uses the repository's `weights/`.
pub fn peel<S: AsRef<OsStr>>(args: &[S]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_peel")).env_remove("PEEL_WEIGHTS").args(args).output().expect("run peel")
}

/// A fresh, empty directory per test under cargo's scratch space.
pub fn scratch(group: &str, name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(group).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Asserts exit code 0 and returns stdout parsed as JSON.
pub fn ok_json(out: Output) -> Value {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

/// Asserts exit code 2 and a single `peel: ...` stderr line containing `fragment`.
pub fn bad_input(out: Output, fragment: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line expected: {stderr}");
    assert!(stderr.starts_with("peel: ") && stderr.contains(fragment), "{stderr:?} should mention {fragment:?}");
    assert!(!stderr.contains("panicked"));
}
