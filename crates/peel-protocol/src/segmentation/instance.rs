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
const NO_COMPONENT: u32 = u32::MAX;
const NO_SLOT: u32 = u32::MAX;

/// One occupied colour bin: its pixels and their colour sum.
struct BinStats {
    bin: usize,
    count: u32,
    sum: [u64; 3],
}
/// A rim is absorbed only by a neighbour at least this many times its size (a one-pixel rim
/// around a 16×16 object is a quarter of it).
const BLEND_SIZE_RATIO: usize = 2;

/// The 8-connected neighbours of pixel `p` in a `w`×`h` image.
fn neighbours(p: usize, w: usize, h: usize) -> impl Iterator<Item = usize> {
    let (x, y) = (p % w, p / w);
    (y.saturating_sub(1)..=(y + 1).min(h - 1))
        .flat_map(move |ny| (x.saturating_sub(1)..=(x + 1).min(w - 1)).map(move |nx| ny * w + nx))
        .filter(move |&q| q != p)
}

/// Where `colour` lies on the segment `a`→`b`: (position t, 0 at `a` and 1 at `b`; distance from the line).
fn blend_position(colour: [f32; 3], a: [f32; 3], b: [f32; 3]) -> (f32, f32) {
    let d = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
    let v = [colour[0] - a[0], colour[1] - a[1], colour[2] - a[2]];
    let len_sq = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
    if len_sq == 0.0 {
        return (f32::NAN, f32::INFINITY);
    }
    let t = (v[0] * d[0] + v[1] * d[1] + v[2] * d[2]) / len_sq;
    let r = [v[0] - t * d[0], v[1] - t * d[1], v[2] - t * d[2]];
    (t, (r[0] * r[0] + r[1] * r[1] + r[2] * r[2]).sqrt())
}

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

    // 1. Histogram of foreground colours, with per-bin colour sums for a mean colour. Only the
    //    occupied bins get an entry (`slot` maps a bin to it), so a small image does not zero a
    //    histogram of every bin.
    let mut slot = vec![NO_SLOT; BINS];
    let mut histogram: Vec<BinStats> = Vec::new();
    let mut slot_of_pixel = vec![BACKGROUND; pixels];
    for (p, px) in rgb8.chunks_exact(3).enumerate() {
        let rgb = [px[0], px[1], px[2]];
        if distance_sq(rgb, background) <= background_sq {
            continue;
        }
        let bin = bin_of(rgb);
        if slot[bin] == NO_SLOT {
            slot[bin] = histogram.len() as u32;
            histogram.push(BinStats { bin, count: 0, sum: [0; 3] });
        }
        let stats = &mut histogram[slot[bin] as usize];
        stats.count += 1;
        for (sum, &value) in stats.sum.iter_mut().zip(rgb.iter()) {
            *sum += u64::from(value);
        }
        slot_of_pixel[p] = slot[bin];
    }

    // 2. Leader clustering of bins, most frequent first (ties by bin index, for determinism).
    let mut occupied: Vec<usize> = (0..histogram.len()).collect();
    occupied.sort_by_key(|&i| (std::cmp::Reverse(histogram[i].count), histogram[i].bin));
    let radius_sq = params.cluster_radius * params.cluster_radius;
    let mut centres: Vec<Rgb8> = Vec::new();
    let mut cluster_of_slot = vec![0u32; histogram.len()];
    for &i in &occupied {
        let n = u64::from(histogram[i].count);
        let mean = histogram[i].sum.map(|s| (s / n) as u8);
        let nearest = centres
            .iter()
            .enumerate()
            .map(|(i, &c)| (i, distance_sq(c, mean)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .filter(|&(_, d)| d <= radius_sq);
        cluster_of_slot[i] = match nearest {
            Some((i, _)) => i as u32,
            None => {
                centres.push(mean);
                (centres.len() - 1) as u32
            }
        };
    }
    let cluster: Vec<u32> = slot_of_pixel
        .iter()
        .map(|&s| if s == BACKGROUND { BACKGROUND } else { cluster_of_slot[s as usize] })
        .collect();

    // 3. 8-connected components within each cluster: `members[spans[i]]` are component i's pixels.
    let (w, h) = (width as usize, height as usize);
    let mut component_of = vec![NO_COMPONENT; pixels];
    let mut members: Vec<u32> = Vec::with_capacity(pixels);
    let mut spans: Vec<std::ops::Range<usize>> = Vec::new();
    for start in 0..pixels {
        if component_of[start] != NO_COMPONENT || cluster[start] == BACKGROUND {
            continue;
        }
        let label = cluster[start];
        let index = spans.len() as u32;
        let first = members.len();
        component_of[start] = index;
        members.push(start as u32);
        let mut next = first;
        while next < members.len() {
            let p = members[next] as usize;
            next += 1;
            for q in neighbours(p, w, h) {
                if component_of[q] == NO_COMPONENT && cluster[q] == label {
                    component_of[q] = index;
                    members.push(q as u32);
                }
            }
        }
        spans.push(first..members.len());
    }
    let component = |i: usize| members[spans[i].clone()].iter().map(|&p| p as usize);

    // 4. Soft edges: a painting resized or compressed leaves a rim of blended colours around each
    //    object, which cluster apart from it. A smaller component whose mean colour lies on the line
    //    between a larger neighbour's colour and the background (or another larger neighbour)
    //    joins the nearer end instead of becoming an instance of its own.
    let colours: Vec<[f32; 3]> = (0..spans.len())
        .map(|i| {
            let mut sum = [0f64; 3];
            for p in component(i) {
                for c in 0..3 {
                    sum[c] += f64::from(rgb8[3 * p + c]);
                }
            }
            sum.map(|s| (s / spans[i].len() as f64) as f32)
        })
        .collect();
    let background_f = background.map(f32::from);
    let mut owner: Vec<u32> = (0..spans.len() as u32).collect();
    for index in 0..spans.len() {
        let size = spans[index].len();
        let mut adjacent: Vec<u32> = component(index)
            .flat_map(|p| neighbours(p, w, h))
            .map(|q| component_of[q])
            .filter(|&c| c != NO_COMPONENT && spans[c as usize].len() >= BLEND_SIZE_RATIO * size)
            .collect();
        adjacent.sort_unstable();
        adjacent.dedup();
        if adjacent.is_empty() {
            continue;
        }
        // Ends: the background (None) and each larger neighbour.
        let ends: Vec<Option<u32>> = std::iter::once(None).chain(adjacent.iter().map(|&c| Some(c))).collect();
        let colour_of = |end: Option<u32>| end.map_or(background_f, |c| colours[c as usize]);
        let mut best: Option<(f32, Option<u32>)> = None;
        for (i, &a) in ends.iter().enumerate() {
            for &b in &ends[i + 1..] {
                let (t, residual) = blend_position(colours[index], colour_of(a), colour_of(b));
                if (0.0..=1.0).contains(&t) && residual <= params.cluster_radius && best.is_none_or(|(r, _)| residual < r) {
                    best = Some((residual, if t < 0.5 { a } else { b }));
                }
            }
        }
        if let Some((_, end)) = best {
            owner[index] = end.unwrap_or(NO_COMPONENT);
        }
    }
    // A component may itself be a larger one's rim: follow the chain (sizes at least double a link).
    for index in 0..owner.len() {
        let mut end = owner[index];
        while end != NO_COMPONENT && owner[end as usize] != end {
            end = owner[end as usize];
        }
        owner[index] = end;
    }

    // 5. Instances: components with the rims they absorbed, of at least `min_pixels`, in raster
    //    order of first appearance. The colour is the object's own, without its rims.
    let mut size = vec![0usize; spans.len()];
    for (index, span) in spans.iter().enumerate() {
        if owner[index] != NO_COMPONENT {
            size[owner[index] as usize] += span.len();
        }
    }
    let min_pixels = params.min_pixels_for(pixels);
    let mut id_of = vec![0u16; spans.len()];
    let mut instances: Vec<Instance> = Vec::new();
    for index in 0..spans.len() {
        if owner[index] != index as u32 || size[index] < min_pixels {
            continue;
        }
        if instances.len() >= usize::from(u16::MAX) {
            return Err(ProtocolError::Invalid("more than 65535 instances".into()));
        }
        id_of[index] = instances.len() as u16 + 1;
        let color = colours[index].map(|c| c as u8);
        instances.push(Instance { id: id_of[index], color, pixels: size[index], bbox: [u32::MAX, u32::MAX, 0, 0] });
    }
    let mut ids = vec![0u16; pixels];
    for (p, id) in ids.iter_mut().enumerate() {
        let c = component_of[p];
        if c == NO_COMPONENT || owner[c as usize] == NO_COMPONENT {
            continue;
        }
        *id = id_of[owner[c as usize] as usize];
        if *id > 0 {
            let bbox = &mut instances[usize::from(*id) - 1].bbox;
            let (x, y) = ((p % w) as u32, (p / w) as u32);
            *bbox = [bbox[0].min(x), bbox[1].min(y), bbox[2].max(x + 1), bbox[3].max(y + 1)];
        }
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
    fn blended_rims_join_their_object_not_new_instances() {
        // A cyan square on black with a one-pixel rim of half-way colours, as a resized painting has,
        // and a red square touching a blue one through a column of their blend.
        let bg = [0, 0, 0];
        let mut img = paint(40, 20, bg, &[(1, 1, 19, 19, [0, 128, 128]), (2, 2, 18, 18, [0, 255, 255])]);
        let right = paint(40, 20, bg, &[(22, 2, 30, 18, [255, 0, 0]), (30, 2, 31, 18, [150, 0, 105]), (31, 2, 39, 18, [0, 0, 255])]);
        for (p, px) in right.chunks_exact(3).enumerate() {
            if p % 40 >= 22 {
                img[3 * p..3 * p + 3].copy_from_slice(px);
            }
        }
        let map = decode(&img, 40, 20, bg, &InstanceParams { min_pixels: Some(1), ..Default::default() }).unwrap();
        let summary: Vec<(Rgb8, usize)> = map.instances.iter().map(|i| (i.color, i.pixels)).collect();
        // The rim (18×18 − 16×16 = 68 px) joins the cyan square; the blend column (16 px, nearer red) joins red.
        assert_eq!(summary, vec![([0, 255, 255], 324), ([255, 0, 0], 144), ([0, 0, 255], 128)]);
        assert_eq!(map.ids[40 + 1], 1, "the rim belongs to the square");
    }

    #[test]
    fn a_small_object_of_its_own_colour_is_not_a_rim() {
        // Yellow is not on the line between cyan and the black background: it stays an instance.
        let bg = [0, 0, 0];
        let img = paint(30, 20, bg, &[(0, 0, 20, 20, [0, 255, 255]), (20, 5, 24, 9, [255, 255, 0])]);
        let map = decode(&img, 30, 20, bg, &InstanceParams { min_pixels: Some(1), ..Default::default() }).unwrap();
        assert_eq!(map.instances.len(), 2);
        assert_eq!(map.instances[1].pixels, 16);
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
