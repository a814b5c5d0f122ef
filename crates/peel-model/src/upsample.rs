//! Photo-guided enlargement of paintings: joint bilateral upsampling (Kopf et al., SIGGRAPH 2007).
//!
//! The generator paints at a fraction of the photo's resolution, so a plain resize turns every
//! painted edge into a staircase of blocks. Here each photo pixel `p` looks at the painting's
//! samples `q` in a window of [`TAPS`]×[`TAPS`] around it, and weighs each sample by
//!
//! - spatial closeness: a Gaussian of the distance from `p` to `q`, in painting pixels;
//! - colour likeness: a Gaussian of the L1 distance between the photo's colour at `p` and the
//!   photo's mean colour over `q`'s footprint (what the painter saw there).
//!
//! A painted edge that lies within a painting pixel or so of a photo edge therefore follows the photo edge.
//! Segmentation paintings are combined by [`Combine::Vote`]: the colour with the largest total
//! weight wins, so the result holds only colours the painter produced and the colour decoders
//! still find every entry. Depth and normal paintings are combined by [`Combine::Average`]: the
//! weighted mean colour, which blends like bilinear inside a surface but not across a photo edge.

use image::{RgbImage, imageops};
use peel_protocol::prompt::Task;

/// How a painting's colours may be combined when it is enlarged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Combine {
    /// Keep only painted colours: segmentation (semantic, instance, referring).
    Vote,
    /// Blend colours: depth and normals, whose in-between colours decode to in-between values.
    Average,
}

impl Combine {
    /// Segmentation tasks vote; depth and normals average.
    pub fn for_task(task: Task) -> Self {
        match task {
            Task::Semantic | Task::Instance | Task::Referring => Combine::Vote,
            Task::Depth | Task::Normals => Combine::Average,
        }
    }
}

/// Painting samples per axis in a photo pixel's window: the two on each side of it.
const TAPS: usize = 4;
/// Spatial Gaussian σ, in painting pixels.
const SIGMA_SPATIAL: f32 = 1.0;
/// Colour Gaussian σ, on the L1 distance of 8-bit RGB (0..=765). Both σ were chosen on CamVid
/// val (boundary F-score, mIoU no lower than the resize's; docs/MODEL.md, "Sharp paintings").
const SIGMA_RANGE: f32 = 15.0;
/// Smallest colour weight, so that where the photo matches no sample the spatial weights decide.
const MIN_RANGE_WEIGHT: f32 = 1e-6;

/// The painting samples one photo column (or row) uses: indices clamped to the edge, and spatial weights.
struct Axis {
    index: Vec<[usize; TAPS]>,
    weight: Vec<[f32; TAPS]>,
}

impl Axis {
    fn new(painted: u32, photo: u32) -> Self {
        let scale = painted as f32 / photo as f32;
        let last = i64::from(painted) - 1;
        let (index, weight) = (0..photo)
            .map(|x| {
                // The photo pixel's centre in painting coordinates (sample centres at integers).
                let u = (x as f32 + 0.5) * scale - 0.5;
                let first = u.floor() as i64 - (TAPS as i64 / 2 - 1);
                let mut index = [0; TAPS];
                let mut weight = [0.0; TAPS];
                for t in 0..TAPS {
                    let i = first + t as i64;
                    let d = u - i as f32;
                    weight[t] = (-d * d / (2.0 * SIGMA_SPATIAL * SIGMA_SPATIAL)).exp();
                    index[t] = i.clamp(0, last) as usize;
                }
                (index, weight)
            })
            .unzip();
        Self { index, weight }
    }
}

/// Colour weight for each L1 distance 0..=765.
fn range_weights() -> Vec<f32> {
    (0..=765)
        .map(|d| (-(d as f32).powi(2) / (2.0 * SIGMA_RANGE * SIGMA_RANGE)).exp().max(MIN_RANGE_WEIGHT))
        .collect()
}

fn pixels(image: &RgbImage) -> &[[u8; 3]] {
    image.as_raw().as_chunks::<3>().0
}

