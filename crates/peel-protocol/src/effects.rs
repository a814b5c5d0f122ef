//! Photo effects made from decoded values: a portrait blur (depth of field) from metric depth and
//! relighting from surface normals. Pure functions over tightly packed RGB; the page shows them
//! and exports them as PNG ([`crate::export::rgb_png`]).

use crate::error::{ProtocolError, check_buffer};

/// Blur radii the portrait blur mixes between, as fractions of its largest radius.
const BLUR_LEVELS: [f32; 4] = [0.0, 0.25, 0.5, 1.0];

fn parameter(name: &'static str, value: f32, ok: bool, reason: &'static str) -> Result<(), ProtocolError> {
    if ok { Ok(()) } else { Err(ProtocolError::InvalidParameter { name, value: value.to_string(), reason }) }
}

/// Depth of field focused at `focus_m` metres: each pixel is blurred by a circle of confusion
/// that grows with |1 − focus/depth| (a thin lens's blur, relative to its largest) up to
/// `max_radius_px` pixels, which sky and anything at or nearer than half the focus distance get.
/// Pixels without a depth (NaN) stay sharp. The blur is a box blur at a few radii mixed per
/// pixel, so it does not model occlusion: a sharp subject's colour bleeds slightly into the blurred
/// background next to it.
pub fn portrait_blur(rgb: &[u8], meters: &[f32], width: u32, height: u32, focus_m: f32, max_radius_px: f32) -> Result<Vec<u8>, ProtocolError> {
    check_buffer(rgb.len(), width, height, 3)?;
    check_buffer(meters.len(), width, height, 1)?;
    parameter("focus distance", focus_m, focus_m.is_finite() && focus_m > 0.0, "must be a positive number of metres")?;
    parameter("blur radius", max_radius_px, max_radius_px.is_finite() && (0.0..=256.0).contains(&max_radius_px), "must be between 0 and 256 pixels")?;
    let levels: Vec<Vec<f32>> = BLUR_LEVELS.iter().map(|f| box_blur(rgb, width as usize, height as usize, (f * max_radius_px).round() as usize)).collect();
    let mut out = Vec::with_capacity(rgb.len());
    for (p, &d) in meters.iter().enumerate() {
        let blur = if d.is_nan() { 0.0 } else { (1.0 - focus_m / d.max(f32::MIN_POSITIVE)).abs().min(1.0) };
        // Linear between the two nearest levels.
        let k = BLUR_LEVELS.iter().rposition(|&f| f <= blur).unwrap_or(0).min(BLUR_LEVELS.len() - 2);
        let t = ((blur - BLUR_LEVELS[k]) / (BLUR_LEVELS[k + 1] - BLUR_LEVELS[k])).clamp(0.0, 1.0);
        for c in 0..3 {
            let v = levels[k][3 * p + c] * (1.0 - t) + levels[k + 1][3 * p + c] * t;
            out.push(v.round().clamp(0.0, 255.0) as u8);
        }
    }
    Ok(out)
}

/// A (2r + 1)² box blur (clamped at the borders) through a summed-area table.
fn box_blur(rgb: &[u8], w: usize, h: usize, r: usize) -> Vec<f32> {
    if r == 0 {
        return rgb.iter().map(|&v| f32::from(v)).collect();
    }
    // sums[(y * (w + 1) + x) * 3 + c]: the sum over rows < y and columns < x.
    let stride = w + 1;
    let mut sums = vec![0f64; stride * (h + 1) * 3];
    for y in 0..h {
        let mut row = [0f64; 3];
        for x in 0..w {
            for c in 0..3 {
                row[c] += f64::from(rgb[(y * w + x) * 3 + c]);
                sums[((y + 1) * stride + x + 1) * 3 + c] = sums[(y * stride + x + 1) * 3 + c] + row[c];
            }
        }
    }
    let mut out = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        let (y0, y1) = (y.saturating_sub(r), (y + r + 1).min(h));
        for x in 0..w {
            let (x0, x1) = (x.saturating_sub(r), (x + r + 1).min(w));
            let area = ((y1 - y0) * (x1 - x0)) as f64;
            for c in 0..3 {
                let s = sums[(y1 * stride + x1) * 3 + c] - sums[(y0 * stride + x1) * 3 + c] - sums[(y1 * stride + x0) * 3 + c]
                    + sums[(y0 * stride + x0) * 3 + c];
                out.push((s / area) as f32);
            }
        }
    }
    out
}

