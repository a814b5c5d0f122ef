//! Referring segmentation: one binary mask per colour the prompt names.

use super::{check_tolerance, nearest_within};
use crate::color::Rgb8;
use crate::error::{ProtocolError, check_buffer};

/// One mask per referred target, row-major.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferringMasks {
    pub width: u32,
    pub height: u32,
    /// `masks[i][p]`: pixel `p` shows target `i`'s colour.
    pub masks: Vec<Vec<bool>>,
}

impl ReferringMasks {
    /// Pixels in any target's mask.
    pub fn union(&self) -> Vec<bool> {
        let pixels = (self.width as usize) * (self.height as usize);
        (0..pixels).map(|p| self.masks.iter().any(|m| m[p])).collect()
    }

    /// One label per pixel: 0 = no target, `i + 1` = target `i` (masks are disjoint: the nearest
    /// colour wins).
    pub fn labels(&self) -> Vec<u16> {
        let pixels = (self.width as usize) * (self.height as usize);
        (0..pixels).map(|p| self.masks.iter().position(|m| m[p]).map_or(0, |i| i as u16 + 1)).collect()
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
    check_tolerance("tolerance", tolerance)?;
    let pixels = check_buffer(rgb8.len(), width, height, 3)?;
    // The background competes for pixels but gets no mask.
    let mut palette = targets.to_vec();
    palette.push(background);
    let tolerance_sq = tolerance * tolerance;
    let mut masks = vec![vec![false; pixels]; targets.len()];
    for (p, px) in rgb8.chunks_exact(3).enumerate() {
        if let Some(i) = nearest_within(&palette, [px[0], px[1], px[2]], tolerance_sq)
            && let Some(mask) = masks.get_mut(i)
        {
            mask[p] = true;
        }
    }
    Ok(ReferringMasks { width, height, masks })
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
        assert_eq!(decoded.masks, vec![vec![true, false, false, false], vec![false, true, false, false]]);
        assert_eq!(decoded.union(), vec![true, true, false, false]);
        assert_eq!(decoded.labels(), vec![1, 2, 0, 0]);
    }

    #[test]
    fn bad_arguments_are_errors() {
        assert!(decode(&[0; 3], 1, 1, &[], [0; 3], 10.0).is_err());
        assert!(decode(&[0; 3], 1, 1, &[[1; 3]], [0; 3], -1.0).is_err());
        assert!(decode(&[0; 6], 1, 1, &[[1; 3]], [0; 3], 1.0).is_err());
    }
}
