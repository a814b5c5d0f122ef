//! The page: wires the DOM in `index.html` to the worker. No tensors here.

use crate::{BackendRequest, Decoded, EXAMPLE_PROMPTS, FromWorker, Segment, StageTimings, ToWorker, WordSuggestion};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    CanvasRenderingContext2d, Document, DragEvent, Event, HtmlCanvasElement, HtmlElement, HtmlImageElement,
    HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement, MessageEvent, Worker, WorkerOptions,
};

mod camera;
mod effects;
mod exports;
mod inspect;
mod legend;
mod offline;
mod paste;
mod view3d;
mod zoom;

/// Widest the overlay canvas is drawn; larger photos are scaled down for display only.
const MAX_CANVAS_WIDTH: u32 = 960;

/// Decoded values of the current painting, per pixel.
enum Values {
    Depth(Vec<f32>),
    /// x, y, z per pixel.
    Normals(Vec<f32>),
    /// 0 = none, i + 1 = `segments[i]`.
    Segments { labels: Vec<u16>, segments: Vec<Segment> },
}

/// What the generator returned for the current photo.
struct Painting {
    /// "depth", "normals", "semantic", "instance" or "referring".
    task: String,
    width: u32,
    height: u32,
    values: Values,
    /// The visualization, drawn scaled over the photo.
    canvas: HtmlCanvasElement,
    /// The visualization's RGB, kept to draw one legend entry alone.
    rgb: Vec<u8>,
    /// The legend entry shown alone (clicked in the legend), with its drawing.
    isolated: Option<(u16, HtmlCanvasElement)>,
}

struct Page {
    document: Document,
    worker: Worker,
    overlay: HtmlCanvasElement,
    context: CanvasRenderingContext2d,
    photo: Option<HtmlImageElement>,
    painting: Option<Painting>,
    backend: BackendRequest,
    ready: bool,
    busy: bool,
    /// The paint waiting for the worker (the latest asked for while it was busy or loading).
    pending: Option<Pending>,
    /// The photo on screen, kept to send it again to a new worker.
    photo_bytes: Option<Vec<u8>>,
    /// Which photo is on screen (counts the photos opened).
    photo_id: u32,
    /// The photo in the paint in flight, and the one the worker keeps decoded (from its last
    /// paint), which a repaint does not send again.
    sent_photo: Option<u32>,
    worker_photo: Option<u32>,
    /// Which worker is current: events from a replaced one are ignored.
    generation: u32,
    /// Workers replaced so far; after [`MAX_RESTARTS`] the page stops trying.
    restarts: u32,
    /// `?test_panic=1`: the next paint asks the worker to panic (once), for the recovery test.
    test_panic: bool,
    /// `?test_gpu_fail=1`: the first load's WebGPU probe fails (Auto mode), for the fallback test.
    test_gpu_failure: bool,
    /// Said once the replacement worker is ready.
    notice: Option<(String, bool)>,
    /// The keyboard cross-hair and the measuring points on the painting.
    marks: inspect::Marks,
    /// The 3D view's GL state, once a depth painting has been shown.
    view3d: Option<view3d::View>,
    /// How far the picture is zoomed, and a pan in progress.
    zoom: zoom::Zoom,
}

/// A paint waiting for the worker.
enum Pending {
    /// A photo the worker does not hold: its file bytes.
    Photo { id: u32, bytes: Vec<u8> },
    /// The photo of the worker's last paint, again (it keeps it decoded).
    Again,
}

/// A worker that keeps dying is not replaced forever.
const MAX_RESTARTS: u32 = 3;

type Shared = Rc<RefCell<Page>>;

fn element<T: JsCast>(document: &Document, id: &str) -> T {
    document
        .get_element_by_id(id)
        .unwrap_or_else(|| panic!("index.html lacks #{id}"))
        .dyn_into()
        .unwrap_or_else(|_| panic!("#{id} has the wrong element type"))
}

