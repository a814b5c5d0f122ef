//! Referring segmentation: cIoU and gIoU.
//!
//! cIoU = Σ intersections / Σ unions over all samples (large objects weigh more);
//! gIoU = mean of per-sample IoU. A sample whose prediction and ground truth are both empty has
//! IoU 1 (correctly found nothing), as in gRefCOCO.

use crate::error::{ProtocolError, check_same_len};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReferringMetrics {
    pub ciou: f64,
    pub giou: f64,
    pub samples: usize,
}

#[derive(Debug, Clone, Default)]
pub struct ReferringAccumulator {
    intersection: u64,
    union: u64,
    iou_sum: f64,
    samples: usize,
}

impl ReferringAccumulator {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one sample; returns its IoU.
    pub fn add(&mut self, pred: &[bool], gt: &[bool]) -> Result<f64, ProtocolError> {
        check_same_len("prediction", gt.len(), pred.len())?;
        let intersection = pred.iter().zip(gt).filter(|(p, g)| **p && **g).count() as u64;
        let union = pred.iter().zip(gt).filter(|(p, g)| **p || **g).count() as u64;
        let iou = if union == 0 { 1.0 } else { intersection as f64 / union as f64 };
        self.intersection += intersection;
        self.union += union;
        self.iou_sum += iou;
        self.samples += 1;
        Ok(iou)
    }

    pub fn metrics(&self) -> ReferringMetrics {
        ReferringMetrics {
            ciou: super::ratio(self.intersection as f64, self.union as f64),
            giou: super::ratio(self.iou_sum, self.samples as f64),
            samples: self.samples,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ciou_and_giou_differ_as_defined() {
        let mut acc = ReferringAccumulator::new();
        // Sample 1: I = 1, U = 2. Sample 2: I = 3, U = 3. Sample 3: both empty.
        assert_eq!(acc.add(&[true, true, false], &[true, false, false]).unwrap(), 0.5);
        assert_eq!(acc.add(&[true, true, true], &[true, true, true]).unwrap(), 1.0);
        assert_eq!(acc.add(&[false; 3], &[false; 3]).unwrap(), 1.0);
        let m = acc.metrics();
        assert_eq!(m.ciou, 4.0 / 5.0);
        assert_eq!(m.giou, 2.5 / 3.0);
        assert_eq!(m.samples, 3);
        assert!(acc.add(&[true], &[true, false]).is_err());
        assert!(ReferringAccumulator::new().metrics().giou.is_nan());
    }
}
