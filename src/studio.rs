//! The studio's pure logic (issue 34), kept out of `ui` so it is tested natively: which prompts
//! "Paint everything" sends, the file names in a folder's zip, and the history's records and their
//! values decoded again from the painting.

use crate::{Decoded, Segment, Task, example_prompt};
use peel_protocol::decode::{DecodeOptions, Summary, Values, decode_painting};
use peel_protocol::prompt;

/// What "Paint everything" paints, in order. The instance prompt is known only once the semantic
/// painting names the main class, so it is written by [`instance_prompt`] then.
pub const EVERYTHING: [Task; 4] = [Task::Depth, Task::Normals, Task::Semantic, Task::Instance];

/// The class whose instances are painted when the semantic painting found none of its classes.
pub const FALLBACK_CLASS: &str = "person";

/// The class covering the most pixels of a semantic painting (the first on a tie), if any
/// covers one. Instance prompts name a single class in the singular, as the semantic one does.
pub fn main_class(segments: &[Segment]) -> Option<&str> {
    let mut best: Option<&Segment> = None;
    for s in segments.iter().filter(|s| s.pixels > 0) {
        if best.is_none_or(|b| s.pixels > b.pixels) {
            best = Some(s);
        }
    }
    best.map(|s| s.name.as_str())
}

/// The instance prompt for `class`: the task's example prompt with its class replaced, so the
/// wording (and its background) stays the one every other instance paint uses.
pub fn instance_prompt(class: &str) -> String {
    let example = example_prompt(Task::Instance);
    let example_class = match prompt::parse(example) {
        Ok(prompt::Request::Instance { class, .. }) => class,
        _ => return format!("Generate an instance segmentation visualization of this image. Each {class} is colored differently."),
    };
    example.replacen(&format!("Each {example_class} "), &format!("Each {class} "), 1)
}

/// Zip entry folders for the photos of a folder, in order: the file's name without its
/// extension as a slug (`peel_protocol::export::slug`), made unique by `-2`, `-3`, … so two
/// photos of the same name (from two subfolders) never overwrite each other.
pub fn zip_folders(file_names: &[String]) -> Vec<String> {
    let mut used = std::collections::HashSet::new();
    file_names
        .iter()
        .map(|name| {
            let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
            let stem = base.rsplit_once('.').map_or(base, |(stem, _)| stem);
            let stem = peel_protocol::export::slug(stem);
            let mut folder = stem.clone();
            let mut n = 1;
            while !used.insert(folder.clone()) {
                n += 1;
                folder = format!("{stem}-{n}");
            }
            folder
        })
        .collect()
}

/// Whether a file chosen for a folder run looks like a photo the browser may decode (by its MIME
/// type, or its extension when the browser gives none, as for HEIC in some browsers).
pub fn looks_like_photo(name: &str, mime: &str) -> bool {
    if mime.starts_with("image/") {
        return true;
    }
    let extension = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    mime.is_empty() && matches!(extension.as_str(), "png" | "jpg" | "jpeg" | "webp" | "gif" | "bmp" | "avif" | "heic" | "heif")
}

/// How many paintings the history keeps on the device; the oldest go first.
pub const HISTORY_LIMIT: usize = 20;

/// The record keys to delete so that `keys` (oldest first) keep only the newest `limit`.
pub fn history_overflow(keys: &[f64], limit: usize) -> &[f64] {
    &keys[..keys.len().saturating_sub(limit)]
}

