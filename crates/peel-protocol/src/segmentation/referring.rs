//! Referring segmentation: one binary mask per colour the prompt names.

use super::{check_tolerance, nearest_within};
use crate::color::Rgb8;
use crate::error::{ProtocolError, check_buffer};

/// The referred targets' masks, stored as one label per pixel (masks are disjoint: the nearest
/// colour wins), so memory does not grow with the number of targets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferringMasks {
    pub width: u32,
    pub height: u32,
    /// Number of targets.
    pub targets: usize,
    /// Per pixel: 0 = no target, `i + 1` = target `i`.
    labels: Vec<u16>,
}

impl ReferringMasks {
    /// Pixels in any target's mask.
    pub fn union(&self) -> Vec<bool> {
        self.labels.iter().map(|&l| l != 0).collect()
    }

    /// One label per pixel: 0 = no target, `i + 1` = target `i`.
    pub fn labels(&self) -> Vec<u16> {
        self.labels.clone()
    }

    /// Target `i`'s mask (all false for an `i` out of range).
    pub fn mask(&self, i: usize) -> Vec<bool> {
        let label = u16::try_from(i + 1).unwrap_or(0);
        self.labels.iter().map(|&l| label != 0 && l == label).collect()
    }

    /// Pixels in each target's mask.
    pub fn counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.targets];
        for &l in &self.labels {
            if let Some(c) = usize::from(l).checked_sub(1).and_then(|i| counts.get_mut(i)) {
                *c += 1;
            }
        }
        counts
    }
}

/// Decodes one mask per `targets` colour: a pixel is in target `i`'s mask if `targets[i]` is the
/// nearest of the targets and `background`, within `tolerance` (8-bit units).
pub fn decode(
    rgb8: &[u8],
    width: u32,
    height: u32,
    targets: &[Rgb8],
    background: Rgb8,
    tolerance: f32,
) -> Result<ReferringMasks, ProtocolError> {
    if targets.is_empty() {
        return Err(ProtocolError::Invalid("no referred colours to decode".into()));
    }
    if targets.len() >= usize::from(u16::MAX) {
        return Err(ProtocolError::Invalid(format!("{} referred colours; at most 65534 fit a label", targets.len())));
    }
    check_tolerance("tolerance", tolerance)?;
    check_buffer(rgb8.len(), width, height, 3)?;
    // The background competes for pixels but gets no mask.
    let mut palette = targets.to_vec();
    palette.push(background);
    let tolerance_sq = tolerance * tolerance;
    let labels = rgb8
        .chunks_exact(3)
        .map(|px| match nearest_within(&palette, [px[0], px[1], px[2]], tolerance_sq) {
            // Targets are checked to fit a u16 label above; the background (index `targets.len()`) is 0.
            Some(i) if i < targets.len() => (i + 1) as u16,
            _ => 0,
        })
        .collect();
    Ok(ReferringMasks { width, height, targets: targets.len(), labels })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_per_colour() {
        let white = [255, 255, 255];
        let green = [0, 128, 0];
        // white, near-green, black, grey (far from all)
        let rgb = [250, 250, 250, 10, 120, 5, 0, 0, 0, 128, 128, 128];
        let decoded = decode(&rgb, 4, 1, &[white, green], [0, 0, 0], 48.0).unwrap();
        assert_eq!(decoded.mask(0), vec![true, false, false, false]);
        assert_eq!(decoded.mask(1), vec![false, true, false, false]);
        assert_eq!(decoded.mask(2), vec![false; 4], "no third target");
        assert_eq!(decoded.counts(), vec![1, 1]);
        assert_eq!(decoded.union(), vec![true, true, false, false]);
        assert_eq!(decoded.labels(), vec![1, 2, 0, 0]);
    }

    #[test]
    fn bad_arguments_are_errors() {
        assert!(decode(&[0; 3], 1, 1, &[], [0; 3], 10.0).is_err());
        assert!(decode(&[0; 3], 1, 1, &[[1; 3]], [0; 3], -1.0).is_err());
        assert!(decode(&[0; 6], 1, 1, &[[1; 3]], [0; 3], 1.0).is_err());
        // 65535 targets would wrap the u16 labels (`i as u16 + 1` = 0): refused instead.
        let many: Vec<[u8; 3]> = (0..65_535u32).map(|i| [(i % 256) as u8, (i / 256) as u8, 1]).collect();
        let err = decode(&[0; 3], 1, 1, &many, [0, 0, 0], 1.0).unwrap_err();
        assert!(err.to_string().contains("at most 65534"), "{err}");
    }

    #[test]
    fn the_last_label_does_not_wrap() {
        // 300 targets: labels above 255 (a u8 would wrap) keep their own values.
        let targets: Vec<[u8; 3]> = (0..300u32).map(|i| [(i % 256) as u8, (i / 256) as u8 * 100, 50]).collect();
        let last = targets[299];
        let decoded = decode(&last, 1, 1, &targets, [0, 0, 0], 0.0).unwrap();
        assert_eq!(decoded.labels(), vec![300]);
        assert_eq!(decoded.counts()[299], 1);
    }
}
