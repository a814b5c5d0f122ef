//! The Web Worker: fetches and verifies the weights, picks the backend, paints and decodes.

use peel_messages::{BackendRequest, Decoded, FromWorker, StageTimings, ToWorker, WordSuggestion};
use burn::prelude::Device;
use image::RgbImage;
use peel_model::photo::{PhotoError, PhotoLimits};
use peel_model::{ConditionError, Generator, Manifest, PaintError};
use peel_protocol::decode::{DecodeOptions, Summary, Values, decode_painting};
use peel_protocol::depth::DepthCodec;
use peel_protocol::prompt::{self, Request};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

mod model_files;
use model_files::{Download, cached_model_file, call, fetch_bytes, fetch_model_file, keep, weights_cache};

/// Photos the worker accepts: 64 megapixels, 30,000 px a side, and a 512 MiB decoder
/// allocation, so a malicious header cannot exhaust the tab (wasm32 has 4 GiB at most).
const PHOTO_LIMITS: PhotoLimits = PhotoLimits { max_pixels: 64_000_000, max_side: 30_000, max_alloc: 1 << 29 };
/// Paintings are made at most this large (long side); bigger photos are reduced first. The model
/// itself runs at 256 px, so this only bounds the size of the decoded maps sent to the page.
const MAX_PAINT_SIDE: u32 = 1024;
const MANIFEST_URL: &str = "weights/manifest.json";
/// The Cache API cache that keeps the weights and the phrase table between visits.
const WEIGHTS_CACHE: &str = "peel-weights";

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

fn post(message: &FromWorker) {
    match serde_wasm_bindgen::to_value(message) {
        Ok(value) => {
            // The painting's and the values' bytes are already copied out of wasm memory into
            // buffers of their own: hand them over rather than cloning them again.
            let buffers = js_sys::Array::new();
            collect_buffers(&value, &buffers, 4);
            let _ = scope().post_message_with_transfer(&value, &buffers);
        }
        Err(e) => web_sys::console::error_1(&format!("cannot serialise a message: {e}").into()),
    }
}

/// The buffers of the `Uint8Array`s in `value` (serde_bytes fields), `depth` levels down.
fn collect_buffers(value: &JsValue, buffers: &js_sys::Array, depth: u32) {
    if let Some(bytes) = value.dyn_ref::<js_sys::Uint8Array>() {
        buffers.push(&bytes.buffer());
    } else if depth > 0 && value.is_object() {
        for field in js_sys::Object::values(value.unchecked_ref()) {
            collect_buffers(&field, buffers, depth - 1);
        }
    }
}

fn progress(text: impl Into<String>) {
    post(&FromWorker::Progress { text: text.into(), fraction: None });
}

fn now_ms() -> f64 {
    scope().performance().map(|p| p.now()).unwrap_or(0.0)
}

/// Milliseconds since the epoch, comparable with the page's clock (`performance.timeOrigin + now`).
fn epoch_ms() -> f64 {
    scope().performance().map(|p| p.time_origin() + p.now()).unwrap_or(0.0)
}

/// Worker state: the generator, once loaded.
#[derive(Default)]
struct State {
    generator: Option<Generator>,
    /// The last photo painted, decoded and at display size, for `Paint` without a file.
    photo: Option<Rc<RgbImage>>,
    whole_table: Deferred,
    /// One per `Manifest::task_networks`.
    task_networks: Vec<Deferred>,
}

/// A model file that the first painting does not wait for: the whole phrase table (the core one
/// paints until it comes) and the task networks (peel-gen-3's segmentation network: the first
/// painting is depth). Each follows the first painting, or is fetched at once when a painting
/// needs it.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Part {
    WholeTable,
    TaskNetwork(usize),
}

/// Where a [`Part`] is.
#[derive(Default)]
enum Deferred {
    /// The generator has it.
    #[default]
    InUse,
    /// Not asked for yet: after the next painting, or at once when a painting needs it.
    Wanted,
    Downloading,
    /// Checked against the manifest's hash; handed to the generator when it is not painting.
    Arrived(Vec<u8>),
    Failed(String),
}

impl State {
    fn deferred(&mut self, part: Part) -> Option<&mut Deferred> {
        match part {
            Part::WholeTable => Some(&mut self.whole_table),
            Part::TaskNetwork(i) => self.task_networks.get_mut(i),
        }
    }

