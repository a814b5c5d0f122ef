//! Instance segmentation: cluster the non-background colours, then split into connected components.

use super::{DEFAULT_TOLERANCE, check_tolerance};
use crate::color::{Rgb8, distance_sq};
use crate::error::{ProtocolError, check_buffer};

/// Thresholds of the instance decoder, in 8-bit RGB units (see the module docs of `segmentation`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InstanceParams {
    /// Pixels this close to the background colour are background.
    pub background_tolerance: f32,
    /// Colours this close to a more frequent cluster's colour join that cluster.
    pub cluster_radius: f32,
    /// Smallest instance in pixels; `None` means max(16, pixels / 10 000).
    pub min_pixels: Option<usize>,
}

impl Default for InstanceParams {
    fn default() -> Self {
        Self { background_tolerance: DEFAULT_TOLERANCE, cluster_radius: 40.0, min_pixels: None }
    }
}

impl InstanceParams {
    /// The minimum instance size for an image of `pixels` pixels.
    pub fn min_pixels_for(&self, pixels: usize) -> usize {
        self.min_pixels.unwrap_or((pixels / 10_000).max(16))
    }
}

/// One decoded instance.
#[derive(Debug, Clone, PartialEq)]
pub struct Instance {
    /// Its value in [`InstanceMap::ids`] (1-based).
    pub id: u16,
    /// Mean colour of its pixels.
    pub color: Rgb8,
    pub pixels: usize,
    /// Bounding box `[x0, y0, x1, y1]`, exclusive of `x1`, `y1`.
    pub bbox: [u32; 4],
}

/// Decoded instances, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceMap {
    pub width: u32,
    pub height: u32,
    /// 0 for background (and specks), else the instance's `id`.
    pub ids: Vec<u16>,
    /// In order of first appearance in raster order; `instances[i].id == i + 1`.
    pub instances: Vec<Instance>,
}

impl InstanceMap {
    /// One binary mask per instance, in `instances` order.
    pub fn masks(&self) -> Vec<Vec<bool>> {
        self.instances.iter().map(|inst| self.ids.iter().map(|&id| id == inst.id).collect()).collect()
    }
}

const BITS: u32 = 5;
const BINS: usize = 1 << (3 * BITS);
const BACKGROUND: u32 = u32::MAX;

fn bin_of(rgb: Rgb8) -> usize {
    let q = |v: u8| usize::from(v >> (8 - BITS));
    (q(rgb[0]) << (2 * BITS)) | (q(rgb[1]) << BITS) | q(rgb[2])
}

