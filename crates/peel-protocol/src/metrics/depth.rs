//! Depth metrics over valid pixels.
//!
//! A pixel is valid when the mask (if any) allows it and the ground truth is finite and within
//! `[min_depth, max_depth]`. Predictions are clamped to the same range (NaN counts as `min_depth`),
//! so a predicted sky (∞) against finite ground truth costs `max_depth`. With `e = ln p − ln g`:
//!
//! | metric | definition |
//! |---|---|
//! | AbsRel | mean \|p − g\| / g |
//! | SqRel | mean (p − g)² / g |
//! | RMSE | √(mean (p − g)²) |
//! | RMSE log | √(mean e²) |
//! | SILog | 100 · √(mean e² − (mean e)²) (KITTI) |
//! | δk | fraction with max(p/g, g/p) < 1.25^k, k = 1, 2, 3 |

use super::check_mask;
use crate::error::{ProtocolError, check_same_len};

/// Which depths count.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DepthEvalConfig {
    pub min_depth: f32,
    pub max_depth: f32,
}

impl Default for DepthEvalConfig {
    fn default() -> Self {
        Self { min_depth: 1e-3, max_depth: f32::INFINITY }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DepthMetrics {
    pub abs_rel: f64,
    pub sq_rel: f64,
    pub rmse: f64,
    pub rmse_log: f64,
    pub silog: f64,
    pub delta1: f64,
    pub delta2: f64,
    pub delta3: f64,
    pub valid_pixels: usize,
}

/// Metrics of one image. Errors on length mismatch, a bad range, or no valid pixel.
pub fn evaluate(
    pred: &[f32],
    gt: &[f32],
    mask: Option<&[bool]>,
    config: &DepthEvalConfig,
) -> Result<DepthMetrics, ProtocolError> {
    check_same_len("prediction", gt.len(), pred.len())?;
    check_mask(mask, gt.len())?;
    let DepthEvalConfig { min_depth, max_depth } = *config;
    if !(min_depth > 0.0 && max_depth > min_depth) {
        return Err(ProtocolError::Invalid(format!(
            "depth range [{min_depth}, {max_depth}] must satisfy 0 < min < max"
        )));
    }
    let (mut abs_rel, mut sq_rel, mut sq, mut log_sq, mut log_sum) = (0.0f64, 0.0, 0.0, 0.0, 0.0);
    let mut within = [0usize; 3];
    let mut n = 0usize;
    for (i, (&p, &g)) in pred.iter().zip(gt).enumerate() {
        let allowed = mask.is_none_or(|m| m[i]);
        if !allowed || !g.is_finite() || g < min_depth || g > max_depth {
            continue;
        }
        let p = if p.is_nan() { min_depth } else { p.clamp(min_depth, max_depth) };
        let (p, g) = (f64::from(p), f64::from(g));
        let diff = p - g;
        abs_rel += diff.abs() / g;
        sq_rel += diff * diff / g;
        sq += diff * diff;
        let e = p.ln() - g.ln();
        log_sq += e * e;
        log_sum += e;
        let ratio = (p / g).max(g / p);
        for (k, count) in within.iter_mut().enumerate() {
            if ratio < 1.25f64.powi(k as i32 + 1) {
                *count += 1;
            }
        }
        n += 1;
    }
    if n == 0 {
        return Err(ProtocolError::Invalid("no valid ground-truth depth pixels".into()));
    }
    let nf = n as f64;
    let mean_e = log_sum / nf;
    Ok(DepthMetrics {
        abs_rel: abs_rel / nf,
        sq_rel: sq_rel / nf,
        rmse: (sq / nf).sqrt(),
        rmse_log: (log_sq / nf).sqrt(),
        silog: 100.0 * (log_sq / nf - mean_e * mean_e).max(0.0).sqrt(),
        delta1: within[0] as f64 / nf,
        delta2: within[1] as f64 / nf,
        delta3: within[2] as f64 / nf,
        valid_pixels: n,
    })
}

/// The per-image average (the usual way to report a dataset); `None` for no images.
/// `valid_pixels` is the total.
pub fn mean(per_image: &[DepthMetrics]) -> Option<DepthMetrics> {
    let n = per_image.len() as f64;
    let avg = |f: fn(&DepthMetrics) -> f64| per_image.iter().map(f).sum::<f64>() / n;
    (!per_image.is_empty()).then(|| DepthMetrics {
        abs_rel: avg(|m| m.abs_rel),
        sq_rel: avg(|m| m.sq_rel),
        rmse: avg(|m| m.rmse),
        rmse_log: avg(|m| m.rmse_log),
        silog: avg(|m| m.silog),
        delta1: avg(|m| m.delta1),
        delta2: avg(|m| m.delta2),
        delta3: avg(|m| m.delta3),
        valid_pixels: per_image.iter().map(|m| m.valid_pixels).sum(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const CONFIG: DepthEvalConfig = DepthEvalConfig { min_depth: 1e-3, max_depth: f32::INFINITY };

    #[test]
    fn hand_computed_example() {
        // Ratios 1, 1.2, 1.5 and 2; invalid ground truth (0, NaN, ∞) is skipped. 2.4 is inexact in f32.
        let gt = [1.0, 2.0, 2.0, 1.0, 0.0, f32::NAN, f32::INFINITY];
        let pred = [1.0, 2.4, 3.0, 0.5, 5.0, 5.0, 5.0];
        let m = evaluate(&pred, &gt, None, &CONFIG).unwrap();
        assert_eq!(m.valid_pixels, 4);
        let close = |a: f64, b: f64| (a - b).abs() < 1e-6;
        assert!(close(m.abs_rel, (0.0 + 0.2 + 0.5 + 0.5) / 4.0), "{}", m.abs_rel);
        assert!(close(m.sq_rel, (0.0 + 0.16 / 2.0 + 1.0 / 2.0 + 0.25) / 4.0));
        assert!(close(m.rmse, ((0.0 + 0.16 + 1.0 + 0.25) / 4.0f64).sqrt()));
        assert!(close(m.delta1, 0.5) && close(m.delta2, 0.75) && close(m.delta3, 0.75));
        let e = [0.0, 1.2f64.ln(), 1.5f64.ln(), 0.5f64.ln()];
        let mean_e = e.iter().sum::<f64>() / 4.0;
        let mean_e2 = e.iter().map(|v| v * v).sum::<f64>() / 4.0;
        assert!(close(m.rmse_log, mean_e2.sqrt()));
        assert!(close(m.silog, 100.0 * (mean_e2 - mean_e * mean_e).sqrt()));
    }

    #[test]
    fn mask_and_range_select_pixels() {
        let gt = [1.0, 10.0, 100.0];
        let pred = [1.0, 20.0, 100.0];
        let masked = evaluate(&pred, &gt, Some(&[true, false, true]), &CONFIG).unwrap();
        assert_eq!((masked.valid_pixels, masked.abs_rel), (2, 0.0));
        let capped = evaluate(&pred, &gt, None, &DepthEvalConfig { min_depth: 1e-3, max_depth: 50.0 }).unwrap();
        assert_eq!(capped.valid_pixels, 2);
        // A predicted sky against finite ground truth is clamped to max_depth.
        let sky = evaluate(&[f32::INFINITY], &[10.0], None, &DepthEvalConfig { min_depth: 1e-3, max_depth: 80.0 }).unwrap();
        assert!((sky.abs_rel - 7.0).abs() < 1e-9);
    }

    #[test]
    fn bad_inputs_are_errors() {
        assert!(matches!(evaluate(&[1.0], &[1.0, 2.0], None, &CONFIG), Err(ProtocolError::SizeMismatch { .. })));
        assert!(evaluate(&[1.0], &[1.0], Some(&[true, true]), &CONFIG).is_err());
        assert!(evaluate(&[1.0], &[0.0], None, &CONFIG).is_err());
        assert!(evaluate(&[1.0], &[1.0], None, &DepthEvalConfig { min_depth: 0.0, max_depth: 1.0 }).is_err());
    }

    #[test]
    fn mean_averages_images() {
        let a = evaluate(&[1.0], &[1.0], None, &CONFIG).unwrap();
        let b = evaluate(&[2.0], &[1.0], None, &CONFIG).unwrap();
        let m = mean(&[a, b]).unwrap();
        assert_eq!((m.abs_rel, m.delta1, m.valid_pixels), (0.5, 0.5, 2));
        assert!(mean(&[]).is_none());
    }

    proptest! {
        #[test]
        fn perfect_prediction_is_perfect(gt in prop::collection::vec(0.01f32..100.0, 1..50)) {
            let m = evaluate(&gt, &gt, None, &CONFIG).unwrap();
            prop_assert_eq!((m.abs_rel, m.rmse, m.silog, m.delta1), (0.0, 0.0, 0.0, 1.0));
        }

        #[test]
        fn silog_ignores_global_scale(gt in prop::collection::vec(0.1f32..100.0, 2..50), scale in 0.2f32..5.0) {
            let pred: Vec<f32> = gt.iter().map(|g| g * scale).collect();
            let m = evaluate(&pred, &gt, None, &CONFIG).unwrap();
            prop_assert!(m.silog < 1e-3, "{}", m.silog);
            prop_assert!((m.abs_rel - f64::from((scale - 1.0).abs())).abs() < 1e-4);
        }
    }
}