    /// The parts still wanted, the task networks first (a segmentation cannot paint without
    /// its network; it can with the core table).
    fn wanted(&self) -> Vec<Part> {
        let networks = (0..self.task_networks.len()).map(Part::TaskNetwork);
        networks.chain([Part::WholeTable]).filter(|&p| matches!(self.deferred_ref(p), Some(Deferred::Wanted))).collect()
    }

    /// How many deferred parts are not yet in the generator (nor failed).
    fn parts_loading(&self) -> u32 {
        let parts = std::iter::once(&self.whole_table).chain(&self.task_networks);
        parts.filter(|d| matches!(d, Deferred::Wanted | Deferred::Downloading | Deferred::Arrived(_))).count() as u32
    }

    fn deferred_ref(&self, part: Part) -> Option<&Deferred> {
        match part {
            Part::WholeTable => Some(&self.whole_table),
            Part::TaskNetwork(i) => self.task_networks.get(i),
        }
    }
}

impl Part {
    /// The part's file and hash, as the manifest names them.
    fn file(self, manifest: &Manifest) -> Option<(String, String)> {
        match self {
            Part::WholeTable => Some((manifest.phrases_file.clone(), manifest.phrases_sha256.clone())),
            Part::TaskNetwork(i) => manifest.task_networks.get(i).map(|n| (n.weights_file.clone(), n.sha256.clone())),
        }
    }

    /// What the page is told while a painting waits for it.
    fn waiting_text(self) -> &'static str {
        match self {
            Part::WholeTable => "Loading the rest of the vocabulary (once)…",
            Part::TaskNetwork(_) => "Loading the segmentation network (once)…",
        }
    }
}

pub fn start() {
    // A panic (a wgpu validation error, an allocation failure) leaves this wasm instance unusable:
    // log it, then tell the page, which replaces the worker with a fresh one on the CPU.
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        post(&FromWorker::Crashed { message: panic_line(info) });
    }));
    let state = Rc::new(RefCell::new(State::default()));
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let state = state.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let (received, received_at) = (now_ms(), epoch_ms());
            let message: ToWorker = match serde_wasm_bindgen::from_value(event.data()) {
                Ok(m) => m,
                Err(e) => return post(&failed(format!("bad message to the worker: {e}"))),
            };
            log_stage("reading the message", received);
            let reply = match message {
                ToWorker::Load { backend, test_gpu_failure } => load(&state, backend, test_gpu_failure).await,
                ToWorker::Paint { file, prompt } => paint(&state, file.as_deref(), &prompt).await,
                ToWorker::TestPanic => panic!("test panic requested with ?test_panic=1"),
            };
            let mut reply = reply.unwrap_or_else(failed);
            if let FromWorker::Painted { timings, .. } = &mut reply {
                timings.parts_loading = state.borrow().parts_loading();
                (timings.received_at_ms, timings.sent_at_ms) = (received_at, epoch_ms());
            }
            let painted = matches!(reply, FromWorker::Painted { .. });
            post(&reply);
            // A painting is on its way: now the deferred files may take the bandwidth.
            if painted {
                let wanted = state.borrow().wanted();
                for part in wanted {
                    download(state.clone(), part).await;
                }
            }
        });
    });
    scope().set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    post(&FromWorker::Booted);
}

fn failed(message: String) -> FromWorker {
    FromWorker::Failed { message, suggestions: Vec::new() }
}

/// One line for the page: the panic's message (its first line) and where it happened. (The
/// `Display` of the info puts the location on a line of its own, before the message.)
fn panic_line(info: &std::panic::PanicHookInfo) -> String {
    let message = info.payload_as_str().and_then(|m| m.lines().next()).unwrap_or("a panic");
    match info.location() {
        Some(at) => format!("{message}, at {}:{}", at.file(), at.line()),
        None => message.to_string(),
    }
}

