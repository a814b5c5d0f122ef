//! The prompt parser: any text either parses or is refused with a position, and what parses has
//! a canonical form that parses back to the same request. Also the page's word replacement
//! (the suggestion buttons), on the same text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use peel_protocol::prompt::{parse, replace_word};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match parse(text) {
        Ok(request) => {
            // The documented property of the canonical form.
            assert_eq!(parse(&request.to_prompt()).as_ref(), Ok(&request), "canonical prompt of {text:?}");
        }
        Err(e) => assert!(e.position <= text.len(), "error position {} past the end of {text:?}", e.position),
    }
    // The first word replaced by a known one, as a suggestion button does.
    if let Some(word) = text.split_whitespace().next() {
        let _ = parse(&replace_word(text, word, "cat"));
    }
});
