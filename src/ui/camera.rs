//! The camera: a live preview (`getUserMedia`) and a shutter that paints the frame. The stream
//! stays in the page and is stopped when the photo is taken or the preview closed.

use super::photo::open_photo;
use super::{Shared, element, listen};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{CanvasRenderingContext2d, Document, Event, HtmlCanvasElement, HtmlElement, HtmlVideoElement, MediaStream};

type Stream = Rc<RefCell<Option<MediaStream>>>;

pub(super) fn wire(page: &Shared, document: &Document) {
    let stream: Stream = Rc::default();
    let (on_open, open_stream, doc) = (page.clone(), stream.clone(), document.clone());
    listen::<Event>(&element::<HtmlElement>(document, "camera"), "click", move |_| {
        let (page, stream, document) = (on_open.clone(), open_stream.clone(), doc.clone());
        wasm_bindgen_futures::spawn_local(async move {
            match open(&document, &stream).await {
                Ok(()) => page.borrow().set_status("Camera on: press “Take the photo” to paint what it sees.", false),
                Err(message) => page.borrow().set_status(&message, true),
            }
        });
    });
    let (on_shutter, shutter_stream, doc) = (page.clone(), stream.clone(), document.clone());
    listen::<Event>(&element::<HtmlElement>(document, "shutter"), "click", move |_| {
        let (page, stream, document) = (on_shutter.clone(), shutter_stream.clone(), doc.clone());
        wasm_bindgen_futures::spawn_local(async move {
            let frame = snapshot(&document).await;
            close(&document, &stream);
            match frame {
                Ok(bytes) => open_photo(&page, bytes),
                Err(e) => page.borrow().set_status(&format!("Could not take the photo: {e:?}"), true),
            }
        });
    });
    let (close_stream, doc) = (stream, document.clone());
    listen::<Event>(&element::<HtmlElement>(document, "camera-close"), "click", move |_| close(&doc, &close_stream));
}

/// Asks for the camera and shows its preview; the error says what to do when it is refused.
async fn open(document: &Document, stream: &Stream) -> Result<(), String> {
    let window = web_sys::window().ok_or("no window")?;
    // `navigator.mediaDevices` exists only on secure pages (https or localhost).
    let devices = js_sys::Reflect::get(&window.navigator(), &"mediaDevices".into()).ok().filter(|d| !d.is_undefined());
    if devices.is_none() {
        return Err("The camera needs the page over https (or on localhost); choose or drop a photo instead.".into());
    }
    let devices = window.navigator().media_devices().map_err(|e| format!("No camera access here: {e:?}"))?;
    let constraints = web_sys::MediaStreamConstraints::new();
    constraints.set_video(&JsValue::TRUE);
    constraints.set_audio(&JsValue::FALSE);
    let promise = devices.get_user_media_with_constraints(&constraints).map_err(|e| format!("No camera access here: {e:?}"))?;
    let media: MediaStream = JsFuture::from(promise).await.map_err(camera_error)?.dyn_into().map_err(|_| "the camera gave no stream")?;
    let video: HtmlVideoElement = element(document, "camera-preview");
    video.set_src_object(Some(&media));
    if let Some(old) = stream.borrow_mut().replace(media) {
        stop(&old);
    }
    element::<HtmlElement>(document, "camera-panel").set_hidden(false);
    let _ = video.play();
    Ok(())
}

/// The browser's refusal in words a person can act on.
fn camera_error(error: JsValue) -> String {
    let name = js_sys::Reflect::get(&error, &"name".into()).ok().and_then(|n| n.as_string()).unwrap_or_default();
    match name.as_str() {
        "NotAllowedError" | "SecurityError" => "The camera was not allowed: allow it in the browser's site settings, or choose a photo instead.".into(),
        "NotFoundError" | "OverconstrainedError" => "No camera was found on this device; choose or drop a photo instead.".into(),
        "NotReadableError" | "AbortError" => "The camera is in use by another program, or could not start.".into(),
        _ => format!("The camera could not start: {error:?}"),
    }
}

/// The preview's current frame as PNG bytes, at the camera's own resolution.
async fn snapshot(document: &Document) -> Result<Vec<u8>, JsValue> {
    let video: HtmlVideoElement = element(document, "camera-preview");
    let (w, h) = (video.video_width(), video.video_height());
    if w == 0 || h == 0 {
        return Err("the camera has not sent a frame yet; try again in a moment".into());
    }
    let canvas: HtmlCanvasElement = document.create_element("canvas")?.dyn_into()?;
    canvas.set_width(w);
    canvas.set_height(h);
    let context: CanvasRenderingContext2d = canvas.get_context("2d")?.ok_or("no 2d context")?.dyn_into()?;
    context.draw_image_with_html_video_element(&video, 0.0, 0.0)?;
    // toBlob is asynchronous (the PNG is encoded off the main thread); wrap it in a promise.
    let blob = JsFuture::from(js_sys::Promise::new(&mut |resolve, reject| {
        let done = Closure::once_into_js(move |blob: JsValue| {
            let _ = if blob.is_null() { reject.call1(&JsValue::NULL, &"no image".into()) } else { resolve.call1(&JsValue::NULL, &blob) };
        });
        let _ = canvas.to_blob_with_type(done.unchecked_ref(), "image/png");
    }))
    .await?;
    let buffer = JsFuture::from(blob.dyn_into::<web_sys::Blob>()?.array_buffer()).await?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

fn stop(stream: &MediaStream) {
    for track in stream.get_tracks().iter() {
        if let Ok(track) = track.dyn_into::<web_sys::MediaStreamTrack>() {
            track.stop();
        }
    }
}

/// Stops the camera and hides the preview.
fn close(document: &Document, stream: &Stream) {
    if let Some(media) = stream.borrow_mut().take() {
        stop(&media);
    }
    element::<HtmlVideoElement>(document, "camera-preview").set_src_object(None);
    element::<HtmlElement>(document, "camera-panel").set_hidden(true);
}
