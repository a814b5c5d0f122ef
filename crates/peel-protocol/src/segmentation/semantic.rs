//! Semantic segmentation: nearest prompt colour within a tolerance.

use super::{LabelMap, UNLABELED, check_palette, check_tolerance, nearest_within};
use crate::color::Rgb8;
use crate::error::{ProtocolError, check_buffer};

/// Labels each pixel of a tightly packed RGB image with the index of the nearest `palette`
/// colour within `tolerance` (8-bit units), else [`UNLABELED`].
pub fn decode(rgb8: &[u8], width: u32, height: u32, palette: &[Rgb8], tolerance: f32) -> Result<LabelMap, ProtocolError> {
    check_palette(palette)?;
    check_tolerance("tolerance", tolerance)?;
    check_buffer(rgb8.len(), width, height, 3)?;
    let tolerance_sq = tolerance * tolerance;
    // Generated images repeat colours heavily; remembering the last one skips most searches.
    let mut last: Option<(Rgb8, u16)> = None;
    let labels = rgb8
        .chunks_exact(3)
        .map(|px| {
            let rgb = [px[0], px[1], px[2]];
            match last {
                Some((seen, label)) if seen == rgb => label,
                _ => {
                    let label = nearest_within(palette, rgb, tolerance_sq).map_or(UNLABELED, |i| i as u16);
                    last = Some((rgb, label));
                    label
                }
            }
        })
        .collect();
    Ok(LabelMap { width, height, labels })
}

/// Paints a label map with its palette; [`UNLABELED`] and out-of-range labels get `unlabeled`.
pub fn render(labels: &LabelMap, palette: &[Rgb8], unlabeled: Rgb8) -> Vec<u8> {
    labels
        .labels
        .iter()
        .flat_map(|&l| palette.get(usize::from(l)).copied().unwrap_or(unlabeled))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segmentation::DEFAULT_TOLERANCE;
    use proptest::prelude::*;

    const PALETTE: [Rgb8; 3] = [[255, 0, 0], [0, 0, 255], [16, 170, 5]];

    #[test]
    fn nearest_colour_within_tolerance() {
        let rgb = [250, 10, 5, 0, 0, 200, 128, 0, 128, 20, 160, 10];
        let map = decode(&rgb, 4, 1, &PALETTE, DEFAULT_TOLERANCE).unwrap();
        // (0,0,200) is 55 from blue: beyond 48. Purple is far from everything.
        assert_eq!(map.labels, vec![0, UNLABELED, UNLABELED, 2]);
        let loose = decode(&rgb, 4, 1, &PALETTE, 60.0).unwrap();
        assert_eq!(loose.labels, vec![0, 1, UNLABELED, 2]);
        assert_eq!(loose.counts(3), vec![1, 1, 1]);
    }

    #[test]
    fn bad_arguments_are_errors() {
        assert!(decode(&[0; 3], 1, 1, &[], 10.0).is_err());
        assert!(decode(&[0; 3], 1, 1, &PALETTE, -1.0).is_err());
        assert!(decode(&[0; 3], 1, 1, &PALETTE, f32::NAN).is_err());
        assert!(matches!(decode(&[0; 4], 1, 1, &PALETTE, 1.0), Err(ProtocolError::BufferSize { .. })));
    }

    proptest! {
        #[test]
        fn rendered_labels_decode_exactly(labels in prop::collection::vec(0u16..3, 1..64)) {
            let map = LabelMap { width: labels.len() as u32, height: 1, labels };
            let rgb = render(&map, &PALETTE, [0, 0, 0]);
            prop_assert_eq!(decode(&rgb, map.width, 1, &PALETTE, 0.0).unwrap(), map);
        }
    }
}