/// Awaits both futures, polling them together (two fetches in flight at once).
async fn futures_join<A: std::future::Future, B: std::future::Future>(a: A, b: B) -> (A::Output, B::Output) {
    let (mut a, mut b) = (std::pin::pin!(a), std::pin::pin!(b));
    let (mut ra, mut rb) = (None, None);
    std::future::poll_fn(|cx| {
        if ra.is_none()
            && let std::task::Poll::Ready(v) = a.as_mut().poll(cx)
        {
            ra = Some(v);
        }
        if rb.is_none()
            && let std::task::Poll::Ready(v) = b.as_mut().poll(cx)
        {
            rb = Some(v);
        }
        if ra.is_some() && rb.is_some() { std::task::Poll::Ready(()) } else { std::task::Poll::Pending }
    })
    .await;
    (ra.expect("polled to completion"), rb.expect("polled to completion"))
}

/// A fixed, textured probe photo for timing backends.
fn probe_photo(manifest: &Manifest) -> RgbImage {
    let side = manifest.input_long_side;
    RgbImage::from_fn(side, side * 3 / 4, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x ^ y) % 256) as u8]))
}

async fn timed_paint(generator: &Generator, photo: &RgbImage) -> Result<f64, String> {
    let started = now_ms();
    generator.paint_async(photo, &Request::Depth(DepthCodec::default()), now_ms).await.map_err(|e| e.to_string())?;
    Ok(now_ms() - started)
}

async fn webgpu_device() -> Result<(Device, String), String> {
    let has_gpu = js_sys::Reflect::get(&scope().navigator(), &"gpu".into())
        .map(|gpu| !gpu.is_undefined())
        .unwrap_or(false);
    if !has_gpu {
        return Err("this browser exposes no WebGPU (navigator.gpu is missing)".into());
    }
    let (device, setup) = Device::wgpu_options()
        .init_with_setup_async()
        .await
        .map_err(|e| format!("no usable WebGPU adapter: {e}"))?;
    let info = setup.adapter.get_info();
    let software = info.device_type == burn::tensor::wgpu::wgpu::DeviceType::Cpu;
    // wgpu on the web leaves the adapter's name empty and its vendor 0; the browser's own
    // GPUAdapterInfo names it ("google swiftshader").
    let name = if info.name.trim().is_empty() { browser_adapter_name().await } else { Some(info.name.clone()) };
    let name = name.unwrap_or_else(|| "an unnamed adapter".to_string());
    Ok((device, if software { format!("{name}, software") } else { name }))
}

/// "vendor architecture" (or the description) from `navigator.gpu.requestAdapter()`'s `info`.
async fn browser_adapter_name() -> Option<String> {
    let gpu = js_sys::Reflect::get(&scope().navigator(), &"gpu".into()).ok()?;
    let adapter = call(&gpu, "requestAdapter", &[]).await.ok().filter(|a| !a.is_null() && !a.is_undefined())?;
    let info = js_sys::Reflect::get(&adapter, &"info".into()).ok().filter(|i| !i.is_undefined())?;
    let field = |key: &str| js_sys::Reflect::get(&info, &key.into()).ok().and_then(|v| v.as_string()).unwrap_or_default();
    let name = [field("vendor"), field("architecture")].iter().filter(|s| !s.is_empty()).cloned().collect::<Vec<_>>().join(" ");
    let name = if name.is_empty() { field("description") } else { name };
    (!name.is_empty()).then_some(name)
}

