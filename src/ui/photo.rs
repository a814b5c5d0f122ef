//! Opening a photo: the file input, a drop, a sample button (and, from their modules, a paste or
//! the camera) all end in [`open_photo`], which shows it and queues it for the worker.

use super::{Pending, Purpose, Shared, element, inspect, listen, views};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Document, DragEvent, Event, HtmlElement, HtmlInputElement};

/// Wires the file input, the drop zone and the sample buttons; call once at start-up.
pub(super) fn wire(page: &Shared, document: &Document) -> Result<(), JsValue> {
    let input: HtmlInputElement = element(document, "file-input");
    let on_input = page.clone();
    let input_clone = input.clone();
    listen::<Event>(&input, "change", move |_| {
        if let Some(file) = input_clone.files().and_then(|files| files.get(0)) {
            open_file(&on_input, file);
        }
        // Forget the choice, so that choosing the same file again (after a failed paint or a
        // worker restart) fires `change` again; browsers fire it only when the value changes.
        input_clone.set_value("");
    });

    let drop_zone: HtmlElement = element(document, "drop-zone");
    let zone = drop_zone.clone();
    listen::<DragEvent>(&drop_zone, "dragover", move |event| {
        event.prevent_default();
        let _ = zone.class_list().add_1("dragging");
    });
    let zone = drop_zone.clone();
    listen::<DragEvent>(&drop_zone, "dragleave", move |_| {
        let _ = zone.class_list().remove_1("dragging");
    });
    let on_drop = page.clone();
    let zone = drop_zone.clone();
    listen::<DragEvent>(&drop_zone, "drop", move |event| {
        event.prevent_default();
        let _ = zone.class_list().remove_1("dragging");
        match event.data_transfer().and_then(|t| t.files()) {
            // Several photos are a folder to paint (`folder` takes them).
            Some(files) if files.length() > 1 => {}
            Some(files) if files.length() == 1 => {
                if let Some(file) = files.get(0) {
                    open_file(&on_drop, file);
                }
            }
            _ => on_drop.borrow().set_status("Drop an image file.", true),
        }
    });

    let buttons = document.query_selector_all("button[data-sample]")?;
    for i in 0..buttons.length() {
        let Some(button) = buttons.item(i).and_then(|n| n.dyn_into::<HtmlElement>().ok()) else { continue };
        let url = button.get_attribute("data-sample").unwrap_or_default();
        let on_sample = page.clone();
        listen::<Event>(&button, "click", move |_| {
            let page = on_sample.clone();
            let url = url.clone();
            wasm_bindgen_futures::spawn_local(async move {
                match url_bytes(&url).await {
                    Ok(bytes) => open_photo(&page, bytes),
                    Err(e) => page.borrow().set_status(&format!("Could not load the sample {url}: {e:?}"), true),
                }
            });
        });
    }
    Ok(())
}

/// Shows the photo from its file bytes, then queues it for the worker. A photo the person
/// chose ends live painting (see `camera`).
pub(super) fn open_photo(page: &Shared, bytes: Vec<u8>) {
    super::camera::stop_live(&mut page.borrow_mut());
    show_and_queue(page, bytes, false);
}

/// A live camera frame: like a photo, but the last painting stays over the picture until the
/// frame's own arrives, so the overlay does not blink between frames.
pub(super) fn open_frame(page: &Shared, bytes: Vec<u8>) {
    show_and_queue(page, bytes, true);
}

fn show_and_queue(page: &Shared, bytes: Vec<u8>, keep_painting: bool) {
    let array = js_sys::Uint8Array::from(bytes.as_slice());
    let blob = web_sys::Blob::new_with_u8_array_sequence(&js_sys::Array::of1(&array));
    let options = web_sys::ImageBitmapOptions::new();
    // As an <img> shows it: turned by its EXIF orientation.
    options.set_image_orientation(web_sys::ImageOrientation::FromImage);
    let decoding = web_sys::window()
        .ok_or_else(|| JsValue::from("no window"))
        .and_then(|window| window.create_image_bitmap_with_blob_and_image_bitmap_options(&blob?, &options));
    let Ok(decoding) = decoding else {
        page.borrow().set_status("This browser cannot display the photo.", true);
        return;
    };
    // Shown once the browser has decoded it, unless another photo was opened meanwhile; held
    // weakly, so a photo still decoding does not keep the page alive.
    let shown = Rc::downgrade(page);
    let id = page.borrow().photo_id + 1;
    wasm_bindgen_futures::spawn_local(async move {
        let decoded = JsFuture::from(decoding).await.and_then(|bitmap| bitmap.dyn_into::<web_sys::ImageBitmap>());
        let Some(page) = shown.upgrade() else { return };
        let mut page = page.borrow_mut();
        match decoded {
            Ok(bitmap) if page.photo_id == id => {
                page.show_photo(bitmap);
                page.shown_photo = id;
            }
            Ok(stale) => stale.close(),
            // Said only while the worker still has the photo to read: once it has answered (the
            // worker can be quicker than the browser's own decoder), its message stands.
            Err(_) if page.photo_id == id && (page.busy || page.pending.is_some()) => {
                page.set_status("The browser could not display this photo; Peel will still try to read it.", true);
            }
            Err(_) => {}
        }
    });
    let mut page = page.borrow_mut();
    if !keep_painting {
        page.painting = None;
        page.marks = inspect::Marks::default();
        page.show_distance();
        page.el.depth_scale.set_hidden(true);
        page.el.normal_sphere.set_hidden(true);
        // Exports, effect and 3D view of the old painting are gone with it.
        views::painted(&mut page);
    }
    page.photo_bytes = Some(bytes.clone());
    page.photo_id += 1;
    let id = page.photo_id;
    page.queue(Pending::Photo { id, bytes }, Purpose::Screen);
    if !page.ready {
        page.set_status("The photo will be painted once the model is loaded.", false);
    }
    page.paint_next();
}

pub(super) async fn file_bytes(file: web_sys::File) -> Result<Vec<u8>, JsValue> {
    let buffer = JsFuture::from(file.array_buffer()).await?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

async fn url_bytes(url: &str) -> Result<Vec<u8>, JsValue> {
    let window = web_sys::window().ok_or("no window")?;
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str(url)).await?.dyn_into()?;
    if !response.ok() {
        return Err(format!("HTTP {}", response.status()).into());
    }
    let buffer = JsFuture::from(response.array_buffer()?).await?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

pub(super) fn open_file(page: &Shared, file: web_sys::File) {
    let page = page.clone();
    wasm_bindgen_futures::spawn_local(async move {
        match file_bytes(file).await {
            Ok(bytes) => open_photo(&page, bytes),
            Err(e) => page.borrow().set_status(&format!("Could not read the file: {e:?}"), true),
        }
    });
}
