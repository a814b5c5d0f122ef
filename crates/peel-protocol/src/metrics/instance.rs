//! Instance segmentation: F1 at IoU 0.5 over matched masks.
//!
//! Instances are given as id maps (0 = background). A predicted and a ground-truth instance match
//! when their IoU exceeds 0.5; above 0.5 a mask can match at most one other, so the matching is
//! unique without assignment. TP = matches, FP = unmatched predictions, FN = unmatched ground truth,
//! pooled over images: precision = TP/(TP+FP), recall = TP/(TP+FN), F1 = 2TP/(2TP+FP+FN).

use std::collections::HashMap;

use crate::error::{ProtocolError, check_same_len};

/// Masks must overlap by more than this IoU to match.
pub const IOU_THRESHOLD: f64 = 0.5;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InstanceMetrics {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub true_positives: u64,
    pub false_positives: u64,
    pub false_negatives: u64,
}

#[derive(Debug, Clone, Default)]
pub struct InstanceAccumulator {
    tp: u64,
    fp: u64,
    fn_: u64,
}

impl InstanceAccumulator {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one image's id maps (0 = background).
    pub fn add(&mut self, pred_ids: &[u16], gt_ids: &[u16]) -> Result<(), ProtocolError> {
        check_same_len("prediction", gt_ids.len(), pred_ids.len())?;
        let mut pred_area: HashMap<u16, u64> = HashMap::new();
        let mut gt_area: HashMap<u16, u64> = HashMap::new();
        let mut overlap: HashMap<(u16, u16), u64> = HashMap::new();
        for (&p, &g) in pred_ids.iter().zip(gt_ids) {
            if p != 0 {
                *pred_area.entry(p).or_default() += 1;
            }
            if g != 0 {
                *gt_area.entry(g).or_default() += 1;
            }
            if p != 0 && g != 0 {
                *overlap.entry((p, g)).or_default() += 1;
            }
        }
        let matches = overlap
            .iter()
            .filter(|&(&(p, g), &inter)| {
                let union = pred_area[&p] + gt_area[&g] - inter;
                inter as f64 / union as f64 > IOU_THRESHOLD
            })
            .count() as u64;
        self.tp += matches;
        self.fp += pred_area.len() as u64 - matches;
        self.fn_ += gt_area.len() as u64 - matches;
        Ok(())
    }

    pub fn metrics(&self) -> InstanceMetrics {
        let (tp, fp, fn_) = (self.tp as f64, self.fp as f64, self.fn_ as f64);
        InstanceMetrics {
            precision: super::ratio(tp, tp + fp),
            recall: super::ratio(tp, tp + fn_),
            f1: super::ratio(2.0 * tp, 2.0 * tp + fp + fn_),
            true_positives: self.tp,
            false_positives: self.fp,
            false_negatives: self.fn_,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_f1() {
        // gt: instance 1 (4 px), instance 2 (2 px). pred: 7 covers gt 1 with one extra pixel
        // (IoU 4/5), 8 covers half of gt 2 plus 2 background (IoU 1/4), 9 is spurious.
        let gt = [1, 1, 1, 1, 0, 2, 2, 0, 0, 0];
        let pred = [7, 7, 7, 7, 7, 8, 0, 8, 8, 9];
        let mut acc = InstanceAccumulator::new();
        acc.add(&pred, &gt).unwrap();
        let m = acc.metrics();
        assert_eq!((m.true_positives, m.false_positives, m.false_negatives), (1, 2, 1));
        assert_eq!(m.precision, 1.0 / 3.0);
        assert_eq!(m.recall, 0.5);
        assert_eq!(m.f1, 2.0 / 5.0);
    }

    #[test]
    fn exactly_half_iou_does_not_match() {
        let mut acc = InstanceAccumulator::new();
        acc.add(&[1, 1, 0, 0], &[1, 0, 0, 0]).unwrap();
        assert_eq!(acc.metrics().true_positives, 0);
        assert!(acc.add(&[1], &[1, 1]).is_err());
        assert!(InstanceAccumulator::new().metrics().f1.is_nan());
    }
}