async fn load(state: &Rc<RefCell<State>>, request: BackendRequest, test_gpu_failure: bool) -> Result<FromWorker, String> {
    progress("Downloading the model…");
    let manifest_text = fetch_bytes(MANIFEST_URL).await?;
    let manifest_text = String::from_utf8(manifest_text).map_err(|_| "the model manifest is not UTF-8".to_string())?;
    let manifest = Manifest::from_json(&manifest_text).map_err(|e| e.to_string())?;
    // Both files at once, each from the cache when the manifest still names its hash. A visit
    // that kept the whole phrase table loads it; otherwise the core one, and the rest follows
    // the first painting.
    let cache = weights_cache().await;
    let whole_cached = match &cache {
        Some(cache) => cached_model_file(cache, &manifest.phrases_file, &manifest.phrases_sha256).await,
        None => None,
    };
    let core = manifest.core_phrases.as_ref().filter(|_| whole_cached.is_none());
    let (table_file, table_sha256, table_bytes) = match core {
        Some(core) => (&core.file, &core.sha256, core.bytes),
        None => (&manifest.phrases_file, &manifest.phrases_sha256, manifest.phrases_bytes),
    };
    // Task networks a visit kept load with the rest; the others follow the first painting.
    let mut kept_networks = Vec::new();
    for network in &manifest.task_networks {
        kept_networks.push(match &cache {
            Some(cache) => cached_model_file(cache, &network.weights_file, &network.sha256).await,
            None => None,
        });
    }
    let download = Download::new(manifest.weights_bytes.zip(table_bytes).map(|(w, p)| w + p));
    let table = async {
        match whole_cached {
            Some(bytes) => {
                download.add(bytes.len() as u64);
                Ok((bytes, true))
            }
            None => fetch_model_file(cache.as_ref(), table_file, table_sha256, &download).await,
        }
    };
    let (weights, phrases) =
        futures_join(fetch_model_file(cache.as_ref(), &manifest.weights_file, &manifest.sha256, &download), table).await;
    let ((weights, weights_cached), (phrases, phrases_cached)) = (weights?, phrases?);
    progress("Verifying and loading the weights…");
    let build = |device: Device| {
        let manifest = manifest_text.as_bytes();
        match core {
            Some(_) => Generator::from_core_bytes(manifest, &weights, &phrases, &device),
            None => Generator::from_bytes(manifest, &weights, &phrases, &device),
        }
        .map_err(|e| e.to_string())
    };
    // Only the auto mode needs the model on both backends (to time them).
    let on_cpu = || build(Device::flex());

    let (mut generator, backend, reason) = match request {
        BackendRequest::Cpu => (on_cpu()?, "CPU", "CPU requested".to_string()),
        BackendRequest::WebGpu => {
            let (device, adapter) = webgpu_device().await?;
            let gpu = build(device)?;
            // Compile the shaders now, on a probe photo, rather than in the user's first paint.
            progress(format!("Compiling the GPU shaders on {adapter} (once per visit)…"));
            let compile_ms = timed_paint(&gpu, &probe_photo(&manifest)).await?;
            (gpu, "WebGPU", format!("WebGPU requested ({adapter}); shaders compiled in {:.1} s", compile_ms / 1000.0))
        }
        BackendRequest::Auto => match webgpu_device().await {
            Err(why) => (on_cpu()?, "CPU", why),
            Ok((device, adapter)) => {
                progress(format!("Compiling the GPU shaders on {adapter} and timing WebGPU against the CPU…"));
                let cpu = on_cpu()?;
                let photo = probe_photo(&manifest);
                // An error on the GPU side (building the model there, compiling its shaders, the
                // probe paints) falls back to the CPU instead of failing the load. (A wgpu *panic*
                // goes through the panic hook instead: the page restarts the worker on the CPU.)
                let gpu_probe = async {
                    let gpu = build(device)?;
                    timed_paint(&gpu, &photo).await?; // compiles the shaders
                    if test_gpu_failure {
                        return Err("test failure requested with ?test_gpu_fail=1".to_string());
                    }
                    let gpu_ms = timed_paint(&gpu, &photo).await?;
                    Ok::<_, String>((gpu, gpu_ms))
                };
                match gpu_probe.await {
                    Ok((gpu, gpu_ms)) => {
                        let cpu_ms = timed_paint(&cpu, &photo).await?;
                        let timings = format!("probe: WebGPU {gpu_ms:.0} ms, CPU {cpu_ms:.0} ms on {adapter}");
                        if gpu_ms < cpu_ms { (gpu, "WebGPU", timings) } else { (cpu, "CPU", timings) }
                    }
                    Err(why) => (cpu, "CPU", format!("WebGPU ({adapter}) failed: {why}")),
                }
            }
        },
    };
    // Cached only now that loading checked both files against the manifest's hashes; written
    // after the page hears that the model is ready.
    if let Some(cache) = cache {
        let files = [
            (weights_cached, manifest.weights_file.clone(), manifest.sha256.clone(), weights),
            (phrases_cached, table_file.clone(), table_sha256.clone(), phrases),
        ];
        wasm_bindgen_futures::spawn_local(async move {
            for (cached, file, sha256, bytes) in files {
                if !cached {
                    keep(&cache, &file, &sha256, &bytes).await;
                }
            }
        });
    }
    let ready = FromWorker::Ready {
        model_name: generator.manifest().name.clone(),
        placeholder: generator.manifest().placeholder,
        backend: backend.to_string(),
        backend_reason: reason,
    };
    let whole_table = if core.is_some() { Deferred::Wanted } else { Deferred::InUse };
    let task_networks = kept_networks
        .into_iter()
        .enumerate()
        .map(|(index, kept)| match kept {
            Some(bytes) => match generator.load_task_network(index, &bytes) {
                Ok(()) => Deferred::InUse,
                Err(e) => Deferred::Failed(e.to_string()),
            },
            None => Deferred::Wanted,
        })
        .collect();
    let mut state = state.borrow_mut();
    (state.generator, state.whole_table, state.task_networks) = (Some(generator), whole_table, task_networks);
    Ok(ready)
}

