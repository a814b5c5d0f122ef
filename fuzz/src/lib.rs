//! What the decoder targets share: a visualization image from fuzz bytes.

use arbitrary::Arbitrary;

/// A tightly packed RGB image as a file would give it: usually a consistent size, sometimes a
/// claimed size that does not match the buffer (the decoders must refuse it, not index past it).
#[derive(Debug, Arbitrary)]
pub struct Visualization {
    width: u8,
    claimed: Option<(u32, u32)>,
    pub rgb: Vec<u8>,
}

impl Visualization {
    /// (width, height) to pass with `rgb`.
    pub fn size(&self) -> (u32, u32) {
        match self.claimed {
            Some(size) => size,
            None => {
                let width = u32::from(self.width % 64) + 1;
                (width, (self.rgb.len() / 3) as u32 / width)
            }
        }
    }

    /// The pixels the size covers (all of them when a claimed size does not fit).
    pub fn pixels(&self) -> &[u8] {
        let (w, h) = self.size();
        let n = (w as usize).saturating_mul(h as usize).saturating_mul(3);
        if self.claimed.is_none() { &self.rgb[..n.min(self.rgb.len())] } else { &self.rgb }
    }
}
