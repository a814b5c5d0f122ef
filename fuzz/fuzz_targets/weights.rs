//! The two safetensors files a manifest names: the weights (checked against the shipped
//! architecture's tensors and dequantized) and the phrase table. Their SHA-256 is checked before
//! either parser runs in the app; here the parsers get the bytes directly, as they would if a
//! tampered file came with a matching manifest.
#![no_main]

use std::collections::BTreeMap;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use peel_model::phrases::PhraseTable;
use peel_model::state::{Manifest, read_weights};
use safetensors::SafeTensors;

/// The architecture's tensors as the shipped weights file holds them (the scales aside): the
/// native tests check that this is exactly the set Burn's model has (`state::tensor_shapes`).
/// Read from the file, so this target builds without Burn.
static SHIPPED: LazyLock<(Manifest, BTreeMap<String, Vec<usize>>)> = LazyLock::new(|| {
    let manifest = Manifest::from_json(include_str!("../../weights/manifest.json")).expect("shipped manifest");
    let file = SafeTensors::deserialize(include_bytes!("../../weights/peel-gen.safetensors")).expect("shipped weights");
    let shapes = file.tensors().into_iter().filter(|(name, _)| !name.ends_with(".qscale"))
        .map(|(name, view)| (name, view.shape().to_vec())).collect();
    (manifest, shapes)
});

fuzz_target!(|data: &[u8]| {
    let (manifest, shapes) = &*SHIPPED;
    let _ = read_weights(data, shapes);
    if let Ok(table) = PhraseTable::from_bytes(data, &manifest.vocabulary, manifest.architecture.width) {
        let _ = table.embed("the cat");
        let _ = table.nearest_words("cat");
    }
    // The core table a first visit downloads: the same reader, with the manifest's word count.
    if let Some(core) = &manifest.core_phrases
        && let Ok(table) = PhraseTable::from_core_bytes(data, &manifest.vocabulary, core.word_count, manifest.architecture.width)
    {
        let _ = table.embed("the cat");
    }
});
