//! Paste a photo from the clipboard (Ctrl/Cmd+V anywhere on the page).

use super::photo::open_file;
use super::{Shared, listen};
use wasm_bindgen::prelude::*;
use web_sys::{DataTransfer, Event};

/// Opens the first image file of a paste; text pastes (into the prompt) go on as usual.
pub(super) fn wire(page: &Shared, document: &web_sys::Document) {
    let on_paste = page.clone();
    listen::<Event>(document, "paste", move |event| {
        // `ClipboardEvent.clipboardData` is a DataTransfer; read it without the ClipboardEvent binding.
        let data = js_sys::Reflect::get(&event, &JsValue::from_str("clipboardData")).ok();
        let Some(data) = data.filter(|d| !d.is_null() && !d.is_undefined()) else { return };
        let files = data.unchecked_into::<DataTransfer>().files();
        let Some(files) = files else { return };
        let image = (0..files.length()).filter_map(|i| files.get(i)).find(|f| f.type_().starts_with("image/"));
        match image {
            Some(file) => {
                event.prevent_default();
                open_file(&on_paste, file);
            }
            None if files.length() > 0 => {
                event.prevent_default();
                on_paste.borrow().set_status("Paste an image (PNG, JPEG or WebP), not another kind of file.", true);
            }
            None => {}
        }
    });
}