/// Downloads `part` (quietly: a painting is on screen), keeps it for the next visit and offline
/// use, and hands it to the generator.
async fn download(state: Rc<RefCell<State>>, part: Part) {
    let file = state.borrow().generator.as_ref().and_then(|generator| part.file(generator.manifest()));
    let Some((file, sha256)) = file else { return };
    // Someone else may have started it since it was found wanted.
    match state.borrow_mut().deferred(part) {
        Some(deferred @ Deferred::Wanted) => *deferred = Deferred::Downloading,
        _ => return,
    }
    let cache = weights_cache().await;
    let arrived = match fetch_model_file(cache.as_ref(), &file, &sha256, &Download::quiet()).await {
        Ok((bytes, cached)) => {
            // Checked here, so a damaged download is not kept (the generator checks again).
            if peel_model::state::sha256_hex(&bytes) != sha256 {
                Deferred::Failed(format!("the downloaded {file} does not match the manifest's SHA-256"))
            } else {
                if let (Some(cache), false) = (&cache, cached) {
                    keep(cache, &file, &sha256, &bytes).await;
                }
                Deferred::Arrived(bytes)
            }
        }
        Err(e) => Deferred::Failed(e),
    };
    if let Some(deferred) = state.borrow_mut().deferred(part) {
        *deferred = arrived;
    }
    hand_over(&state);
}

/// Gives the arrived parts to the generator, unless it is out painting.
fn hand_over(state: &Rc<RefCell<State>>) {
    let mut state = state.borrow_mut();
    let State { generator: Some(generator), whole_table, task_networks, .. } = &mut *state else { return };
    let parts = std::iter::once((Part::WholeTable, whole_table)).chain(task_networks.iter_mut().enumerate().map(|(i, d)| (Part::TaskNetwork(i), d)));
    for (part, deferred) in parts {
        if let Deferred::Arrived(bytes) = deferred {
            let handed = match part {
                Part::WholeTable => generator.complete_phrases(bytes),
                Part::TaskNetwork(i) => generator.load_task_network(i, bytes),
            };
            *deferred = match handed {
                Ok(()) => Deferred::InUse,
                Err(e) => Deferred::Failed(e.to_string()),
            };
        }
    }
}

/// Waits until the generator holds `part`, downloading it if no one has.
async fn await_part(state: &Rc<RefCell<State>>, part: Part) -> Result<(), String> {
    loop {
        hand_over(state);
        let waiting = match state.borrow().deferred_ref(part) {
            None | Some(Deferred::InUse) => return Ok(()),
            Some(Deferred::Failed(why)) => Some(Err(why.clone())),
            Some(Deferred::Wanted) => None,
            Some(Deferred::Downloading | Deferred::Arrived(_)) => Some(Ok(())),
        };
        match waiting {
            // A later painting tries again.
            Some(Err(why)) => {
                if let Some(deferred) = state.borrow_mut().deferred(part) {
                    *deferred = Deferred::Wanted;
                }
                let what = match part {
                    Part::WholeTable => "this prompt needs the whole phrase table",
                    Part::TaskNetwork(_) => "this task needs the segmentation network",
                };
                return Err(format!("{what}, which could not be loaded: {why}"));
            }
            Some(Ok(())) => sleep_ms(50).await,
            None => download(state.clone(), part).await,
        }
    }
}

async fn sleep_ms(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let _ = scope().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
    });
    let _ = JsFuture::from(promise).await;
}

