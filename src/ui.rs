//! The page: wires the DOM in `index.html` to the worker. No tensors here.

use crate::{BackendRequest, Decoded, FromWorker, Segment, Task, ToWorker, example_prompt};
use elements::Elements;
use gloo_events::{EventListener, EventListenerOptions};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use web_sys::{
    CanvasRenderingContext2d, Document, Event, HtmlCanvasElement, HtmlElement, HtmlSelectElement, ImageBitmap,
    HtmlTextAreaElement,
};
use worker_link::WorkerLink;

mod camera;
mod effects;
mod elements;
mod everything;
mod exports;
mod folder;
mod history;
mod inspect;
mod legend;
mod offline;
mod paint_clock;
mod paste;
mod photo;
mod prompt_builder;
mod suggestions;
mod summary;
mod view3d;
mod views;
mod worker_link;
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
    task: Task,
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
    el: Elements,
    /// The current worker; `None` once the page gave up restarting it.
    link: Option<WorkerLink>,
    /// The photo on screen, decoded by the browser. An ImageBitmap, closed when the next photo
    /// replaces it: an `<img>` per photo keeps about 1 MB each in the renderer (Blink caches
    /// every blob URL's image), which live painting from the camera turns into a leak.
    photo: Option<ImageBitmap>,
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
    /// The rows of words and colours that write the prompt text.
    builder: Rc<prompt_builder::Builder>,
    /// The paint in flight's stages so far.
    clock: Option<paint_clock::PaintClock>,
    /// The open view of the painting (tabs), and which are drawn.
    views: views::Views,
    /// Live painting from the camera, while it is on.
    live: Option<camera::Live>,
    /// Where the pointer last was over the picture, as fractions of its width and height.
    pointer: Option<(f64, f64)>,
    /// What the pending paint is for, and what the paint in flight is for.
    purpose: Purpose,
    in_flight: Purpose,
    /// The worker's last message as it came (a JS object), kept by "Paint everything" to open
    /// a painting of its grid again without keeping its arrays in wasm memory.
    reply: Option<JsValue>,
    /// Which photo (`photo_id`) `photo` shows, once the browser has decoded it.
    shown_photo: u32,
    /// "Paint everything" for the photo on screen, while its grid is current.
    everything: Option<everything::Run>,
    /// A folder of photos being painted, or painted (its zip ready).
    folder: Option<folder::Run>,
    /// The paintings kept on this device (IndexedDB).
    history: history::History,
}

/// Whom a paint is for: the picture on screen, a cell of "Paint everything", or a folder's photo.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Purpose {
    Screen,
    Everything(usize),
    Folder(usize),
}

/// A painting as the worker sent it (`FromWorker::Painted`), or as the history rebuilt it.
struct Reply {
    width: u32,
    height: u32,
    task: Task,
    prompt: String,
    visualization: Vec<u8>,
    decoded: Decoded,
    millis: f64,
    timings: crate::StageTimings,
}

impl Values {
    fn from_decoded(decoded: &Decoded) -> Self {
        match decoded {
            Decoded::Depth { depth_m_le, .. } => Values::Depth(crate::f32_from_le_bytes(depth_m_le)),
            Decoded::Normals { normals_le, .. } => Values::Normals(crate::f32_from_le_bytes(normals_le)),
            Decoded::Segments { labels_le, segments } => Values::Segments { labels: crate::u16_from_le_bytes(labels_le), segments: segments.clone() },
        }
    }
}

