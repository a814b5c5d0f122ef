//! Surface-normal metrics: angular error in degrees, pooled over valid pixels.
//!
//! A pixel is valid when the mask (if any) allows it and the ground-truth normal has a direction
//! (finite, length ≥ 1e-6). Both vectors are normalised. A predicted normal without a direction
//! counts as 90°, the expected error of a random guess.

use super::check_mask;
use crate::error::{ProtocolError, check_same_len};
use crate::normals::normalize;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NormalMetrics {
    pub mean: f64,
    pub median: f64,
    pub rmse: f64,
    /// Percent of pixels with error under 11.25°.
    pub within_11_25: f64,
    pub within_22_5: f64,
    pub within_30: f64,
    pub valid_pixels: usize,
}

/// Collects angular errors over images, for pooled statistics.
#[derive(Debug, Clone, Default)]
pub struct NormalAccumulator {
    angles: Vec<f32>,
}

impl NormalAccumulator {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, pred: &[[f32; 3]], gt: &[[f32; 3]], mask: Option<&[bool]>) -> Result<(), ProtocolError> {
        check_same_len("prediction", gt.len(), pred.len())?;
        check_mask(mask, gt.len())?;
        for (i, (p, g)) in pred.iter().zip(gt).enumerate() {
            if !mask.is_none_or(|m| m[i]) {
                continue;
            }
            let Some(g) = normalize(*g) else { continue };
            let angle = match normalize(*p) {
                Some(p) => (p[0] * g[0] + p[1] * g[1] + p[2] * g[2]).clamp(-1.0, 1.0).acos().to_degrees(),
                None => 90.0,
            };
            self.angles.push(angle);
        }
        Ok(())
    }

    /// The pooled metrics; an error if no pixel was valid.
    pub fn finish(mut self) -> Result<NormalMetrics, ProtocolError> {
        let n = self.angles.len();
        if n == 0 {
            return Err(ProtocolError::Invalid("no valid ground-truth normals".into()));
        }
        self.angles.sort_by(f32::total_cmp);
        let median = if n % 2 == 1 {
            f64::from(self.angles[n / 2])
        } else {
            (f64::from(self.angles[n / 2 - 1]) + f64::from(self.angles[n / 2])) / 2.0
        };
        let nf = n as f64;
        let percent_under = |limit: f32| 100.0 * self.angles.partition_point(|&a| a < limit) as f64 / nf;
        Ok(NormalMetrics {
            mean: self.angles.iter().map(|&a| f64::from(a)).sum::<f64>() / nf,
            median,
            rmse: (self.angles.iter().map(|&a| f64::from(a).powi(2)).sum::<f64>() / nf).sqrt(),
            within_11_25: percent_under(11.25),
            within_22_5: percent_under(22.5),
            within_30: percent_under(30.0),
            valid_pixels: n,
        })
    }
}

/// Metrics of one image.
pub fn evaluate(pred: &[[f32; 3]], gt: &[[f32; 3]], mask: Option<&[bool]>) -> Result<NormalMetrics, ProtocolError> {
    let mut acc = NormalAccumulator::new();
    acc.add(pred, gt, mask)?;
    acc.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_angles() {
        let s = std::f32::consts::FRAC_1_SQRT_2;
        let gt = [[0.0, 0.0, 1.0]; 4];
        // 0°, 45°, 90° (no direction), 180°.
        let pred = [[0.0, 0.0, 2.0], [0.0, s, s], [0.0, 0.0, 0.0], [0.0, 0.0, -1.0]];
        let m = evaluate(&pred, &gt, None).unwrap();
        assert_eq!(m.valid_pixels, 4);
        assert!((m.mean - (0.0 + 45.0 + 90.0 + 180.0) / 4.0).abs() < 1e-3, "{}", m.mean);
        assert!((m.median - 67.5).abs() < 1e-3);
        assert!((m.rmse - ((45.0f64.powi(2) + 90.0f64.powi(2) + 180.0f64.powi(2)) / 4.0).sqrt()).abs() < 1e-3);
        assert_eq!((m.within_11_25, m.within_22_5, m.within_30), (25.0, 25.0, 25.0));
    }

    #[test]
    fn invalid_ground_truth_and_mask_skip_pixels() {
        let gt = [[0.0, 1.0, 0.0], [0.0, 0.0, 0.0], [1.0, 0.0, 0.0]];
        let pred = [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]];
        let m = evaluate(&pred, &gt, Some(&[true, true, false])).unwrap();
        assert_eq!((m.valid_pixels, m.mean, m.within_11_25), (1, 0.0, 100.0));
        assert!(evaluate(&pred[..1], &gt[1..2], None).is_err());
        assert!(evaluate(&pred, &gt[..2], None).is_err());
    }
}
