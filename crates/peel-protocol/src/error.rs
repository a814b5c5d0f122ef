//! Errors from decoding pixel buffers and evaluating metrics.

use thiserror::Error;

/// A bad input to a codec or metric. Every public function reports these instead of panicking.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ProtocolError {
    #[error("image is empty ({width}x{height})")]
    EmptyImage { width: u32, height: u32 },
    #[error("image size {width}x{height} is too large to address")]
    ImageTooLarge { width: u32, height: u32 },
    #[error("buffer holds {actual} values, but a {width}x{height} image with {channels} channel(s) needs {expected}")]
    BufferSize { width: u32, height: u32, channels: usize, expected: usize, actual: usize },
    #[error("size mismatch: {what} has {actual} pixels, expected {expected}")]
    SizeMismatch { what: &'static str, expected: usize, actual: usize },
    #[error("invalid parameter {name} = {value}: {reason}")]
    InvalidParameter { name: &'static str, value: String, reason: &'static str },
    #[error("{0}")]
    Invalid(String),
}

/// Pixel count of a `width`×`height` image, rejecting empty and unaddressable sizes.
pub(crate) fn pixel_count(width: u32, height: u32) -> Result<usize, ProtocolError> {
    if width == 0 || height == 0 {
        return Err(ProtocolError::EmptyImage { width, height });
    }
    (width as usize)
        .checked_mul(height as usize)
        .filter(|n| n.checked_mul(4).is_some())
        .ok_or(ProtocolError::ImageTooLarge { width, height })
}

/// Checks that an interleaved buffer has `channels` values per pixel; returns the pixel count.
pub(crate) fn check_buffer(len: usize, width: u32, height: u32, channels: usize) -> Result<usize, ProtocolError> {
    let pixels = pixel_count(width, height)?;
    let expected = pixels * channels;
    if len != expected {
        return Err(ProtocolError::BufferSize { width, height, channels, expected, actual: len });
    }
    Ok(pixels)
}

/// Checks that two per-pixel buffers describe the same number of pixels.
pub(crate) fn check_same_len(what: &'static str, expected: usize, actual: usize) -> Result<(), ProtocolError> {
    if expected != actual {
        return Err(ProtocolError::SizeMismatch { what, expected, actual });
    }
    Ok(())
}