/// A paint waiting for the worker.
enum Pending {
    /// A photo the worker does not hold: its file bytes.
    Photo { id: u32, bytes: Vec<u8> },
    /// The photo of the worker's last paint, again (it keeps it decoded).
    Again,
    /// A photo that is not on screen (a folder's): the worker keeps it, but no repaint reuses it.
    Elsewhere { bytes: Vec<u8> },
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

thread_local! {
    /// Listeners on the page's own elements, added once at start-up: they live as long as the page.
    static PAGE_LISTENERS: RefCell<Vec<EventListener>> = const { RefCell::new(Vec::new()) };
}

/// A listener that may call `preventDefault` (gloo's default is passive), as `addEventListener`'s.
fn listener<E: JsCast>(target: &web_sys::EventTarget, kind: &'static str, mut handler: impl FnMut(E) + 'static) -> EventListener {
    EventListener::new_with_options(target, kind, EventListenerOptions::enable_prevent_default(), move |event| {
        if let Ok(event) = event.clone().dyn_into::<E>() {
            handler(event);
        }
    })
}

/// Adds a listener that lasts as long as the page (for start-up wiring of the page's elements).
fn listen<E: JsCast>(target: &web_sys::EventTarget, kind: &'static str, handler: impl FnMut(E) + 'static) {
    let listener = listener(target, kind, handler);
    PAGE_LISTENERS.with(|all| all.borrow_mut().push(listener));
}

impl Page {
    fn set_text(&self, id: &str, text: &str) {
        element::<HtmlElement>(&self.document, id).set_text_content(Some(text));
    }

    fn set_status(&self, text: &str, is_error: bool) {
        self.el.status.set_text_content(Some(text));
        self.el.status.set_class_name(if is_error { "status error" } else { "status" });
    }

    /// Drops the worker link (terminating the worker and removing its listeners, so none of its
    /// late events arrive) and forgets what it was doing.
    fn stop_worker(&mut self) {
        self.link = None;
        self.busy = false;
        self.ready = false;
        self.pending = None;
        self.worker_photo = None;
        // A stopped worker ends a run of paintings: what it was painting is lost.
        everything::stop(self, "cancelled");
        folder::stop(self, "Cancelled");
    }

    /// Queues a paint of the photo on screen, as `purpose` asks; call [`Page::paint_next`] after.
    fn queue(&mut self, pending: Pending, purpose: Purpose) {
        if purpose == Purpose::Screen {
            // The person asked for another painting: a run of them stops here.
            everything::stop(self, "stopped");
            folder::stop(self, "Stopped");
        }
        self.pending = Some(pending);
        self.purpose = purpose;
    }

    fn set_state(&self, state: &str) {
        let _ = self.document.body().map(|b| b.set_attribute("data-state", state));
        // Cancel while a paint runs; try again after the model failed to load.
        self.el.cancel.set_hidden(state != "painting");
        self.el.retry.set_hidden(state != "load-failed");
    }

    fn send(&self, message: &ToWorker) {
        let Some(worker) = self.link.as_ref().map(WorkerLink::worker) else {
            return self.set_status("No worker is running; reload the page.", true);
        };
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
                    Some(buffer) => worker.post_message_with_transfer(&value, &js_sys::Array::of1(&buffer)),
                    None => worker.post_message(&value),
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
            self.clock = Some(paint_clock::PaintClock::start());
            self.busy = true;
            self.set_state("painting");
            self.set_status("Painting…", false);
            self.offer_words(&[]);
            if std::mem::take(&mut self.test_panic) {
                return self.send(&ToWorker::TestPanic);
            }
            self.in_flight = self.purpose;
            let prompt = match self.purpose {
                Purpose::Screen => self.el.prompt.value(),
                Purpose::Everything(i) => everything::prompt(self, i),
                Purpose::Folder(_) => folder::prompt(self),
            };
            let file = match next {
                Pending::Photo { id, bytes } => {
                    self.sent_photo = Some(id);
                    Some(bytes)
                }
                Pending::Again => {
                    self.sent_photo = self.worker_photo;
                    None
                }
                Pending::Elsewhere { bytes } => {
                    self.sent_photo = None;
                    Some(bytes)
                }
            };
            self.send(&ToWorker::Paint { file, prompt });
            if let Some(clock) = &mut self.clock {
                clock.posted();
            }
        }
    }

    /// Paints the photo on screen again, with the prompt as it is now.
    fn repaint(&mut self) {
        self.repaint_for(Purpose::Screen);
    }