/// The photo as the browser shows it: `peel_model::photo` applies the EXIF orientation (as
/// `<img>` and `createImageBitmap(..., {imageOrientation: "from-image"})` do), so the painting
/// lines up with the displayed photo. `peel run` reads photos with the same function. A format
/// the Rust decoders do not read but this browser does (AVIF in Chromium and Firefox, HEIC in
/// Safari) is decoded by the browser instead, under the same size limits.
async fn decode_photo(file: &[u8]) -> Result<RgbImage, String> {
    match peel_model::photo::decode_rgb(file, &PHOTO_LIMITS) {
        Ok(photo) => Ok(photo),
        Err(unsupported @ PhotoError::Unsupported { .. }) => {
            browser_decode(file).await?.ok_or_else(|| format!("Photo: {unsupported}"))
        }
        Err(e) => Err(format!("Photo: {e}")),
    }
}

/// The browser's own decoder (`createImageBitmap`, EXIF orientation applied, drawn on an
/// OffscreenCanvas): `Ok(None)` when the browser cannot read the file either. Through
/// `js_sys` calls so that web-sys needs no new features (see [`call`]).
async fn browser_decode(file: &[u8]) -> Result<Option<RgbImage>, String> {
    let get = |target: &JsValue, name: &str| js_sys::Reflect::get(target, &name.into()).unwrap_or(JsValue::UNDEFINED);
    let Ok(blob) = web_sys::Blob::new_with_u8_array_sequence(&js_sys::Array::of1(&js_sys::Uint8Array::from(file))) else {
        return Ok(None);
    };
    let options = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&options, &"imageOrientation".into(), &"from-image".into());
    let Ok(bitmap) = call(&js_sys::global(), "createImageBitmap", &[&blob, &options]).await else {
        return Ok(None);
    };
    let side = |name| get(&bitmap, name).as_f64().unwrap_or(0.0) as u32;
    let (width, height) = (side("width"), side("height"));
    let checked = peel_model::photo::check_size(width, height, &PHOTO_LIMITS).map_err(|e| format!("Photo: {e}"));
    let pixels = match checked {
        Ok(()) => bitmap_rgba(&bitmap, width, height).await,
        Err(e) => Err(e),
    };
    let _ = call(&bitmap, "close", &[]).await;
    let rgba = pixels?;
    Ok(RgbImage::from_raw(width, height, rgba.chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]).collect()))
}

/// An ImageBitmap's RGBA pixels, through an OffscreenCanvas of its size.
async fn bitmap_rgba(bitmap: &JsValue, width: u32, height: u32) -> Result<Vec<u8>, String> {
    let failed = |e: JsValue| format!("Photo: the browser decoded the image but could not read its pixels: {e:?}");
    let constructor: js_sys::Function =
        js_sys::Reflect::get(&js_sys::global(), &"OffscreenCanvas".into()).and_then(|c| c.dyn_into()).map_err(failed)?;
    let canvas = js_sys::Reflect::construct(&constructor, &js_sys::Array::of2(&width.into(), &height.into())).map_err(failed)?;
    let context = call(&canvas, "getContext", &[&"2d".into()]).await.map_err(failed)?;
    call(&context, "drawImage", &[bitmap, &0.into(), &0.into()]).await.map_err(failed)?;
    let image = call(&context, "getImageData", &[&0.into(), &0.into(), &width.into(), &height.into()]).await.map_err(failed)?;
    let data = js_sys::Reflect::get(&image, &"data".into()).map_err(failed)?;
    Ok(data.unchecked_into::<js_sys::Uint8ClampedArray>().to_vec())
}

/// Reduces photos larger than [`MAX_PAINT_SIDE`]; the painting comes back at this size.
fn display_size(photo: RgbImage) -> RgbImage {
    let (w, h) = photo.dimensions();
    if w.max(h) <= MAX_PAINT_SIDE {
        return photo;
    }
    let scale = MAX_PAINT_SIDE as f64 / w.max(h) as f64;
    let (nw, nh) = (((w as f64 * scale).round() as u32).max(1), ((h as f64 * scale).round() as u32).max(1));
    image::imageops::resize(&photo, nw, nh, image::imageops::FilterType::Triangle)
}

