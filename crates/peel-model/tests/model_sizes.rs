//! The app's model-input size against the Python evaluation's (`train/peel_train/sizes.py`, which
//! wrote the fixture): one preprocessing on both sides.

use peel_model::preprocess::model_size;

#[test]
fn model_sizes_match_the_python_fixture() {
    let fixture: serde_json::Value = serde_json::from_str(include_str!("fixtures/model_sizes.json")).unwrap();
    let long_side = fixture["long_side"].as_u64().unwrap() as u32;
    assert_eq!(fixture["size_multiple"].as_u64().unwrap(), peel_model::model::SIZE_MULTIPLE as u64);
    let cases = fixture["cases"].as_array().unwrap();
    assert!(cases.len() > 100, "the fixture has {} cases", cases.len());
    let wrong: Vec<String> = cases
        .iter()
        .filter_map(|case| {
            let [w, h, mw, mh] = [0, 1, 2, 3].map(|i| case[i].as_u64().unwrap() as u32);
            let ours = model_size(w, h, long_side);
            (ours != (mw, mh)).then(|| format!("{w}x{h}: Rust {ours:?}, Python ({mw}, {mh})"))
        })
        .collect();
    assert!(wrong.is_empty(), "{} of {} cases differ:\n{}", wrong.len(), cases.len(), wrong.join("\n"));
    // The tie the issue names: 512x416 -> 208 px before rounding to a multiple of 32 -> 224.
    assert!(cases.iter().any(|c| c.as_array().unwrap() == &[512, 416, 256, 224].map(serde_json::Value::from)));
}