fn listen<E>(target: &web_sys::EventTarget, kind: &str, handler: impl FnMut(E) + 'static)
where
    E: JsCast + wasm_bindgen::convert::FromWasmAbi + 'static,
{
    let closure = Closure::<dyn FnMut(E)>::new(handler);
    target
        .add_event_listener_with_callback(kind, closure.as_ref().unchecked_ref())
        .expect("addEventListener");
    closure.forget();
}

impl Page {
    fn set_text(&self, id: &str, text: &str) {
        element::<HtmlElement>(&self.document, id).set_text_content(Some(text));
    }

    fn set_status(&self, text: &str, is_error: bool) {
        let status: HtmlElement = element(&self.document, "status");
        status.set_text_content(Some(text));
        status.set_class_name(if is_error { "status error" } else { "status" });
    }

    /// Terminates the worker and forgets what it was doing; its late events are ignored.
    fn stop_worker(&mut self) {
        self.worker.terminate();
        self.busy = false;
        self.ready = false;
        self.pending = None;
        self.worker_photo = None;
        self.generation += 1;
    }

    fn set_state(&self, state: &str) {
        let _ = self.document.body().map(|b| b.set_attribute("data-state", state));
        // Cancel while a paint runs; try again after the model failed to load.
        element::<HtmlElement>(&self.document, "cancel").set_hidden(state != "painting");
        element::<HtmlElement>(&self.document, "retry").set_hidden(state != "load-failed");
    }

    fn send(&self, message: &ToWorker) {
        match serde_wasm_bindgen::to_value(message) {
            Ok(value) => {
                // A photo's bytes (already copied out of wasm memory into their own buffer) are
                // handed over to the worker, not copied a second time.
                let file = js_sys::Reflect::get(&value, &"Paint".into())
                    .and_then(|paint| js_sys::Reflect::get(&paint, &"file".into()))
                    .and_then(|file| js_sys::Reflect::get(&file, &"buffer".into()))
                    .ok()
                    .filter(|buffer| buffer.is_instance_of::<js_sys::ArrayBuffer>());
                let sent = match file {
                    Some(buffer) => self.worker.post_message_with_transfer(&value, &js_sys::Array::of1(&buffer)),
                    None => self.worker.post_message(&value),
                };
                if let Err(e) = sent {
                    self.set_status(&format!("Could not reach the worker: {e:?}"), true);
                }
            }
            Err(e) => self.set_status(&format!("Could not send to the worker: {e}"), true),
        }
    }

    fn paint_next(&mut self) {
        if !self.ready || self.busy {
            return;
        }
        if let Some(next) = self.pending.take() {
            self.busy = true;
            self.set_state("painting");
            self.set_status("Painting…", false);
            self.offer_words(&[]);
            if std::mem::take(&mut self.test_panic) {
                return self.send(&ToWorker::TestPanic);
            }
            let prompt = element::<HtmlTextAreaElement>(&self.document, "prompt").value();
            let file = match next {
                Pending::Photo { id, bytes } => {
                    self.sent_photo = Some(id);
                    Some(bytes)
                }
                Pending::Again => {
                    self.sent_photo = self.worker_photo;
                    None
                }
            };
            self.send(&ToWorker::Paint { file, prompt });
        }
    }

    /// Paints the photo on screen again, with the prompt as it is now.
    fn repaint(&mut self) {
        match &self.photo_bytes {
            _ if self.worker_photo == Some(self.photo_id) => self.pending = Some(Pending::Again),
            Some(bytes) => self.pending = Some(Pending::Photo { id: self.photo_id, bytes: bytes.clone() }),
            None => return self.set_status("Choose a photo first.", true),
        }
        self.paint_next();
    }

    fn opacity(&self) -> f64 {
        element::<HtmlInputElement>(&self.document, "opacity").value_as_number() / 100.0
    }

    /// Photo, then the visualization on top at the slider's opacity.
    fn redraw(&self) {
        let Some(photo) = &self.photo else { return };
        let (w, h) = (self.overlay.width() as f64, self.overlay.height() as f64);
        self.context.set_global_alpha(1.0);
        let _ = self.context.draw_image_with_html_image_element_and_dw_and_dh(photo, 0.0, 0.0, w, h);
        if let Some(painting) = &self.painting {
            let canvas = painting.isolated.as_ref().map_or(&painting.canvas, |(_, c)| c);
            // Before/after: the painting covers the picture left of the compare handle.
            let split = (element::<HtmlInputElement>(&self.document, "compare").value_as_number() / 100.0).clamp(0.0, 1.0);
            if split > 0.0 {
                self.context.set_global_alpha(self.opacity());
                let (sw, sh) = (canvas.width() as f64 * split, canvas.height() as f64);
                let _ = self.context.draw_image_with_html_canvas_element_and_sw_and_sh_and_dx_and_dy_and_dw_and_dh(
                    canvas, 0.0, 0.0, sw, sh, 0.0, 0.0, w * split, h,
                );
                self.context.set_global_alpha(1.0);
            }
            if split < 1.0 {
                self.context.set_stroke_style_str("#fff");
                self.context.set_line_width(2.0);
                self.context.begin_path();
                self.context.move_to(w * split, 0.0);
                self.context.line_to(w * split, h);
                self.context.stroke();
            }
            self.draw_marks();
        }
    }

    fn show_photo(&mut self, photo: HtmlImageElement) {
        let (w, h) = (photo.natural_width().max(1), photo.natural_height().max(1));
        let scale = (MAX_CANVAS_WIDTH as f64 / w as f64).min(1.0);
        self.overlay.set_width(((w as f64 * scale).round() as u32).max(1));
        self.overlay.set_height(((h as f64 * scale).round() as u32).max(1));
        self.photo = Some(photo);
        self.redraw();
    }

    /// Handles a message; returns why the worker must be replaced, if it crashed.
    fn on_worker(&mut self, message: FromWorker) -> Option<String> {
        match message {
            FromWorker::Crashed { message } => return Some(message),
            FromWorker::Booted => {
                let test_gpu_failure = std::mem::take(&mut self.test_gpu_failure);
                self.send(&ToWorker::Load { backend: self.backend, test_gpu_failure })
            }
            FromWorker::Progress { text, fraction } => {
                self.set_status(&text, false);
                let bar: web_sys::HtmlProgressElement = element(&self.document, "load-progress");
                bar.set_hidden(fraction.is_none());
                bar.set_value(f64::from(fraction.unwrap_or(0.0)));
            }
            FromWorker::Ready { model_name, placeholder, backend, backend_reason } => {
                let model_line: HtmlElement = element(&self.document, "model-line");
                let badge = if placeholder {
                    " <span class=\"placeholder-badge\">placeholder</span> these weights are a stand-in, not a trained model"
                } else {
                    ""
                };
                model_line.set_inner_html(&format!("Model: {}{badge}", html_escape(&model_name)));
                // A replacement worker is asked for the CPU: say why, not "CPU requested".
                let backend_reason = if self.restarts > 0 { "the worker was restarted after it stopped".into() } else { backend_reason };
                self.set_text("backend-line", &format!("Running on {backend} ({backend_reason})"));
                let _ = self.document.body().map(|b| b.set_attribute("data-backend", &backend));
                self.ready = true;
                element::<HtmlElement>(&self.document, "load-progress").set_hidden(true);
                self.set_state("ready");
                match self.notice.take() {
                    Some((notice, is_error)) => self.set_status(&notice, is_error),
                    None => self.set_status("Ready. Drop a photo.", false),
                }
                self.paint_next();
            }
            FromWorker::Painted { width, height, task, prompt, visualization, decoded, millis, timings } => {
                self.busy = false;
                self.worker_photo = self.sent_photo;
                match self.visualization_canvas(width, height, &visualization) {
                    Ok(canvas) => {
                        let summary = self.show_summary(&task, &prompt, &decoded, millis, &timings, width, height);
                        let values = match decoded {
                            Decoded::Depth { depth_m_le, .. } => Values::Depth(crate::f32_from_le_bytes(&depth_m_le)),
                            Decoded::Normals { normals_le, .. } => Values::Normals(crate::f32_from_le_bytes(&normals_le)),
                            Decoded::Segments { labels_le, segments } => {
                                Values::Segments { labels: crate::u16_from_le_bytes(&labels_le), segments }
                            }
                        };
                        let is_depth = matches!(values, Values::Depth(_));
                        let is_normals = matches!(values, Values::Normals(_));
                        self.painting = Some(Painting { task, width, height, values, canvas, rgb: visualization, isolated: None });
                        self.marks = inspect::Marks::default();
                        element::<HtmlElement>(&self.document, "depth-scale").set_hidden(!is_depth);
                        if is_depth {
                            inspect::draw_depth_scale(&self.document, None);
                        }
                        element::<HtmlElement>(&self.document, "normal-sphere").set_hidden(!is_normals);
                        if is_normals {
                            inspect::draw_normal_sphere(&self.document, None);
                        }
                        self.show_distance();
                        self.redraw();
                        exports::show(self);
                        effects::show(self);
                        view3d::show(self);
                        self.set_text("result-json", &summary);
                        self.set_status(&format!("Painted in {millis:.0} ms."), false);
                        self.set_state("painted");
                    }
                    Err(e) => {
                        self.set_status(&format!("Could not draw the result: {e:?}"), true);
                        self.set_state("failed");
                    }
                }
                self.paint_next();
            }
            FromWorker::Failed { message, suggestions } => {
                self.busy = false;
                // Whether the worker kept the photo depends on what failed: send it next time.
                self.worker_photo = None;
                self.set_status(&message, true);
                self.offer_words(&suggestions);
                element::<HtmlElement>(&self.document, "load-progress").set_hidden(true);
                self.set_state(if self.ready { "failed" } else { "load-failed" });
                if !self.ready {
                    self.set_text("model-line", "The model could not be loaded.");
                }
                self.paint_next();
            }
        }
        None
    }

    /// Under a refused prompt: a button per known word near each unknown one; a click puts it
    /// in the prompt in place of the unknown word and paints again. Empty hides the row.
    fn offer_words(&self, suggestions: &[WordSuggestion]) {
        let row: HtmlElement = element(&self.document, "suggestions");
        row.set_inner_html("");
        let mut offered = false;
        for suggestion in suggestions {
            let Ok(label) = self.document.create_element("span") else { continue };
            label.set_text_content(Some(&match suggestion.nearest.is_empty() {
                true => format!("No known word is close to “{}”: try another word.", suggestion.word),
                false => format!("Instead of “{}”:", suggestion.word),
            }));
            let _ = row.append_child(&label);
            for word in &suggestion.nearest {
                let Ok(button) = self.document.create_element("button") else { continue };
                let _ = button.set_attribute("type", "button");
                let _ = button.set_attribute("data-unknown", &suggestion.word);
                let _ = button.set_attribute("data-word", word);
                button.set_text_content(Some(word));
                let _ = row.append_child(&button);
                offered = true;
            }
        }
        row.set_hidden(suggestions.is_empty());
        if offered {
            let _ = row.set_attribute("aria-label", "Known words near the unknown ones: choose one to paint with it");
        }
    }

    fn visualization_canvas(&self, width: u32, height: u32, rgb: &[u8]) -> Result<HtmlCanvasElement, JsValue> {
        let canvas: HtmlCanvasElement = self.document.create_element("canvas")?.dyn_into()?;
        draw_rgb(&canvas, rgb, width, height)?;
        Ok(canvas)
    }

    /// Fills the summary table and returns the same facts as JSON (shown in `#result-json`).
    #[allow(clippy::too_many_arguments)]
    fn show_summary(&self, task: &str, prompt: &str, decoded: &Decoded, millis: f64, timings: &StageTimings, width: u32, height: u32) -> String {
        let mut rows: Vec<(String, String)> = Vec::new();
        // Segment rows come first; each is a button that shows its entry alone.
        let mut legend_entries = 0;
        let details = match decoded {
            Decoded::Depth { summary: s, .. } => {
                rows.push(("Nearest".into(), format!("{:.2} m", s.min_m)));
                rows.push(("Median".into(), format!("{:.2} m", s.median_m)));
                rows.push(("Farthest (not sky)".into(), format!("{:.2} m", s.max_m)));
                rows.push(("Sky".into(), format!("{:.0} %", s.sky_fraction * 100.0)));
                rows.push(("Colour fit (median off-path)".into(), format!("{:.3}", s.median_off_path)));
                to_js(s)
            }
            Decoded::Normals { summary: s, .. } => {
                rows.push(("Facing the camera".into(), format!("{:.0} %", s.facing_camera * 100.0)));
                rows.push(("Facing up".into(), format!("{:.0} %", s.facing_up * 100.0)));
                rows.push(("Mean normal".into(), format!("({:+.2}, {:+.2}, {:+.2})", s.mean[0], s.mean[1], s.mean[2])));
                to_js(s)
            }
            Decoded::Segments { segments, .. } => {
                let total = (width as f64 * height as f64).max(1.0);
                if segments.is_empty() {
                    rows.push(("Found".into(), "nothing".into()));
                }
                for seg in segments {
                    let [r, g, b] = seg.color;
                    // No inline style attribute (the Content-Security-Policy forbids them): the colour
                    // is set through the CSSOM below.
                    let swatch = format!("<span class=\"swatch\" data-rgb=\"rgb({r},{g},{b})\"></span>");
                    rows.push((format!("{swatch}{}", html_escape(&seg.name)), format!("{:.1} %", seg.pixels as f64 / total * 100.0)));
                }
                legend_entries = segments.len();
                to_js(segments)
            }
        };
        rows.push(("Size".into(), format!("{width}×{height}")));
        rows.push(("Inference".into(), format!("{millis:.0} ms")));
        let html: String = rows
            .iter()
            .enumerate()
            .map(|(i, (k, v))| match i < legend_entries {
                true => format!(
                    "<dt class=\"legend-entry\" data-entry=\"{}\" tabindex=\"0\" role=\"button\" aria-pressed=\"false\" title=\"Show this entry alone (again: all)\">{k}</dt><dd>{v}</dd>",
                    i + 1
                ),
                false => format!("<dt>{k}</dt><dd>{v}</dd>"),
            })
            .collect();
        let summary: HtmlElement = element(&self.document, "summary");
        summary.set_inner_html(&html);
        colour_swatches(&summary);
        let value = details.unwrap_or(JsValue::NULL);
        let result = js_sys::Object::new();
        let timings = to_js(timings).unwrap_or(JsValue::NULL);
        for (key, v) in [("task", JsValue::from(task)), ("prompt", prompt.into()), ("width", width.into()), ("height", height.into()), ("values", value), ("timings", timings)] {
            let _ = js_sys::Reflect::set(&result, &key.into(), &v);
        }
        js_sys::JSON::stringify(&result).map(String::from).unwrap_or_default()
    }
}

/// Sizes `canvas` to `width`×`height` and draws `rgb` (tightly packed, opaque) on it.
fn draw_rgb(canvas: &HtmlCanvasElement, rgb: &[u8], width: u32, height: u32) -> Result<(), JsValue> {
    canvas.set_width(width);
    canvas.set_height(height);
    let context: CanvasRenderingContext2d = canvas.get_context("2d")?.ok_or("no 2d context")?.dyn_into()?;
    let rgba: Vec<u8> = rgb.chunks_exact(3).flat_map(|p| [p[0], p[1], p[2], 255]).collect();
    let data = web_sys::ImageData::new_with_u8_clamped_array_and_sh(wasm_bindgen::Clamped(&rgba), width, height)?;
    context.put_image_data(&data, 0.0, 0.0)
}

/// Gives each `.swatch` its `data-rgb` colour via `element.style` (CSSOM changes are allowed by a
/// `style-src 'self'` policy; `style="…"` attributes are not).
fn colour_swatches(root: &HtmlElement) {
    let Ok(swatches) = root.query_selector_all(".swatch") else { return };
    for i in 0..swatches.length() {
        let Some(swatch) = swatches.item(i).and_then(|n| n.dyn_into::<web_sys::Element>().ok()) else { continue };
        let colour = swatch.get_attribute("data-rgb").unwrap_or_default();
        if let Ok(style) = js_sys::Reflect::get(&swatch, &"style".into()) {
            let _ = js_sys::Reflect::set(&style, &"backgroundColor".into(), &colour.into());
        }
    }
}

fn to_js<T: serde::Serialize>(value: &T) -> Option<JsValue> {
    serde_wasm_bindgen::to_value(value).ok()
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Shows the photo from its file bytes, then queues it for the worker.
fn open_photo(page: &Shared, bytes: Vec<u8>) {
    let array = js_sys::Uint8Array::from(bytes.as_slice());
    let parts = js_sys::Array::of1(&array);
    let url = web_sys::Blob::new_with_u8_array_sequence(&parts).and_then(|blob| web_sys::Url::create_object_url_with_blob(&blob));
    let (Ok(url), Ok(image)) = (url, HtmlImageElement::new()) else {
        page.borrow().set_status("This browser cannot display the photo.", true);
        return;
    };
    let loaded = image.clone();
    let shown = page.clone();
    let object_url = url.clone();
    listen::<Event>(&image, "load", move |_| {
        let _ = web_sys::Url::revoke_object_url(&object_url);
        shown.borrow_mut().show_photo(loaded.clone())
    });
    let failed = page.clone();
    let object_url = url.clone();
    listen::<Event>(&image, "error", move |_| {
        let _ = web_sys::Url::revoke_object_url(&object_url);
        failed.borrow().set_status("The browser could not display this photo; Peel will still try to read it.", true)
    });
    image.set_src(&url);
    let mut page = page.borrow_mut();
    page.painting = None;
    page.marks = inspect::Marks::default();
    page.show_distance();
    for legend in ["depth-scale", "normal-sphere"] {
        let _ = page.document.get_element_by_id(legend).map(|e| e.set_attribute("hidden", ""));
    }
    exports::show(&page);
    effects::show(&page);
    view3d::show(&mut page);
    page.photo_bytes = Some(bytes.clone());
    page.photo_id += 1;
    let id = page.photo_id;
    page.pending = Some(Pending::Photo { id, bytes });
    if !page.ready {
        page.set_status("The photo will be painted once the model is loaded.", false);
    }
    page.paint_next();
}

async fn file_bytes(file: web_sys::File) -> Result<Vec<u8>, JsValue> {
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

fn open_file(page: &Shared, file: web_sys::File) {
    let page = page.clone();
    wasm_bindgen_futures::spawn_local(async move {
        match file_bytes(file).await {
            Ok(bytes) => open_photo(&page, bytes),
            Err(e) => page.borrow().set_status(&format!("Could not read the file: {e:?}"), true),
        }
    });
}

pub fn start() -> Result<(), JsValue> {
    console_error_panic_hook::set_once();
    let window = web_sys::window().ok_or("no window")?;
    let document = window.document().ok_or("no document")?;
    let worker = new_worker()?;
    let overlay: HtmlCanvasElement = element(&document, "overlay");
    let context: CanvasRenderingContext2d = overlay.get_context("2d")?.ok_or("no 2d context")?.dyn_into()?;
    let query = web_sys::UrlSearchParams::new_with_str(&window.location().search()?)?;
    let page: Shared = Rc::new(RefCell::new(Page {
        document: document.clone(),
        worker: worker.clone(),
        overlay: overlay.clone(),
        context,
        photo: None,
        painting: None,
        backend: BackendRequest::from_query(query.get("backend").as_deref()),
        ready: false,
        busy: false,
        pending: None,
        photo_bytes: None,
        photo_id: 0,
        sent_photo: None,
        worker_photo: None,
        generation: 0,
        restarts: 0,
        test_panic: query.get("test_panic").as_deref() == Some("1"),
        test_gpu_failure: query.get("test_gpu_fail").as_deref() == Some("1"),
        notice: None,
        marks: inspect::Marks::default(),
        view3d: None,
        zoom: zoom::Zoom::default(),
    }));

    watch_worker(&page, &worker, 0);

    let input: HtmlInputElement = element(&document, "file-input");
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

    let drop_zone: HtmlElement = element(&document, "drop-zone");
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
        match event.data_transfer().and_then(|t| t.files()).and_then(|files| files.get(0)) {
            Some(file) => open_file(&on_drop, file),
            None => on_drop.borrow().set_status("Drop an image file.", true),
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

    let task: HtmlSelectElement = element(&document, "task");
    let prompt: HtmlTextAreaElement = element(&document, "prompt");
    let example = |name: &str| EXAMPLE_PROMPTS.iter().find(|(t, _)| *t == name).map(|(_, p)| *p).unwrap_or_default();
    prompt.set_value(example(&task.value()));
    // Each task keeps the user's own prompt: switching tasks and back restores the edit.
    let edits: Rc<RefCell<std::collections::HashMap<String, String>>> = Rc::default();
    let (edit_task, edit_prompt, on_edit) = (task.clone(), prompt.clone(), edits.clone());
    listen::<Event>(&prompt, "input", move |_| {
        on_edit.borrow_mut().insert(edit_task.value(), edit_prompt.value());
    });
    let on_task = page.clone();
    let (task_clone, prompt_clone) = (task.clone(), prompt.clone());
    listen::<Event>(&task, "change", move |_| {
        let chosen = task_clone.value();
        let edited = edits.borrow().get(&chosen).cloned();
        prompt_clone.set_value(&edited.unwrap_or_else(|| example(&chosen).to_string()));
        let mut page = on_task.borrow_mut();
        if page.photo_bytes.is_some() {
            page.repaint();
        }
    });
    let on_paint = page.clone();
    listen::<Event>(&element::<HtmlElement>(&document, "paint"), "click", move |_| on_paint.borrow_mut().repaint());

    let on_opacity = page.clone();
    listen::<Event>(&element::<HtmlElement>(&document, "opacity"), "input", move |_| on_opacity.borrow().redraw());
    inspect::wire(&page, &overlay);
    zoom::wire(&page, &overlay);
    let on_compare = page.clone();
    listen::<Event>(&element::<HtmlElement>(&document, "compare"), "input", move |_| on_compare.borrow().redraw());
    legend::wire(&page, &element::<HtmlElement>(&document, "summary"));
    let on_cancel = page.clone();
    listen::<Event>(&element::<HtmlElement>(&document, "cancel"), "click", move |_| {
        let backend = on_cancel.borrow().backend;
        let notice = ("Painting cancelled. Paint again when you like.".to_string(), false);
        replace_worker(&on_cancel, backend, "Cancelling: stopping the worker and loading the model again…", notice);
    });
    let on_retry = page.clone();
    listen::<Event>(&element::<HtmlElement>(&document, "retry"), "click", move |_| {
        let backend = on_retry.borrow().backend;
        on_retry.borrow_mut().restarts = 0;
        replace_worker(&on_retry, backend, "Loading the model again…", ("Ready. Drop a photo.".to_string(), false));
    });
    exports::wire(&page);
    effects::wire(&page);
    view3d::wire(&page);
    camera::wire(&page, &document);
    wire_suggestions(&page, &prompt);
    paste::wire(&page, &document);
    offline::register(&window, &document);
    Ok(())
}

/// A suggested word replaces the unknown one in the prompt (kept as this task's edit) and paints.
fn wire_suggestions(page: &Shared, prompt: &HtmlTextAreaElement) {
    let (on_pick, prompt) = (page.clone(), prompt.clone());
    listen::<Event>(&element::<HtmlElement>(&page.borrow().document, "suggestions"), "click", move |event| {
        let Some(button) = event.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) else { return };
        let (Some(unknown), Some(word)) = (button.get_attribute("data-unknown"), button.get_attribute("data-word")) else { return };
        prompt.set_value(&peel_protocol::prompt::replace_word(&prompt.value(), &unknown, &word));
        // As if typed: the task keeps this edit.
        if let Ok(input) = Event::new("input") {
            let _ = prompt.dispatch_event(&input);
        }
        on_pick.borrow_mut().repaint();
    });
}

fn new_worker() -> Result<Worker, JsValue> {
    // static/worker-loader.js: reports the download of the worker's wasm in bytes, then starts it.
    // `?test_lose_device=1` is passed on: the loader then lets the recovery test destroy the GPU device.
    let query = web_sys::UrlSearchParams::new_with_str(&web_sys::window().ok_or("no window")?.location().search()?)?;
    let url = match query.get("test_lose_device").as_deref() {
        Some("1") => "./worker-loader.js?test_lose_device=1",
        _ => "./worker-loader.js",
    };
    Worker::new_with_options(url, &WorkerOptions::new())
}

/// Routes a worker's messages and errors to the page; `generation` tells a replaced worker's
/// late events apart.
fn watch_worker(page: &Shared, worker: &Worker, generation: u32) {
    let from_worker = page.clone();
    listen::<MessageEvent>(worker, "message", move |event| {
        if from_worker.borrow().generation != generation {
            return;
        }
        let crashed = match serde_wasm_bindgen::from_value(event.data()) {
            Ok(message) => from_worker.borrow_mut().on_worker(message),
            Err(e) => Some(format!("unreadable message from the worker: {e}")),
        };
        if let Some(why) = crashed {
            restart_worker(&from_worker, &why);
        }
    });
    for kind in ["error", "messageerror"] {
        let on_error = page.clone();
        listen::<Event>(worker, kind, move |event| {
            if on_error.borrow().generation != generation {
                return;
            }
            let why = event
                .dyn_ref::<web_sys::ErrorEvent>()
                .map(|e| e.message())
                .filter(|m| !m.is_empty())
                .unwrap_or_else(|| format!("{kind} event"));
            restart_worker(&on_error, &why);
        });
    }
}

/// Replaces a worker that died (a panic, a lost GPU device, out of memory) with a fresh one on
/// the CPU, says so, and lets the user paint again. The paint that was running is dropped: if
/// the photo caused the crash, repainting it would crash again.
fn restart_worker(page: &Shared, why: &str) {
    let restarts = page.borrow().restarts;
    if restarts >= MAX_RESTARTS {
        let mut p = page.borrow_mut();
        p.stop_worker();
        p.set_status(&format!("The worker stopped again ({why}); reload the page to try once more."), true);
        p.set_state("load-failed");
        return;
    }
    page.borrow_mut().restarts += 1;
    let notice = (format!("The worker stopped ({why}); it was restarted on the CPU. Paint again."), true);
    replace_worker(page, BackendRequest::Cpu, &format!("The worker stopped ({why}); restarting it on the CPU…"), notice);
}

/// Stops the current worker and starts a new one that loads the model on `backend` (the weights
/// come from this device's cache); `notice` (text, is_error) is said once it is ready.
fn replace_worker(page: &Shared, backend: BackendRequest, status: &str, notice: (String, bool)) {
    let mut p = page.borrow_mut();
    p.stop_worker();
    p.backend = backend;
    p.notice = Some(notice);
    p.set_status(status, false);
    p.set_state("restarting");
    match new_worker() {
        Ok(worker) => {
            let generation = p.generation;
            p.worker = worker.clone();
            drop(p);
            watch_worker(page, &worker, generation);
        }
        Err(e) => {
            p.set_status(&format!("A new worker could not be started: {e:?}"), true);
            p.set_state("load-failed");
        }
    }
}