/// Decodes instances from a tightly packed RGB image whose background is `background`.
pub fn decode(
    rgb8: &[u8],
    width: u32,
    height: u32,
    background: Rgb8,
    params: &InstanceParams,
) -> Result<InstanceMap, ProtocolError> {
    check_tolerance("background_tolerance", params.background_tolerance)?;
    check_tolerance("cluster_radius", params.cluster_radius)?;
    let pixels = check_buffer(rgb8.len(), width, height, 3)?;
    let background_sq = params.background_tolerance * params.background_tolerance;

    // 1. Histogram of foreground colours, with per-bin colour sums for a mean colour.
    let mut count = vec![0u32; BINS];
    let mut sum = vec![[0u64; 3]; BINS];
    let mut bin_of_pixel = vec![BACKGROUND; pixels];
    for (p, px) in rgb8.chunks_exact(3).enumerate() {
        let rgb = [px[0], px[1], px[2]];
        if distance_sq(rgb, background) <= background_sq {
            continue;
        }
        let bin = bin_of(rgb);
        count[bin] += 1;
        for c in 0..3 {
            sum[bin][c] += u64::from(rgb[c]);
        }
        bin_of_pixel[p] = bin as u32;
    }

    // 2. Leader clustering of bins, most frequent first (ties by bin index, for determinism).
    let mut occupied: Vec<usize> = (0..BINS).filter(|&b| count[b] > 0).collect();
    occupied.sort_by_key(|&b| (std::cmp::Reverse(count[b]), b));
    let radius_sq = params.cluster_radius * params.cluster_radius;
    let mut centres: Vec<Rgb8> = Vec::new();
    let mut cluster_of_bin = vec![0u32; BINS];
    for &b in &occupied {
        let n = u64::from(count[b]);
        let mean = sum[b].map(|s| (s / n) as u8);
        let nearest = centres
            .iter()
            .enumerate()
            .map(|(i, &c)| (i, distance_sq(c, mean)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .filter(|&(_, d)| d <= radius_sq);
        cluster_of_bin[b] = match nearest {
            Some((i, _)) => i as u32,
            None => {
                centres.push(mean);
                (centres.len() - 1) as u32
            }
        };
    }
    let cluster: Vec<u32> = bin_of_pixel
        .iter()
        .map(|&b| if b == BACKGROUND { BACKGROUND } else { cluster_of_bin[b as usize] })
        .collect();

    // 3. 8-connected components within each cluster; keep those of at least `min_pixels`.
    let min_pixels = params.min_pixels_for(pixels);
    let (w, h) = (width as usize, height as usize);
    let mut ids = vec![0u16; pixels];
    let mut visited = vec![false; pixels];
    let mut instances = Vec::new();
    let mut stack = Vec::new();
    let mut component = Vec::new();
    for start in 0..pixels {
        if visited[start] || cluster[start] == BACKGROUND {
            continue;
        }
        let label = cluster[start];
        visited[start] = true;
        stack.push(start);
        component.clear();
        while let Some(p) = stack.pop() {
            component.push(p);
            let (x, y) = (p % w, p / w);
            for ny in y.saturating_sub(1)..=(y + 1).min(h - 1) {
                for nx in x.saturating_sub(1)..=(x + 1).min(w - 1) {
                    let q = ny * w + nx;
                    if !visited[q] && cluster[q] == label {
                        visited[q] = true;
                        stack.push(q);
                    }
                }
            }
        }
        if component.len() < min_pixels {
            continue;
        }
        if instances.len() >= usize::from(u16::MAX) {
            return Err(ProtocolError::Invalid("more than 65535 instances".into()));
        }
        let id = instances.len() as u16 + 1;
        let mut bbox = [u32::MAX, u32::MAX, 0, 0];
        let mut colour_sum = [0u64; 3];
        for &p in &component {
            ids[p] = id;
            let (x, y) = ((p % w) as u32, (p / w) as u32);
            bbox = [bbox[0].min(x), bbox[1].min(y), bbox[2].max(x + 1), bbox[3].max(y + 1)];
            for c in 0..3 {
                colour_sum[c] += u64::from(rgb8[3 * p + c]);
            }
        }
        let n = component.len() as u64;
        instances.push(Instance { id, color: colour_sum.map(|s| (s / n) as u8), pixels: component.len(), bbox });
    }
    Ok(InstanceMap { width, height, ids, instances })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `w`×`h` image of `background` with filled rectangles `(x0, y0, x1, y1, colour)`.
    fn paint(w: usize, h: usize, background: Rgb8, rects: &[(usize, usize, usize, usize, Rgb8)]) -> Vec<u8> {
        let mut img: Vec<u8> = std::iter::repeat_n(background, w * h).flatten().collect();
        for &(x0, y0, x1, y1, rgb) in rects {
            for y in y0..y1 {
                for x in x0..x1 {
                    img[3 * (y * w + x)..3 * (y * w + x) + 3].copy_from_slice(&rgb);
                }
            }
        }
        img
    }

    #[test]
    fn distinct_colours_repeated_colours_and_specks() {
        let bg = [88, 50, 82];
        let rects = [
            (2, 2, 12, 12, [255, 0, 0]),
            (20, 2, 30, 12, [0, 200, 255]),
            // Same colour as the first, far away: a second instance.
            (2, 20, 12, 30, [255, 0, 0]),
            // A 2x2 speck.
            (15, 15, 17, 17, [255, 255, 0]),
            // Slightly off the first colour, touching nothing: clusters with red, separate component.
            (20, 20, 30, 30, [245, 12, 6]),
        ];
        let img = paint(32, 32, bg, &rects);
        let map = decode(&img, 32, 32, bg, &InstanceParams::default()).unwrap();
        let summary: Vec<(Rgb8, usize, [u32; 4])> = map.instances.iter().map(|i| (i.color, i.pixels, i.bbox)).collect();
        assert_eq!(
            summary,
            vec![
                ([255, 0, 0], 100, [2, 2, 12, 12]),
                ([0, 200, 255], 100, [20, 2, 30, 12]),
                ([255, 0, 0], 100, [2, 20, 12, 30]),
                ([245, 12, 6], 100, [20, 20, 30, 30]),
            ]
        );
        assert_eq!(map.ids[3 * 32 + 3], 1);
        assert_eq!(map.ids[15 * 32 + 15], 0, "the speck is not an instance");
        assert_eq!(map.masks()[2].iter().filter(|&&m| m).count(), 100);
    }

    #[test]
    fn touching_instances_of_different_colours_stay_apart() {
        let bg = [0, 0, 0];
        let img = paint(20, 10, bg, &[(0, 0, 10, 10, [255, 0, 0]), (10, 0, 20, 10, [0, 0, 255])]);
        let map = decode(&img, 20, 10, bg, &InstanceParams { min_pixels: Some(1), ..Default::default() }).unwrap();
        assert_eq!(map.instances.len(), 2);
        assert!(map.instances.iter().all(|i| i.pixels == 100));
    }

    #[test]
    fn bad_arguments_are_errors() {
        let params = InstanceParams { cluster_radius: f32::INFINITY, ..Default::default() };
        assert!(decode(&[0; 3], 1, 1, [0; 3], &params).is_err());
        assert!(decode(&[0; 2], 1, 1, [0; 3], &InstanceParams::default()).is_err());
        let empty = decode(&[0; 3], 1, 1, [0; 3], &InstanceParams::default()).unwrap();
        assert!(empty.instances.is_empty());
    }
}
