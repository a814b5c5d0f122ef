//! Contact sheet: a grid of rgb, depth, normals, semantic and instance panels per sample.

use peel_protocol::depth::DepthCodec;

use crate::Sample;

/// Colour of a label id (0 is black).
pub fn label_colour(id: u32) -> [u8; 3] {
    if id == 0 {
        return [0, 0, 0];
    }
    let h = crate::math::hash(&[0xC01, id as u64]);
    [64 + (h & 0xbf) as u8, 64 + ((h >> 8) & 0xbf) as u8, 64 + ((h >> 16) & 0xbf) as u8]
}

/// The five visualisations of a sample, each H×W×3.
pub fn panels(s: &Sample) -> [Vec<u8>; 5] {
    let codec = DepthCodec::default();
    let depth: Vec<u8> = s.depth.iter().flat_map(|&d| codec.encode_rgb8(d)).collect();
    let normal: Vec<u8> = s
        .normal
        .chunks_exact(3)
        .flat_map(|n| peel_protocol::normals::encode_rgb8([n[0], n[1], n[2]]))
        .collect();
    let sem: Vec<u8> = s.semantic.iter().flat_map(|&c| label_colour(c as u32)).collect();
    let inst: Vec<u8> = s.instance.iter().flat_map(|&c| label_colour(c as u32 + 1000)).collect();
    [s.rgb.clone(), depth, normal, sem, inst]
}

/// Builds a contact sheet: `per_row` samples per row, each shown as 5 tiles of `tile`×`tile` pixels
/// (nearest-neighbour resized), with a 2-pixel gap. Returns (width, height, RGB bytes).
pub fn contact_sheet(samples: &[Sample], per_row: usize, tile: usize) -> (u32, u32, Vec<u8>) {
    let per_row = per_row.max(1);
    let gap = 2;
    let rows = samples.len().div_ceil(per_row).max(1);
    let cols = per_row * 5;
    let w = cols * (tile + gap) + (per_row - 1) * 6;
    let h = rows * (tile + gap);
    let mut out = vec![255u8; w * h * 3];
    for (k, s) in samples.iter().enumerate() {
        let (r, c0) = (k / per_row, (k % per_row) * 5);
        let ps = panels(s);
        let (sw, sh) = (s.width as usize, s.height as usize);
        for (pi, p) in ps.iter().enumerate() {
            let ox = (c0 + pi) * (tile + gap) + (k % per_row) * 6;
            let oy = r * (tile + gap);
            for ty in 0..tile {
                let sy = (ty * sh / tile).min(sh - 1);
                for tx in 0..tile {
                    let sx = (tx * sw / tile).min(sw - 1);
                    let src = (sy * sw + sx) * 3;
                    let dst = ((oy + ty) * w + ox + tx) * 3;
                    out[dst..dst + 3].copy_from_slice(&p[src..src + 3]);
                }
            }
        }
    }
    (w as u32, h as u32, out)
}
