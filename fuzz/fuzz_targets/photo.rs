//! The photo path of the worker and `peel run` (`peel_model::photo`): format sniffing, the size
//! check, the decoders of PNG, JPEG, WebP, GIF and BMP, EXIF orientation, RGB conversion.
//! The limits are smaller than the app's (1 megapixel, 32 MiB) only so that each execution is
//! fast; the code path is the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use peel_model::photo::{PhotoLimits, decode_rgb};

const LIMITS: PhotoLimits = PhotoLimits { max_pixels: 1 << 20, max_side: 4096, max_alloc: 32 << 20 };

fuzz_target!(|data: &[u8]| {
    if let Ok(photo) = decode_rgb(data, &LIMITS) {
        assert!(u64::from(photo.width()) * u64::from(photo.height()) <= LIMITS.max_pixels);
    }
});
