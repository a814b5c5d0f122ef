//! The segmentation tolerances hold on noisy and JPEG-compressed images.

use image::codecs::jpeg::JpegEncoder;
use peel_protocol::color::Rgb8;
use peel_protocol::segmentation::{DEFAULT_TOLERANCE, UNLABELED, instance, semantic};

const W: usize = 256;
const H: usize = 192;

/// Deterministic xorshift noise, so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next_f32(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 40) as f32 / (1u64 << 24) as f32
    }
    /// Standard normal by Box-Muller.
    fn gaussian(&mut self) -> f32 {
        let u = self.next_f32().max(1e-7);
        let v = self.next_f32();
        (-2.0 * u.ln()).sqrt() * (std::f32::consts::TAU * v).cos()
    }
}

/// Labels of a scene: label 0 everywhere except up to six separate discs labelled 1, 2, ….
fn scene(labels: usize) -> Vec<u16> {
    const CENTRES: [(f32, f32); 6] = [(50.0, 50.0), (130.0, 50.0), (210.0, 50.0), (50.0, 140.0), (130.0, 140.0), (210.0, 140.0)];
    (0..W * H)
        .map(|p| {
            let (x, y) = ((p % W) as f32, (p / W) as f32);
            let inside = |&(cx, cy): &(f32, f32)| (x - cx).powi(2) + (y - cy).powi(2) < 30.0f32.powi(2);
            CENTRES[..labels - 1].iter().position(inside).map_or(0, |i| i as u16 + 1)
        })
        .collect()
}

fn paint(labels: &[u16], palette: &[Rgb8]) -> Vec<u8> {
    labels.iter().flat_map(|&l| palette[usize::from(l)]).collect()
}

fn add_noise(rgb: &[u8], sigma: f32, seed: u64) -> Vec<u8> {
    let mut rng = Rng(seed);
    rgb.iter().map(|&v| (f32::from(v) + sigma * rng.gaussian()).round().clamp(0.0, 255.0) as u8).collect()
}

fn jpeg_round_trip(rgb: &[u8], quality: u8) -> Vec<u8> {
    let mut bytes = Vec::new();
    JpegEncoder::new_with_quality(&mut bytes, quality)
        .encode(rgb, W as u32, H as u32, image::ExtendedColorType::Rgb8)
        .unwrap();
    image::load_from_memory(&bytes).unwrap().to_rgb8().into_raw()
}

/// Pixels at least `margin` away from any label boundary.
fn interior(labels: &[u16], margin: usize) -> Vec<bool> {
    (0..W * H)
        .map(|p| {
            let (x, y) = (p % W, p / W);
            let ys = y.saturating_sub(margin)..=(y + margin).min(H - 1);
            ys.into_iter().all(|yy| {
                (x.saturating_sub(margin)..=(x + margin).min(W - 1)).all(|xx| labels[yy * W + xx] == labels[p])
            })
        })
        .collect()
}

fn accuracy(decoded: &[u16], truth: &[u16], region: Option<&[bool]>) -> f32 {
    let chosen: Vec<usize> = (0..truth.len()).filter(|&p| region.is_none_or(|r| r[p])).collect();
    chosen.iter().filter(|&&p| decoded[p] == truth[p]).count() as f32 / chosen.len() as f32
}

/// The paper example's colours plus common CSS ones; closest pair ≈ 128 apart.
const PALETTE: [Rgb8; 6] = [[0, 0, 0], [255, 0, 0], [0, 0, 255], [16, 170, 5], [255, 255, 0], [255, 255, 255]];

#[test]
fn semantic_tolerance_absorbs_gaussian_noise() {
    let truth = scene(PALETTE.len());
    let noisy = add_noise(&paint(&truth, &PALETTE), 8.0, 7);
    let decoded = semantic::decode(&noisy, W as u32, H as u32, &PALETTE, DEFAULT_TOLERANCE).unwrap();
    let acc = accuracy(&decoded.labels, &truth, None);
    println!("σ=8 noise: accuracy {acc:.5}");
    assert!(acc > 0.999, "{acc}");
    // A tolerance far below the noise level leaves pixels unlabeled: the tolerance is doing the work.
    let strict = semantic::decode(&noisy, W as u32, H as u32, &PALETTE, 8.0).unwrap();
    let unlabeled = strict.labels.iter().filter(|&&l| l == UNLABELED).count() as f32 / (W * H) as f32;
    assert!(unlabeled > 0.3, "{unlabeled}");
}

#[test]
fn semantic_tolerance_survives_jpeg() {
    let truth = scene(PALETTE.len());
    let core = interior(&truth, 4);
    for quality in [75, 90] {
        let jpeg = jpeg_round_trip(&paint(&truth, &PALETTE), quality);
        let decoded = semantic::decode(&jpeg, W as u32, H as u32, &PALETTE, DEFAULT_TOLERANCE).unwrap();
        let (all, inner) = (accuracy(&decoded.labels, &truth, None), accuracy(&decoded.labels, &truth, Some(&core)));
        println!("JPEG q{quality}: accuracy {all:.5} overall, {inner:.5} away from edges");
        assert!(inner > 0.999, "q{quality} interior {inner}");
        assert!(all > 0.97, "q{quality} overall {all}");
    }
}

#[test]
fn instances_survive_jpeg_and_noise() {
    // Five discs; discs 1 and 4 share a colour, so only connectivity can separate them.
    let colours: [Rgb8; 6] = [[88, 50, 82], [255, 0, 0], [0, 200, 255], [240, 240, 0], [255, 0, 0], [0, 255, 100]];
    let truth = scene(colours.len());
    let image = add_noise(&jpeg_round_trip(&paint(&truth, &colours), 80), 4.0, 11);
    let decoded = instance::decode(&image, W as u32, H as u32, colours[0], &instance::InstanceParams::default()).unwrap();
    assert_eq!(decoded.instances.len(), 5, "{:?}", decoded.instances);
    for disc in 1..colours.len() as u16 {
        let truth_mask: Vec<bool> = truth.iter().map(|&l| l == disc).collect();
        let best_iou = decoded
            .masks()
            .iter()
            .map(|m| {
                let inter = m.iter().zip(&truth_mask).filter(|(a, b)| **a && **b).count() as f32;
                let union = m.iter().zip(&truth_mask).filter(|(a, b)| **a || **b).count() as f32;
                inter / union
            })
            .fold(0.0, f32::max);
        println!("disc {disc}: best IoU {best_iou:.4}");
        assert!(best_iou > 0.9, "disc {disc}: {best_iou}");
    }
}