/// `painting` enlarged (or reduced) to the size of `photo`, guided by the photo's edges.
/// An empty painting gives a black image, as `image::imageops::resize` does.
pub fn guided(painting: &RgbImage, photo: &RgbImage, combine: Combine) -> RgbImage {
    let (pw, ph) = painting.dimensions();
    let (width, height) = photo.dimensions();
    if pw == 0 || ph == 0 || width == 0 || height == 0 {
        return RgbImage::new(width, height);
    }
    // The photo averaged over each painted pixel's footprint: what the painter saw there.
    let footprint = imageops::thumbnail(photo, pw, ph);
    let window = Window {
        colours: pixels(painting),
        footprint: pixels(&footprint),
        guide: pixels(photo),
        painted_width: pw as usize,
        size: (width, height),
        xs: Axis::new(pw, width),
        ys: Axis::new(ph, height),
        range: range_weights(),
    };
    match combine {
        Combine::Average => window.average_by_rows(),
        Combine::Vote => window.vote_by_pixels(),
    }
}

/// What each photo pixel's window reads: the painting, the photo over each painted pixel's
/// footprint, the photo itself, and the weights.
struct Window<'a> {
    colours: &'a [[u8; 3]],
    footprint: &'a [[u8; 3]],
    guide: &'a [[u8; 3]],
    painted_width: usize,
    /// The photo's width and height.
    size: (u32, u32),
    xs: Axis,
    ys: Axis,
    range: Vec<f32>,
}

impl Window<'_> {
    /// [`Combine::Vote`] a photo pixel at a time: most windows of a segmentation hold one colour,
    /// which neighbouring pixels share, and the rest few.
    fn vote_by_pixels(&self) -> RgbImage {
        let Self { colours, footprint, guide, painted_width: pw, size: (width, height), ref xs, ref ys, ref range } = *self;
        let mut out = vec![[0u8; 3]; guide.len()];
        for (y, out_row) in out.chunks_exact_mut(width as usize).enumerate() {
            let rows = ys.index[y].map(|r| r * pw);
            let row_weights = &ys.weight[y];
            let guide_row = &guide[y * width as usize..][..width as usize];
            // Whether the last window held one colour, and which (neighbouring pixels share windows).
            let mut last_window: Option<([usize; TAPS], Option<[u8; 3]>)> = None;
            for (x, (out, &p)) in out_row.iter_mut().zip(guide_row).enumerate() {
                let columns = xs.index[x];
                let samples = || (0..TAPS * TAPS).map(|k| rows[k / TAPS] + columns[k % TAPS]);
                let single_colour = match last_window {
                    Some((window, colour)) if window == columns => colour,
                    _ => {
                        let first = colours[rows[0] + columns[0]];
                        let colour = samples().all(|q| colours[q] == first).then_some(first);
                        last_window = Some((columns, colour));
                        colour
                    }
                };
                if let Some(colour) = single_colour {
                    *out = colour;
                    continue;
                }
                let column_weights = &xs.weight[x];
                let weighted = samples().enumerate().map(|(k, q)| {
                    let f = footprint[q];
                    let distance = p[0].abs_diff(f[0]) as usize + p[1].abs_diff(f[1]) as usize + p[2].abs_diff(f[2]) as usize;
                    (colours[q], row_weights[k / TAPS] * column_weights[k % TAPS] * range[distance])
                });
                *out = vote(weighted);
            }
        }
        RgbImage::from_raw(width, height, out.into_flattened()).expect("one RGB pixel per photo pixel")
    }

    /// [`Combine::Average`] a photo row at a time: for each of the window's samples in turn, the
    /// distances, weights and sums of the whole row, in plain loops over contiguous arrays that the
    /// compiler vectorises (the painting's samples are gathered once per painting row, not once per
    /// photo pixel). The sums run in the same order as a pixel at a time, so the result is the same
    /// to the bit.
    fn average_by_rows(&self) -> RgbImage {
        let Self { colours, footprint, guide, painted_width, size: (width, height), ref xs, ref ys, ref range } = *self;
        let width = width as usize;
        let painted_height = colours.len() / painted_width;
        // Per painting row and window column: the footprint's and the painting's colours at each
        // photo column, channel by channel.
        let gather = |image: &[[u8; 3]], row: usize, tap: usize, channel: usize| -> Vec<u8> {
            xs.index.iter().map(|columns| image[row * painted_width + columns[tap]][channel]).collect()
        };
        let planes = |image: &[[u8; 3]]| -> Vec<[[Vec<u8>; 3]; TAPS]> {
            (0..painted_height).map(|row| std::array::from_fn(|tap| std::array::from_fn(|c| gather(image, row, tap, c)))).collect()
        };
        let (foot_planes, colour_planes) = (planes(footprint), planes(colours));
        let column_weights: [Vec<f32>; TAPS] = std::array::from_fn(|tap| xs.weight.iter().map(|w| w[tap]).collect());

        let mut out = vec![0u8; width * height as usize * 3];
        let (mut distance, mut weight) = (vec![0u16; width], vec![0f32; width]);
        let mut sums = [vec![0f32; width], vec![0f32; width], vec![0f32; width]];
        let mut total = vec![0f32; width];
        let mut guide_planes = [vec![0u8; width], vec![0u8; width], vec![0u8; width]];
        for (y, (guide_row, out_row)) in guide.chunks_exact(width).zip(out.chunks_exact_mut(width * 3)).enumerate() {
            for (c, plane) in guide_planes.iter_mut().enumerate() {
                plane.iter_mut().zip(guide_row).for_each(|(g, p)| *g = p[c]);
            }
            sums.iter_mut().chain([&mut total]).for_each(|s| s.fill(0.0));
            for (&row, &row_weight) in ys.index[y].iter().zip(&ys.weight[y]) {
                for tap in 0..TAPS {
                    // Every slice cut to the row's width, so that the loops carry no bounds checks.
                    let [fr, fg, fb] = foot_planes[row][tap].each_ref().map(|f| &f[..width]);
                    let [pr, pg, pb] = guide_planes.each_ref().map(|p| &p[..width]);
                    let distance = &mut distance[..width];
                    for x in 0..width {
                        distance[x] = u16::from(pr[x].abs_diff(fr[x])) + u16::from(pg[x].abs_diff(fg[x])) + u16::from(pb[x].abs_diff(fb[x]));
                    }
                    let (weight, column_weights) = (&mut weight[..width], &column_weights[tap][..width]);
                    for x in 0..width {
                        weight[x] = row_weight * column_weights[x] * range[usize::from(distance[x]).min(range.len() - 1)];
                    }
                    for (sum, plane) in sums.iter_mut().zip(&colour_planes[row][tap]) {
                        let (sum, plane) = (&mut sum[..width], &plane[..width]);
                        for x in 0..width {
                            sum[x] += weight[x] * f32::from(plane[x]);
                        }
                    }
                    let total = &mut total[..width];
                    for x in 0..width {
                        total[x] += weight[x];
                    }
                }
            }
            for (c, sum) in sums.iter().enumerate() {
                for ((out, &s), &t) in out_row.iter_mut().skip(c).step_by(3).zip(sum).zip(&total) {
                    *out = round_to_u8(s / t);
                }
            }
        }
        RgbImage::from_raw(width as u32, height, out).expect("one RGB pixel per photo pixel")
    }
}

