//! The shipped phrase table turning the classes and phrases a prompt names into the network's
//! conditioning, and the nearest known words offered for unknown ones (what the worker does with
//! a typed prompt that parses). Slower per input than the parser (a vocabulary search per
//! unknown word), so it has its own target.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use peel_model::conditioning::condition;
use peel_model::phrases::{EmbedError, PhraseTable, SUGGESTED_WORDS, SUGGESTIONS};
use peel_model::state::Manifest;
use peel_protocol::prompt::parse;

static SHIPPED: LazyLock<(Manifest, PhraseTable)> = LazyLock::new(|| {
    let manifest = Manifest::from_json(include_str!("../../weights/manifest.json")).expect("shipped manifest");
    let bytes = include_bytes!("../../weights/phrases.safetensors");
    let table = PhraseTable::from_bytes(bytes, &manifest.vocabulary, manifest.architecture.width).expect("shipped phrases");
    (manifest, table)
});

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (manifest, table) = &*SHIPPED;
    // A bare phrase (as a class name or a referred phrase), then the prompt it may be.
    match table.embed(text) {
        Ok(row) => assert_eq!(row.len(), table.dim()),
        Err(EmbedError::Unknown(unknown)) => assert!(unknown.suggestions.len() <= SUGGESTED_WORDS && unknown.suggestions.iter().all(|(_, near)| near.len() <= SUGGESTIONS)),
        // Only a core table leaves a phrase to the whole table.
        Err(e @ EmbedError::NotInCore { .. }) => panic!("the whole table answered {e}"),
    }
    if let Ok(request) = parse(text) {
        let _ = condition(&request, table, &manifest.instance_palette, manifest.architecture.max_instances);
    }
});
