//! Semantic segmentation: mIoU from a confusion matrix, with an ignore label.
//!
//! Ground-truth pixels equal to the ignore label are skipped; other ground-truth labels must be
//! `< num_classes`. Predicted labels outside the classes (e.g. [`crate::segmentation::UNLABELED`])
//! count as wrong. IoU of class c = TP / (TP + FP + FN); mIoU averages the classes that occur in
//! the ground truth or the prediction (union > 0).

use crate::error::{ProtocolError, check_same_len};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfusionMatrix {
    num_classes: usize,
    /// Row = ground truth, column = prediction; the extra last column is "no class".
    counts: Vec<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SemanticMetrics {
    pub miou: f64,
    pub pixel_accuracy: f64,
    /// IoU per class; `None` where the class occurs in neither map.
    pub per_class_iou: Vec<Option<f64>>,
    pub valid_pixels: u64,
}

impl ConfusionMatrix {
    pub fn new(num_classes: usize) -> Result<Self, ProtocolError> {
        if num_classes == 0 || num_classes > usize::from(u16::MAX) {
            return Err(ProtocolError::Invalid(format!("num_classes must be 1..=65535, got {num_classes}")));
        }
        Ok(Self { num_classes, counts: vec![0; num_classes * (num_classes + 1)] })
    }

    /// Adds one image's labels.
    pub fn add(&mut self, pred: &[u16], gt: &[u16], ignore: Option<u16>) -> Result<(), ProtocolError> {
        check_same_len("prediction", gt.len(), pred.len())?;
        let n = self.num_classes;
        if let Some(&bad) = gt.iter().find(|&&g| Some(g) != ignore && usize::from(g) >= n) {
            return Err(ProtocolError::Invalid(format!(
                "ground-truth label {bad} is not a class (0..{n}) nor the ignore label"
            )));
        }
        for (&p, &g) in pred.iter().zip(gt) {
            if Some(g) == ignore {
                continue;
            }
            let column = usize::from(p).min(n);
            self.counts[usize::from(g) * (n + 1) + column] += 1;
        }
        Ok(())
    }

    pub fn metrics(&self) -> SemanticMetrics {
        let n = self.num_classes;
        let at = |g: usize, p: usize| self.counts[g * (n + 1) + p];
        let mut per_class_iou = Vec::with_capacity(n);
        let mut correct = 0u64;
        let mut total = 0u64;
        for c in 0..n {
            let tp = at(c, c);
            let gt_total: u64 = (0..=n).map(|p| at(c, p)).sum();
            let pred_total: u64 = (0..n).map(|g| at(g, c)).sum();
            let union = gt_total + pred_total - tp;
            per_class_iou.push((union > 0).then(|| tp as f64 / union as f64));
            correct += tp;
            total += gt_total;
        }
        let present: Vec<f64> = per_class_iou.iter().flatten().copied().collect();
        SemanticMetrics {
            miou: super::ratio(present.iter().sum(), present.len() as f64),
            pixel_accuracy: super::ratio(correct as f64, total as f64),
            per_class_iou,
            valid_pixels: total,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_iou() {
        let mut cm = ConfusionMatrix::new(3).unwrap();
        // gt:   0 0 1 1 2 255
        // pred: 0 1 1 1 9 0
        cm.add(&[0, 1, 1, 1, 9, 0], &[0, 0, 1, 1, 2, 255], Some(255)).unwrap();
        let m = cm.metrics();
        // class 0: tp 1, gt 2, pred 1 -> 1/2; class 1: tp 2, gt 2, pred 3 -> 2/3; class 2: 0/1.
        assert_eq!(m.per_class_iou, vec![Some(0.5), Some(2.0 / 3.0), Some(0.0)]);
        assert!((m.miou - (0.5 + 2.0 / 3.0) / 3.0).abs() < 1e-12);
        assert!((m.pixel_accuracy - 3.0 / 5.0).abs() < 1e-12);
        assert_eq!(m.valid_pixels, 5);
    }

    #[test]
    fn absent_classes_do_not_count() {
        let mut cm = ConfusionMatrix::new(4).unwrap();
        cm.add(&[0, 0], &[0, 0], None).unwrap();
        let m = cm.metrics();
        assert_eq!(m.per_class_iou, vec![Some(1.0), None, None, None]);
        assert_eq!(m.miou, 1.0);
    }

    #[test]
    fn bad_inputs_are_errors() {
        assert!(ConfusionMatrix::new(0).is_err());
        let mut cm = ConfusionMatrix::new(2).unwrap();
        assert!(cm.add(&[0], &[0, 1], None).is_err());
        assert!(cm.add(&[0], &[5], Some(255)).is_err());
        assert!(cm.metrics().miou.is_nan());
    }
}