/// `x.round()` (halves away from zero) as a byte, in operations that vectorise (`round` itself is
/// a library call on x86 and in wasm).
fn round_to_u8(x: f32) -> u8 {
    let whole = x.trunc();
    let rounded = if (x - whole).abs() >= 0.5 { whole + x.signum() } else { whole };
    rounded.clamp(0.0, 255.0) as u8
}

/// The colour with the largest total weight (ties: the colour met first).
fn vote(weighted: impl Iterator<Item = ([u8; 3], f32)>) -> [u8; 3] {
    let mut ballots = [([0u8; 3], 0f32); TAPS * TAPS];
    let mut n = 0;
    for (colour, w) in weighted {
        match ballots[..n].iter_mut().find(|(c, _)| *c == colour) {
            Some((_, total)) => *total += w,
            None => {
                ballots[n] = (colour, w);
                n += 1;
            }
        }
    }
    ballots[..n].iter().fold(ballots[0], |best, &b| if b.1 > best.1 { b } else { best }).0
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, imageops::FilterType};

    const RED: Rgb<u8> = Rgb([255, 0, 0]);
    const BLUE: Rgb<u8> = Rgb([0, 0, 255]);

    /// A 256×192 photo split by the slanted edge x = 90 + y/3: dark left, bright right, with
    /// a little deterministic texture so no two neighbours are exactly equal.
    fn two_region_photo() -> (RgbImage, impl Fn(u32, u32) -> bool) {
        let left = |x: u32, y: u32| (x as f32 + 0.5) < 90.0 + (y as f32 + 0.5) / 3.0;
        let photo = RgbImage::from_fn(256, 192, |x, y| {
            let texture = ((x * 7 + y * 13) % 11) as u8;
            if left(x, y) { Rgb([40 + texture, 50, 60]) } else { Rgb([200 - texture, 190, 170]) }
        });
        (photo, left)
    }

    /// The painting at 1/8 of the photo: each painted pixel takes the label at its centre, its
    /// boundary moved `shift` painting pixels to the right (a painter that is off by that much).
    fn blocky_painting(left: &impl Fn(u32, u32) -> bool, shift: u32) -> RgbImage {
        RgbImage::from_fn(32, 24, |x, y| if left((x.saturating_sub(shift)) * 8 + 4, y * 8 + 4) { RED } else { BLUE })
    }

    fn mislabelled(result: &RgbImage, left: &impl Fn(u32, u32) -> bool) -> usize {
        result.enumerate_pixels().filter(|&(x, y, p)| (*p == RED) != left(x, y)).count()
    }

    #[test]
    fn guided_vote_follows_the_photo_edge_where_nearest_makes_steps() {
        let (photo, left) = two_region_photo();
        // Per photo row, nearest is off by a few pixels (a quarter block on average, a block
        // more when the painter is off by one); the guided edge lands on or near the photo's.
        // Painted pixels that are wrong through and through (shift 1) keep some weight.
        for (shift, gain) in [(0, 10), (1, 5)] {
            let painting = blocky_painting(&left, shift);
            let nearest = imageops::resize(&painting, 256, 192, FilterType::Nearest);
            let guided = guided(&painting, &photo, Combine::Vote);
            let (n, g) = (mislabelled(&nearest, &left), mislabelled(&guided, &left));
            assert!(n >= 192, "shift {shift}: nearest mislabels {n}");
            assert!(g * gain <= n, "shift {shift}: guided mislabels {g}, nearest {n}");
        }
    }

    #[test]
    fn guided_average_does_not_blend_across_a_photo_edge() {
        let (photo, left) = two_region_photo();
        let painting = blocky_painting(&left, 0);
        let blended = |image: &RgbImage| {
            image.pixels().filter(|p| p.0.iter().zip(RED.0).map(|(&a, b)| a.abs_diff(b) as u32).sum::<u32>() > 30
                && p.0.iter().zip(BLUE.0).map(|(&a, b)| a.abs_diff(b) as u32).sum::<u32>() > 30).count()
        };
        let bilinear = blended(&imageops::resize(&painting, 256, 192, FilterType::Triangle));
        let guided = blended(&guided(&painting, &photo, Combine::Average));
        assert!(bilinear > 500, "bilinear blends {bilinear} pixels");
        assert!(guided * 20 < bilinear, "guided blends {guided} pixels, bilinear {bilinear}");
    }

    #[test]
    fn vote_keeps_only_painted_colours_on_any_photo() {
        let palette = [RED, BLUE, Rgb([1, 2, 3])];
        let painting = RgbImage::from_fn(17, 11, |x, y| palette[((x + 2 * y) % 3) as usize]);
        let photo = RgbImage::from_fn(123, 77, |x, y| Rgb([(x * 31 + y) as u8, (y * 57) as u8, (x ^ y) as u8]));
        let result = guided(&painting, &photo, Combine::Vote);
        assert_eq!(result.dimensions(), (123, 77));
        assert!(result.pixels().all(|p| palette.contains(p)));
        // Every colour of the painting survives (the vote is not stuck on one of them).
        assert!(palette.iter().all(|c| result.pixels().any(|p| p == c)));
    }

    /// [`Combine::Average`] as the module's documentation defines it, one photo pixel at a time.
    fn average_one_pixel_at_a_time(painting: &RgbImage, photo: &RgbImage) -> RgbImage {
        let footprint = imageops::thumbnail(photo, painting.width(), painting.height());
        let (xs, ys) = (Axis::new(painting.width(), photo.width()), Axis::new(painting.height(), photo.height()));
        let range = range_weights();
        RgbImage::from_fn(photo.width(), photo.height(), |x, y| {
            let p = photo.get_pixel(x, y).0;
            let (mut sum, mut total) = ([0f32; 3], 0f32);
            for (&row, &row_weight) in ys.index[y as usize].iter().zip(&ys.weight[y as usize]) {
                for (&column, &column_weight) in xs.index[x as usize].iter().zip(&xs.weight[x as usize]) {
                    let f = footprint.get_pixel(column as u32, row as u32).0;
                    let distance: usize = (0..3).map(|c| usize::from(p[c].abs_diff(f[c]))).sum();
                    let w = row_weight * column_weight * range[distance];
                    for (s, c) in sum.iter_mut().zip(painting.get_pixel(column as u32, row as u32).0) {
                        *s += w * f32::from(c);
                    }
                    total += w;
                }
            }
            Rgb(sum.map(|s| (s / total).round().clamp(0.0, 255.0) as u8))
        })
    }

    #[test]
    fn average_by_rows_is_the_definition_to_the_bit() {
        let (photo, _) = two_region_photo();
        // A smooth ramp with a step and some noise: windows of one colour, of a few, of many.
        let painting = RgbImage::from_fn(37, 23, |x, y| {
            let noise = ((x * 31 + y * 17) % 7) as u8;
            Rgb([(x * 6) as u8 + noise, if x > 20 { 200 } else { 30 }, (y * 9) as u8])
        });
        for (w, h) in [(256, 192), (451, 300), (37, 23), (20, 11), (1, 5)] {
            let photo = imageops::resize(&photo, w, h, FilterType::Triangle);
            assert_eq!(guided(&painting, &photo, Combine::Average), average_one_pixel_at_a_time(&painting, &photo), "{w}x{h}");
        }
    }

    #[test]
    fn rounding_to_a_byte_is_rounding() {
        let edges = [0.0, 0.499_999_97, 0.5, 0.500_000_06, 1.5, 2.5, 127.5, 254.5, 254.499_98, 255.0, 255.4, 300.0, -0.4, -3.0];
        let grid = (0..=2_600_000).map(|i| i as f32 * 1e-4);
        for x in edges.into_iter().chain(grid) {
            assert_eq!(round_to_u8(x), x.round().clamp(0.0, 255.0) as u8, "{x}");
        }
    }

    #[test]
    fn a_constant_painting_stays_constant() {
        let colour = Rgb([12, 200, 99]);
        let painting = RgbImage::from_pixel(9, 5, colour);
        let photo = RgbImage::from_fn(70, 41, |x, y| Rgb([(x * 9) as u8, (y * 5) as u8, 3]));
        for combine in [Combine::Vote, Combine::Average] {
            assert!(guided(&painting, &photo, combine).pixels().all(|&p| p == colour), "{combine:?}");
        }
    }

    #[test]
    fn average_stays_within_the_painted_range() {
        let painting = RgbImage::from_fn(8, 6, |x, y| Rgb([(x * 30) as u8, (y * 40) as u8, 100]));
        let photo = RgbImage::from_fn(50, 37, |x, y| Rgb([(x * 5) as u8, ((x + y) * 3) as u8, (y * 7) as u8]));
        let result = guided(&painting, &photo, Combine::Average);
        assert!(result.pixels().all(|p| p[0] <= 210 && p[1] <= 200 && p[2] == 100));
    }

    #[test]
    fn thin_tiny_and_empty_images_work() {
        let painting = RgbImage::from_fn(3, 2, |x, _| if x == 0 { RED } else { BLUE });
        for (w, h) in [(1, 1), (1, 40), (40, 1), (2, 3), (3, 2), (1000, 1), (1, 1000)] {
            let photo = RgbImage::from_fn(w, h, |x, y| Rgb([x as u8, y as u8, 0]));
            for combine in [Combine::Vote, Combine::Average] {
                assert_eq!(guided(&painting, &photo, combine).dimensions(), (w, h));
            }
        }
        let photo = RgbImage::from_pixel(4, 4, RED);
        for painting in [RgbImage::new(1, 1), RgbImage::new(1, 9), RgbImage::new(9, 1)] {
            assert_eq!(guided(&painting, &photo, Combine::Vote).dimensions(), (4, 4));
        }
        assert_eq!(guided(&RgbImage::new(0, 0), &photo, Combine::Average), RgbImage::new(4, 4));
        assert_eq!(guided(&painting, &RgbImage::new(0, 5), Combine::Vote).dimensions(), (0, 5));
    }
}