async fn paint(state: &Rc<RefCell<State>>, file: Option<&[u8]>, prompt_text: &str) -> Result<FromWorker, String> {
    let request = prompt::parse(prompt_text).map_err(|e| format!("Prompt: {e}"))?;
    let decode_started = now_ms();
    let photo = match file {
        Some(file) => {
            state.borrow_mut().photo = None;
            let photo = Rc::new(display_size(decode_photo(file).await?));
            state.borrow_mut().photo = Some(photo.clone());
            photo
        }
        None => state.borrow().photo.clone().ok_or("the worker has no photo to paint again: choose the photo once more")?,
    };
    let decode_ms = now_ms() - decode_started;
    hand_over(state);
    let mut painted = paint_with_generator(state, &photo, &request).await?;
    // A painting may need each deferred part once: the whole table, then the task's network.
    for _ in 0..2 {
        let part = match &painted {
            Err(PaintError::Condition(ConditionError::NeedsWholeTable { .. })) => Part::WholeTable,
            Err(PaintError::NetworkNotLoaded { index, .. }) => Part::TaskNetwork(*index),
            _ => break,
        };
        progress(part.waiting_text());
        await_part(state, part).await?;
        painted = paint_with_generator(state, &photo, &request).await?;
    }
    let (visualization, stages) = match painted {
        Ok(painted) => painted,
        // The page offers the nearest known words as buttons.
        Err(PaintError::Condition(ConditionError::UnknownPhrase(unknown))) => {
            let suggestions = unknown.suggestions.iter().map(|(word, nearest)| WordSuggestion { word: word.clone(), nearest: nearest.clone() });
            return Ok(FromWorker::Failed { message: format!("Prompt: {unknown}"), suggestions: suggestions.collect() });
        }
        Err(e) => return Err(e.to_string()),
    };
    let (width, height) = visualization.dimensions();
    let values_started = now_ms();
    let decoded = decode(&request, &visualization)?;
    let timings = StageTimings {
        decode_ms,
        prepare_ms: stages.prepare_ms,
        network_ms: stages.network_ms,
        upsample_ms: stages.upsample_ms,
        values_ms: now_ms() - values_started,
        ..StageTimings::default()
    };
    web_sys::console::log_1(&format!("peel worker: {timings:?}").into());
    Ok(FromWorker::Painted {
        width,
        height,
        task: request.task(),
        prompt: request.to_prompt(),
        visualization: visualization.into_raw(),
        decoded,
        millis: stages.prepare_ms + stages.network_ms + stages.upsample_ms,
        timings,
    })
}

/// The generator is taken out while painting so no RefCell borrow spans an await.
async fn paint_with_generator(
    state: &Rc<RefCell<State>>,
    photo: &RgbImage,
    request: &Request,
) -> Result<Result<(RgbImage, peel_model::PaintTimings), PaintError>, String> {
    let generator = state.borrow_mut().generator.take().ok_or("the model is not loaded")?;
    let painted = generator.paint_async(photo, request, now_ms).await;
    state.borrow_mut().generator = Some(generator);
    Ok(painted)
}

/// The painting back into values: `peel_protocol::decode::decode_painting`, the decoder `peel
/// decode` calls too, with the default options (as `peel decode` without decoder flags).
fn decode(request: &Request, painting: &RgbImage) -> Result<Decoded, String> {
    let (width, height) = painting.dimensions();
    let decoded = decode_painting(request, painting.as_raw(), width, height, &DecodeOptions::default()).map_err(|e| e.to_string())?;
    Ok(match (decoded.values, decoded.summary) {
        (Values::Depth(meters), Summary::Depth(summary)) => Decoded::Depth { depth_m_le: peel_messages::f32_to_le_bytes(&meters), summary },
        (Values::Normals(xyz), Summary::Normals(summary)) => Decoded::Normals { normals_le: peel_messages::f32_to_le_bytes(&xyz), summary },
        (Values::Labels(labels), _) => Decoded::Segments { labels_le: peel_messages::u16_to_le_bytes(&labels), segments: decoded.segments },
        _ => return Err("the decoder returned a summary of another task".to_string()),
    })
}

/// Stage timings go to the console, for profiling in the browser's devtools.
fn log_stage(stage: &str, started: f64) {
    web_sys::console::log_1(&format!("peel worker: {stage} took {:.0} ms", now_ms() - started).into());
}