/// A painting decoded again from its visualization, as the worker decodes it
/// (`decode_painting` with the default options): the history keeps only the painting and its
/// prompt, and recomputes the values when an entry is opened.
pub fn decode_again(prompt_text: &str, rgb: &[u8], width: u32, height: u32) -> Result<Decoded, String> {
    let request = prompt::parse(prompt_text).map_err(|e| format!("The kept prompt no longer parses: {e}"))?;
    let decoded = decode_painting(&request, rgb, width, height, &DecodeOptions::default()).map_err(|e| e.to_string())?;
    Ok(match (decoded.values, decoded.summary) {
        (Values::Depth(meters), Summary::Depth(summary)) => Decoded::Depth { depth_m_le: crate::f32_to_le_bytes(&meters), summary },
        (Values::Normals(xyz), Summary::Normals(summary)) => Decoded::Normals { normals_le: crate::f32_to_le_bytes(&xyz), summary },
        (Values::Labels(labels), _) => Decoded::Segments { labels_le: crate::u16_to_le_bytes(&labels), segments: decoded.segments },
        _ => return Err("the decoder returned a summary of another task".into()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(name: &str, pixels: u32) -> Segment {
        Segment { name: name.into(), color: [0, 0, 0], pixels }
    }

    #[test]
    fn main_class_is_the_largest_and_none_without_pixels() {
        assert_eq!(main_class(&[segment("sky", 10), segment("cat", 30), segment("tree", 30)]), Some("cat"));
        assert_eq!(main_class(&[segment("sky", 0)]), None);
        assert_eq!(main_class(&[]), None);
    }

    #[test]
    fn instance_prompt_names_the_class_and_parses() {
        let text = instance_prompt("cat");
        match prompt::parse(&text) {
            Ok(prompt::Request::Instance { class, .. }) => assert_eq!(class, "cat"),
            other => panic!("{text:?} parsed as {other:?}"),
        }
        assert!(matches!(prompt::parse(&instance_prompt("piece of garlic")), Ok(prompt::Request::Instance { class, .. }) if class == "piece of garlic"));
    }

    #[test]
    fn every_task_of_everything_has_an_example_prompt() {
        for task in EVERYTHING {
            let request = prompt::parse(example_prompt(task)).expect(task.name());
            assert_eq!(request.task(), task);
        }
    }

    #[test]
    fn zip_folders_are_unique_slugs() {
        let names: Vec<String> = ["a/IMG 1.JPG", "b/IMG 1.JPG", "img-1.png", "no extension", ".hidden", "x.y.png"].map(String::from).into();
        assert_eq!(zip_folders(&names), ["img-1", "img-1-2", "img-1-3", "no-extension", "entry", "x-y"]);
    }

    #[test]
    fn photos_are_told_by_type_or_extension() {
        assert!(looks_like_photo("a.png", "image/png"));
        assert!(looks_like_photo("a.HEIC", ""));
        assert!(!looks_like_photo("notes.txt", "text/plain"));
        assert!(!looks_like_photo("notes.txt", ""));
    }

    #[test]
    fn history_keeps_the_newest() {
        let keys = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(history_overflow(&keys, 2), [1.0, 2.0]);
        assert_eq!(history_overflow(&keys, 4), [] as [f64; 0]);
        assert_eq!(history_overflow(&[], 20), [] as [f64; 0]);
    }

    #[test]
    fn decode_again_matches_the_decoder() {
        // A semantic painting: left half the cat's orange, right half black (none).
        let text = example_prompt(Task::Semantic);
        let (w, h) = (4u32, 2u32);
        let rgb: Vec<u8> = (0..w * h).flat_map(|i| if i % w < 2 { [255, 165, 0] } else { [0, 0, 0] }).collect();
        let Ok(Decoded::Segments { labels_le, segments }) = decode_again(text, &rgb, w, h) else { panic!("not segments") };
        let cat = segments.iter().position(|s| s.name == "cat").expect("cat") as u16 + 1;
        assert_eq!(crate::u16_from_le_bytes(&labels_le), [cat, cat, 0, 0, cat, cat, 0, 0]);
        assert!(decode_again("not a prompt", &rgb, w, h).is_err());
    }
}

/// A zip written in memory, each file stored as it is (the PNGs are compressed already), with
/// no timestamps (1980-01-01, the format's zero): the same files give the same zip.
pub struct Zip {
    writer: zip::ZipWriter<std::io::Cursor<Vec<u8>>>,
    /// Bytes of the files added so far.
    pub bytes_in: usize,
}

impl Default for Zip {
    fn default() -> Self {
        Self { writer: zip::ZipWriter::new(std::io::Cursor::new(Vec::new())), bytes_in: 0 }
    }
}

impl Zip {
    pub fn add(&mut self, path: &str, bytes: &[u8]) -> Result<(), String> {
        use std::io::Write;
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        self.writer.start_file(path, options).map_err(|e| format!("zip: {e}"))?;
        self.writer.write_all(bytes).map_err(|e| format!("zip: {e}"))?;
        self.bytes_in += bytes.len();
        Ok(())
    }

    pub fn finish(self) -> Result<Vec<u8>, String> {
        self.writer.finish().map(std::io::Cursor::into_inner).map_err(|e| format!("zip: {e}"))
    }
}

#[cfg(test)]
mod zip_tests {
    use super::Zip;
    use std::io::Read;

    #[test]
    fn a_zip_holds_the_very_bytes_and_is_reproducible() {
        let files: [(&str, Vec<u8>); 2] = [("a/peel-depth.npy", (0..=255).collect()), ("b/peel-depth-mm.png", vec![7; 1000])];
        let write = || {
            let mut zip = Zip::default();
            for (path, bytes) in &files {
                zip.add(path, bytes).unwrap();
            }
            zip.finish().unwrap()
        };
        let bytes = write();
        assert_eq!(bytes, write());
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        assert_eq!(archive.len(), 2);
        for (path, expected) in &files {
            let mut file = archive.by_name(path).unwrap();
            assert_eq!(file.compression(), zip::CompressionMethod::Stored);
            let mut back = Vec::new();
            file.read_to_end(&mut back).unwrap();
            assert_eq!(&back, expected);
        }
    }
}