    /// Paints the photo on screen again for `purpose`, sending its bytes only if the worker does
    /// not hold it decoded; false when there is no photo.
    fn repaint_for(&mut self, purpose: Purpose) -> bool {
        let pending = match &self.photo_bytes {
            _ if self.worker_photo == Some(self.photo_id) => Pending::Again,
            Some(bytes) => Pending::Photo { id: self.photo_id, bytes: bytes.clone() },
            None => {
                self.set_status("Choose a photo first.", true);
                return false;
            }
        };
        self.queue(pending, purpose);
        self.paint_next();
        true
    }

    fn opacity(&self) -> f64 {
        self.el.opacity.value_as_number() / 100.0
    }

    /// Photo, then the visualization on top at the slider's opacity.
    fn redraw(&self) {
        let Some(photo) = &self.photo else { return };
        let (w, h) = (self.el.overlay.width() as f64, self.el.overlay.height() as f64);
        let context = &self.el.context;
        context.set_global_alpha(1.0);
        let _ = context.draw_image_with_image_bitmap_and_dw_and_dh(photo, 0.0, 0.0, w, h);
        if let Some(painting) = &self.painting {
            let canvas = painting.isolated.as_ref().map_or(&painting.canvas, |(_, c)| c);
            // Before/after: the painting covers the picture left of the compare handle.
            let split = (self.el.compare.value_as_number() / 100.0).clamp(0.0, 1.0);
            if split > 0.0 {
                context.set_global_alpha(self.opacity());
                let (sw, sh) = (canvas.width() as f64 * split, canvas.height() as f64);
                let _ = context.draw_image_with_html_canvas_element_and_sw_and_sh_and_dx_and_dy_and_dw_and_dh(
                    canvas, 0.0, 0.0, sw, sh, 0.0, 0.0, w * split, h,
                );
                context.set_global_alpha(1.0);
            }
            if split < 1.0 {
                context.set_stroke_style_str("#fff");
                context.set_line_width(2.0);
                context.begin_path();
                context.move_to(w * split, 0.0);
                context.line_to(w * split, h);
                context.stroke();
            }
            self.draw_marks();
        }
    }

