//! The paper's evaluation metrics, with the standard definitions.
//!
//! - [`depth`]: AbsRel, SqRel, RMSE, RMSE(log), SILog and δ1/δ2/δ3 over valid pixels, per image
//!   (average images with [`depth::mean`]).
//! - [`normals`]: mean, median and RMS angular error in degrees and the % of pixels under
//!   11.25°, 22.5° and 30°, pooled over all valid pixels.
//! - [`semantic`]: per-class IoU and mIoU from a confusion matrix accumulated over images, with an
//!   ignore label.
//! - [`referring`]: cIoU (cumulative intersection over cumulative union) and gIoU (mean per-sample IoU).
//! - [`instance`]: F1 at IoU 0.5 over matched masks, pooled over images.
//!
//! Sums are accumulated in f64. A ratio that is undefined (nothing to measure) is `NaN`.

pub mod depth;
pub mod instance;
pub mod normals;
pub mod referring;
pub mod semantic;

use crate::error::{ProtocolError, check_same_len};

/// Checks an optional validity mask against the pixel count.
pub(crate) fn check_mask(mask: Option<&[bool]>, pixels: usize) -> Result<(), ProtocolError> {
    match mask {
        Some(m) => check_same_len("validity mask", pixels, m.len()),
        None => Ok(()),
    }
}

/// `a / b`, `NaN` when `b` is zero.
pub(crate) fn ratio(a: f64, b: f64) -> f64 {
    if b == 0.0 { f64::NAN } else { a / b }
}
