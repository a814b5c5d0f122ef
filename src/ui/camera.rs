//! The camera: a live preview (`getUserMedia`), a shutter that paints the frame, and live
//! painting, which paints frame after frame for as long as it is on. The stream stays in the page
//! and is stopped when the photo is taken or the preview closed.
//!
//! Live painting asks for the next frame only when the last one is painted, so frames that arrive
//! while the painter is busy are dropped, never queued. Frames are taken at most
//! [`LIVE_SIDE`] px on their long side (the model paints at 256) into one canvas kept for the
//! whole run.

use super::photo::{open_frame, open_photo};
use super::{Page, Shared, element, listen};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{CanvasRenderingContext2d, Document, Event, HtmlCanvasElement, HtmlElement, HtmlVideoElement, MediaStream};

type Stream = Rc<RefCell<Option<MediaStream>>>;

/// Longest side of a live frame, in pixels.
const LIVE_SIDE: u32 = 320;

/// Live painting in progress.
pub(super) struct Live {
    /// The canvas each frame is drawn into (reused: one per run, not one per frame).
    canvas: HtmlCanvasElement,
    /// When recent frames were painted (ms, `performance.now`), for the frame rate.
    painted_at: std::collections::VecDeque<f64>,
    /// Frames painted since live painting started.
    pub frames: u32,
}

/// Ends live painting, if it is on (a chosen photo, the camera closed, a failed paint).
pub(super) fn stop_live(page: &mut Page) {
    if page.live.take().is_some() {
        set_live_button(&page.document, false);
    }
}

fn set_live_button(document: &Document, on: bool) {
    let button: HtmlElement = element(document, "live");
    let _ = button.set_attribute("aria-pressed", if on { "true" } else { "false" });
    button.set_text_content(Some(if on { "Stop painting live" } else { "Paint live" }));
}

/// After a paint: in live mode, counts the frame, shows the rate, and takes the next frame.
/// Called with the page not borrowed.
pub(super) fn after_paint(page: &Shared, painted: bool) {
    let document = {
        let mut p = page.borrow_mut();
        if p.live.is_none() || p.busy || p.pending.is_some() {
            return;
        }
        if !painted {
            // The painter refused (say, a word it does not know): say so rather than retry forever.
            stop_live(&mut p);
            return;
        }
        let now = super::paint_clock::now();
        let rate = p.live.as_mut().map(|live| {
            live.frames += 1;
            live.painted_at.push_back(now);
            while live.painted_at.len() > 10 {
                live.painted_at.pop_front();
            }
            let span = now - live.painted_at.front().copied().unwrap_or(now);
            (live.frames, if span > 0.0 { (live.painted_at.len() - 1) as f64 * 1000.0 / span } else { 0.0 })
        });
        if let Some((frames, fps)) = rate {
            p.el.live_rate.set_hidden(false);
            p.el.live_rate.set_text_content(Some(&format!("{fps:.1} frames/s ({frames} painted)")));
        }
        p.document.clone()
    };
    next_frame(page, &document);
}

/// Takes the preview's current frame and sends it to be painted.
fn next_frame(page: &Shared, document: &Document) {
    let Some(canvas) = page.borrow().live.as_ref().map(|live| live.canvas.clone()) else { return };
    let (page, document) = (page.clone(), document.clone());
    wasm_bindgen_futures::spawn_local(async move {
        match snapshot(&document, &canvas, LIVE_SIDE, "image/jpeg").await {
            // Still live (it may have been stopped while the frame was encoded)?
            Ok(bytes) if page.borrow().live.is_some() => open_frame(&page, bytes),
            Ok(_) => {}
            Err(e) => {
                stop_live(&mut page.borrow_mut());
                page.borrow().set_status(&format!("Live painting stopped: could not take a frame: {e:?}"), true);
            }
        }
    });
}

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
            let frame = match document.create_element("canvas").map(|c| c.dyn_into::<HtmlCanvasElement>()) {
                Ok(Ok(canvas)) => snapshot(&document, &canvas, u32::MAX, "image/png").await,
                _ => Err("no canvas".into()),
            };
            close(&document, &stream);
            match frame {
                Ok(bytes) => open_photo(&page, bytes),
                Err(e) => page.borrow().set_status(&format!("Could not take the photo: {e:?}"), true),
            }
        });
    });
    let on_live = page.clone();
    listen::<Event>(&element::<HtmlElement>(document, "live"), "click", move |_| {
        let document = on_live.borrow().document.clone();
        if on_live.borrow().live.is_some() {
            return stop_live(&mut on_live.borrow_mut());
        }
        let Ok(Ok(canvas)) = document.create_element("canvas").map(|c| c.dyn_into::<HtmlCanvasElement>()) else { return };
        on_live.borrow_mut().live = Some(Live { canvas, painted_at: Default::default(), frames: 0 });
        set_live_button(&document, true);
        on_live.borrow().set_status("Painting live: each frame is painted as soon as the last one is done.", false);
        next_frame(&on_live, &document);
    });
    let (on_close, close_stream, doc) = (page.clone(), stream, document.clone());
    listen::<Event>(&element::<HtmlElement>(document, "camera-close"), "click", move |_| {
        stop_live(&mut on_close.borrow_mut());
        close(&doc, &close_stream);
    });
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

/// The preview's current frame, drawn into `canvas` at most `max_side` px on its long side,
/// encoded as `mime` ("image/png" or "image/jpeg").
async fn snapshot(document: &Document, canvas: &HtmlCanvasElement, max_side: u32, mime: &str) -> Result<Vec<u8>, JsValue> {
    let video: HtmlVideoElement = element(document, "camera-preview");
    let (w, h) = (video.video_width(), video.video_height());
    if w == 0 || h == 0 {
        return Err("the camera has not sent a frame yet; try again in a moment".into());
    }
    let scale = (f64::from(max_side) / f64::from(w.max(h))).min(1.0);
    let (w, h) = (((f64::from(w) * scale).round() as u32).max(1), ((f64::from(h) * scale).round() as u32).max(1));
    if canvas.width() != w || canvas.height() != h {
        canvas.set_width(w);
        canvas.set_height(h);
    }
    let context: CanvasRenderingContext2d = canvas.get_context("2d")?.ok_or("no 2d context")?.dyn_into()?;
    context.draw_image_with_html_video_element_and_dw_and_dh(&video, 0.0, 0.0, f64::from(w), f64::from(h))?;
    // toBlob is asynchronous (the PNG is encoded off the main thread); wrap it in a promise.
    let blob = JsFuture::from(js_sys::Promise::new(&mut |resolve, reject| {
        let done = Closure::once_into_js(move |blob: JsValue| {
            let _ = if blob.is_null() { reject.call1(&JsValue::NULL, &"no image".into()) } else { resolve.call1(&JsValue::NULL, &blob) };
        });
        let _ = canvas.to_blob_with_type(done.unchecked_ref(), mime);
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