    fn show_photo(&mut self, photo: ImageBitmap) {
        let (w, h) = (photo.width().max(1), photo.height().max(1));
        let scale = (MAX_CANVAS_WIDTH as f64 / w as f64).min(1.0);
        self.el.overlay.set_width(((w as f64 * scale).round() as u32).max(1));
        self.el.overlay.set_height(((h as f64 * scale).round() as u32).max(1));
        if let Some(old) = self.photo.replace(photo) {
            old.close();
        }
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
                self.el.load_progress.set_hidden(fraction.is_none());
                self.el.load_progress.set_value(f64::from(fraction.unwrap_or(0.0)));
            }
            FromWorker::Ready { model_name, placeholder, backend, backend_reason } => {
                summary::show_model(&self.document, &self.el.model_line, &model_name, placeholder);
                // A replacement worker is asked for the CPU: say why, not "CPU requested".
                let backend_reason = if self.restarts > 0 { "the worker was restarted after it stopped".into() } else { backend_reason };
                self.el.backend_line.set_text_content(Some(&format!("Running on {backend} ({backend_reason})")));
                let _ = self.document.body().map(|b| b.set_attribute("data-backend", &backend));
                self.ready = true;
                self.el.load_progress.set_hidden(true);
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
                let reply = Reply { width, height, task, prompt, visualization, decoded, millis, timings };
                let raw = self.reply.take();
                match std::mem::replace(&mut self.in_flight, Purpose::Screen) {
                    Purpose::Screen => {
                        let clock = self.clock.take();
                        if self.show_painted(&reply, clock) && self.live.is_none() {
                            history::keep(self, &reply);
                        }
                    }
                    Purpose::Everything(i) => {
                        let clock = self.clock.take();
                        if self.show_painted(&reply, clock) {
                            history::keep(self, &reply);
                        }
                        everything::painted(self, i, &reply, raw);
                    }
                    Purpose::Folder(i) => {
                        self.clock = None;
                        folder::painted(self, i, &reply);
                    }
                }
                self.paint_next();
            }
            FromWorker::Failed { message, suggestions } => {
                self.busy = false;
                // Whether the worker kept the photo depends on what failed: send it next time.
                self.worker_photo = None;
                match std::mem::replace(&mut self.in_flight, Purpose::Screen) {
                    Purpose::Everything(i) if self.ready => everything::failed(self, i, &message),
                    Purpose::Folder(i) if self.ready => {
                        // One photo of a folder that cannot be painted is said in the folder's
                        // list; the page's own painting and state stay as they were.
                        self.clock = None;
                        folder::failed(self, i, &message);
                        self.paint_next();
                        return None;
                    }
                    _ => {}
                }
                self.set_status(&message, true);
                self.offer_words(&suggestions);
                self.el.load_progress.set_hidden(true);
                self.set_state(if self.ready { "failed" } else { "load-failed" });
                if !self.ready {
                    self.el.model_line.set_text_content(Some("The model could not be loaded."));
                }
                self.paint_next();
            }
        }
        None
    }

    /// Shows `reply` as the painting on screen (overlay, summary, readout, the open view);
    /// false if it could not be drawn.
    fn show_painted(&mut self, reply: &Reply, clock: Option<paint_clock::PaintClock>) -> bool {
        let Reply { width, height, task, ref prompt, ref visualization, ref decoded, millis, ref timings } = *reply;
        let mut clock = clock.unwrap_or_else(paint_clock::PaintClock::start);
        clock.worker_replied(timings);
        clock.lap("read_reply_ms");
        match self.visualization_canvas(width, height, visualization) {
            Ok(canvas) => {
                clock.lap("draw_painting_ms");
                let facts = summary::Facts { task, prompt, decoded, millis, timings, width, height };
                let summary = summary::show(&self.document, &self.el.summary, &facts);
                clock.lap("summary_ms");
                let values = Values::from_decoded(decoded);
                let is_depth = matches!(values, Values::Depth(_));
                let is_normals = matches!(values, Values::Normals(_));
                self.painting = Some(Painting { task, width, height, values, canvas, rgb: visualization.clone(), isolated: None });
                clock.lap("unpack_values_ms");
                self.marks = inspect::Marks::default();
                self.el.depth_scale.set_hidden(!is_depth);
                if is_depth {
                    inspect::draw_depth_scale(&self.document, None);
                }
                self.el.normal_sphere.set_hidden(!is_normals);
                if is_normals {
                    inspect::draw_normal_sphere(&self.document, None);
                }
                self.show_distance();
                self.reread();
                self.redraw();
                clock.lap("overlay_ms");
                // Draws the open view (the others when opened).
                views::painted(self);
                clock.lap("views_ms");
                let _ = js_sys::Reflect::set(&summary, &"page_timings".into(), &clock.finish());
                let summary = js_sys::JSON::stringify(&summary).map(String::from).unwrap_or_default();
                self.el.result_json.set_text_content(Some(&summary));
                self.set_status(&format!("Painted in {millis:.0} ms."), false);
                self.set_state("painted");
                true
            }
            Err(e) => {
                self.set_status(&format!("Could not draw the result: {e:?}"), true);
                self.set_state("failed");
                false
            }
        }
    }

    fn visualization_canvas(&self, width: u32, height: u32, rgb: &[u8]) -> Result<HtmlCanvasElement, JsValue> {
        let canvas: HtmlCanvasElement = self.document.create_element("canvas")?.dyn_into()?;
        draw_rgb(&canvas, rgb, width, height)?;
        Ok(canvas)
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

pub fn start() -> Result<(), JsValue> {
    console_error_panic_hook::set_once();
    let window = web_sys::window().ok_or("no window")?;
    let document = window.document().ok_or("no document")?;
    let el = Elements::find(&document)?;
    let overlay = el.overlay.clone();
    let builder = prompt_builder::Builder::new(&document, &el);
    let query = web_sys::UrlSearchParams::new_with_str(&window.location().search()?)?;
    let page: Shared = Rc::new(RefCell::new(Page {
        document: document.clone(),
        el,
        link: None,
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
        restarts: 0,
        test_panic: query.get("test_panic").as_deref() == Some("1"),
        test_gpu_failure: query.get("test_gpu_fail").as_deref() == Some("1"),
        notice: None,
        marks: inspect::Marks::default(),
        view3d: None,
        zoom: zoom::Zoom::default(),
        builder: builder.clone(),
        clock: None,
        views: views::Views::default(),
        live: None,
        pointer: None,
        purpose: Purpose::Screen,
        in_flight: Purpose::Screen,
        reply: None,
        shown_photo: 0,
        everything: None,
        folder: None,
        history: history::History::default(),
    }));

    let link = link_worker(&page)?;
    page.borrow_mut().link = Some(link);

    photo::wire(&page, &document)?;

    let task: HtmlSelectElement = element(&document, "task");
    let prompt: HtmlTextAreaElement = element(&document, "prompt");
    let example = |name: &str| name.parse::<Task>().map_or("", example_prompt);
    prompt.set_value(example(&task.value()));
    // Each task keeps the user's own prompt: switching tasks and back restores the edit.
    let edits: Rc<RefCell<std::collections::HashMap<String, String>>> = Rc::default();
    let (edit_task, edit_prompt, on_edit) = (task.clone(), prompt.clone(), edits.clone());
    listen::<Event>(&prompt, "input", move |_| {
        on_edit.borrow_mut().insert(edit_task.value(), edit_prompt.value());
    });
    let on_task = page.clone();
    let (task_clone, prompt_clone, task_builder) = (task.clone(), prompt.clone(), builder.clone());
    listen::<Event>(&task, "change", move |_| {
        let chosen = task_clone.value();
        let edited = edits.borrow().get(&chosen).cloned();
        prompt_clone.set_value(&edited.unwrap_or_else(|| example(&chosen).to_string()));
        task_builder.show_text();
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
    everything::wire(&page);
    folder::wire(&page);
    history::wire(&page);
    effects::wire(&page);
    view3d::wire(&page);
    views::wire(&page);
    camera::wire(&page, &document);
    prompt_builder::wire(&builder);
    let offers = [page.borrow().el.suggestions.clone(), page.borrow().el.builder_rows.clone()];
    suggestions::wire(&page, &prompt, &offers);
    paste::wire(&page, &document);
    offline::register(&window, &document);
    Ok(())
}

/// Starts a worker whose messages and errors go to `page` (held weakly: the page owns the link).
fn link_worker(page: &Shared) -> Result<WorkerLink, JsValue> {
    let (on_message, on_error) = (Rc::downgrade(page), Rc::downgrade(page));
    WorkerLink::start(
        move |data| {
            let Some(page) = on_message.upgrade() else { return };
            if let Some(clock) = page.borrow_mut().clock.as_mut() {
                clock.arrived();
            }
            let mut answered = None;
            page.borrow_mut().reply = Some(data.clone());
            let crashed = match serde_wasm_bindgen::from_value(data) {
                Ok(message) => {
                    answered = match &message {
                        FromWorker::Painted { .. } => Some(true),
                        FromWorker::Failed { .. } => Some(false),
                        _ => None,
                    };
                    page.borrow_mut().on_worker(message)
                }
                Err(e) => Some(format!("unreadable message from the worker: {e}")),
            };
            if let Some(why) = crashed {
                camera::stop_live(&mut page.borrow_mut());
                restart_worker(&page, &why);
            } else if let Some(painted) = answered {
                camera::after_paint(&page, painted);
            }
        },
        move |why| {
            if let Some(page) = on_error.upgrade() {
                restart_worker(&page, &why);
            }
        },
    )
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
    match link_worker(page) {
        Ok(link) => p.link = Some(link),
        Err(e) => {
            p.set_status(&format!("A new worker could not be started: {e:?}"), true);
            p.set_state("load-failed");
        }
    }
}