/// The photo lit from direction `light` (camera frame: +x right, +y up, +z towards the viewer;
/// need not be unit length): each pixel's colour times `ambient + (1 − ambient) · max(0, n·l)`,
/// so surfaces facing the light keep their colour and those facing away darken to `ambient`.
pub fn relight(rgb: &[u8], normals: &[f32], width: u32, height: u32, light: [f32; 3], ambient: f32) -> Result<Vec<u8>, ProtocolError> {
    check_buffer(rgb.len(), width, height, 3)?;
    check_buffer(normals.len(), width, height, 3)?;
    parameter("ambient light", ambient, (0.0..=1.0).contains(&ambient), "must be between 0 and 1")?;
    let norm = light.iter().map(|v| v * v).sum::<f32>().sqrt();
    parameter("light direction", norm, norm.is_finite() && norm > 0.0, "must be a non-zero, finite vector")?;
    let l = light.map(|v| v / norm);
    Ok(rgb
        .chunks_exact(3)
        .zip(normals.chunks_exact(3))
        .flat_map(|(p, n)| {
            let lambert = (n[0] * l[0] + n[1] * l[1] + n[2] * l[2]).max(0.0);
            let shade = if lambert.is_finite() { ambient + (1.0 - ambient) * lambert } else { 1.0 };
            [p[0], p[1], p[2]].map(|v| (f32::from(v) * shade).round().clamp(0.0, 255.0) as u8)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 16×4 checkerboard (vertical stripes of 0 and 255) with depth `d` in the left half and
    /// `far` in the right half.
    fn stripes(d: f32, far: f32) -> (Vec<u8>, Vec<f32>) {
        let (w, h) = (16, 4);
        let rgb = (0..w * h).flat_map(|p| [if p % 2 == 0 { 0 } else { 255 }; 3]).collect();
        let meters = (0..w * h).map(|p| if p % w < w / 2 { d } else { far }).collect();
        (rgb, meters)
    }

    #[test]
    fn the_focused_plane_stays_sharp_and_the_rest_blurs() {
        let (rgb, meters) = stripes(2.0, f32::INFINITY);
        let out = portrait_blur(&rgb, &meters, 16, 4, 2.0, 2.0).unwrap();
        // Left half (in focus): exactly the photo.
        for y in 0..4 {
            for x in 0..8 {
                let p = (y * 16 + x) * 3;
                assert_eq!(out[p..p + 3], rgb[p..p + 3], "pixel ({x}, {y})");
            }
        }
        // Right half (sky): stripes averaged towards grey, away from the left border.
        let p = (16 + 12) * 3;
        assert!((90..=165).contains(&out[p]), "blurred value {}", out[p]);
        // Focused on the far side instead: the left half blurs, the right stays sharp.
        let (rgb, meters) = stripes(2.0, 8.0);
        let out = portrait_blur(&rgb, &meters, 16, 4, 8.0, 2.0).unwrap();
        assert_eq!(out[(16 + 12) * 3], rgb[(16 + 12) * 3]);
        assert!((60..=195).contains(&out[(16 + 3) * 3]), "{}", out[(16 + 3) * 3]);
    }

    #[test]
    fn zero_radius_is_the_photo_and_bad_parameters_are_refused() {
        let (rgb, meters) = stripes(1.0, 5.0);
        assert_eq!(portrait_blur(&rgb, &meters, 16, 4, 3.0, 0.0).unwrap(), rgb);
        assert!(portrait_blur(&rgb, &meters, 16, 4, 0.0, 2.0).is_err());
        assert!(portrait_blur(&rgb, &meters, 16, 4, f32::NAN, 2.0).is_err());
        assert!(portrait_blur(&rgb, &meters, 16, 4, 1.0, 1e9).is_err());
        assert!(portrait_blur(&rgb, &meters[1..], 16, 4, 1.0, 2.0).is_err());
    }

    #[test]
    fn box_blur_keeps_a_flat_image_flat_and_averages_a_step() {
        let flat = vec![77u8; 5 * 3 * 3];
        assert!(box_blur(&flat, 5, 3, 2).iter().all(|&v| (v - 77.0).abs() < 1e-4));
        // 1×4 step 0,0,255,255 with r = 1: the clamped windows average 0, 85, 170, 255.
        let step: Vec<u8> = [0u8, 0, 255, 255].iter().flat_map(|&v| [v; 3]).collect();
        let out = box_blur(&step, 4, 1, 1);
        assert_eq!(out.chunks(3).map(|p| p[0].round() as i32).collect::<Vec<_>>(), vec![0, 85, 170, 255]);
    }

    #[test]
    fn relighting_keeps_lit_faces_and_darkens_the_others_to_ambient() {
        let rgb = vec![200u8; 3 * 3];
        // Facing the viewer, facing up, facing away from the light (down).
        let normals = [0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0, -1.0, 0.0];
        let out = relight(&rgb, &normals, 3, 1, [0.0, 2.0, 0.0], 0.25).unwrap();
        assert_eq!(out, vec![50, 50, 50, 200, 200, 200, 50, 50, 50]);
        // A light from the viewer lights the first pixel fully.
        let out = relight(&rgb, &normals, 3, 1, [0.0, 0.0, 1.0], 0.25).unwrap();
        assert_eq!(&out[..3], &[200, 200, 200]);
        assert!(relight(&rgb, &normals, 3, 1, [0.0; 3], 0.25).is_err());
        assert!(relight(&rgb, &normals, 3, 1, [0.0, 0.0, 1.0], 1.5).is_err());
        assert!(relight(&rgb, &normals[3..], 3, 1, [0.0, 0.0, 1.0], 0.5).is_err());
    }
}
