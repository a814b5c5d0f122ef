//! The value files `peel encode` and `peel metrics` read: `.npy` (depth (H, W), normals
//! (H, W, 3), float32 or float64) and greyscale `.pfm`. Every input goes to all three readers.
#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use peel_cli::io;

fuzz_target!(|data: &[u8]| {
    let len = data.len() as u64;
    if let Ok(depth) = io::depth_npy(Cursor::new(data), len) {
        assert_eq!(depth.data.len(), depth.width as usize * depth.height as usize);
    }
    if let Ok(normals) = io::normals_npy(Cursor::new(data), len) {
        assert_eq!(normals.data.len(), normals.width as usize * normals.height as usize);
    }
    if let Ok(depth) = io::pfm(data) {
        assert_eq!(depth.data.len(), depth.width as usize * depth.height as usize);
    }
});
