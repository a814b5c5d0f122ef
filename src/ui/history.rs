//! The history on this device (issue 34): the last [`studio::HISTORY_LIMIT`] paintings, kept in
//! IndexedDB (so they survive a reload and need no network), each as a small copy of the photo
//! (JPEG, at most [`PHOTO_SIDE`] px), its task and prompt, and the painting itself (PNG, the
//! Downloads tab's visualization). Decoded values are not kept: opening an entry decodes them
//! again from the painting with the worker's own decoder (`studio::decode_again`). The "History"
//! tab lists them; each can be opened or removed, or all cleared at once.
//!
//! Each paint of the photo on screen is kept (not live frames, not a folder's photos). The
//! list's `<body data-history>` says how many entries it shows (the browser test waits on it).

use super::{Page, Reply, Shared, element, everything, exports, listen, views};
use crate::{Task, studio};
use js_sys::{Promise, Reflect, Uint8Array};
use std::cell::RefCell;
use std::rc::Weak;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Element, Event, HtmlCanvasElement, HtmlElement, IdbDatabase, IdbObjectStore, IdbRequest, IdbTransactionMode, ImageBitmap};

const DATABASE: &str = "peel-history";
const STORE: &str = "paintings";
/// Longest side of the photo's copy kept with a painting, in pixels.
const PHOTO_SIDE: u32 = 640;

#[derive(Default)]
pub(super) struct History {
    page: Weak<RefCell<Page>>,
    /// The database, once opened.
    db: Option<IdbDatabase>,
    /// The thumbnails' object URLs in the list shown, revoked when it is shown again.
    urls: Vec<String>,
}

/// Waits for an IndexedDB request: its result, or its error.
async fn done(request: &IdbRequest) -> Result<JsValue, JsValue> {
    // The promise's own functions are the request's handlers: nothing to free afterwards.
    let promise = Promise::new(&mut |resolve, reject| {
        request.set_onsuccess(Some(&resolve));
        request.set_onerror(Some(&reject));
    });
    let outcome = JsFuture::from(promise).await;
    request.set_onsuccess(None);
    request.set_onerror(None);
    match outcome {
        Ok(_) => request.result(),
        Err(_) => Err(request.error().ok().flatten().map_or_else(|| "IndexedDB request failed".into(), JsValue::from)),
    }
}

/// The history's database (opened once per page, created on first use).
async fn database(weak: &Weak<RefCell<Page>>) -> Result<IdbDatabase, JsValue> {
    if let Some(db) = weak.upgrade().and_then(|page| page.borrow().history.db.clone()) {
        return Ok(db);
    }
    let factory = web_sys::window().ok_or("no window")?.indexed_db()?.ok_or("this browser keeps no IndexedDB here (a private window?)")?;
    let request = factory.open_with_u32(DATABASE, 1)?;
    let upgrading = request.clone();
    let on_upgrade = Closure::<dyn FnMut()>::new(move || {
        if let Ok(db) = upgrading.result().and_then(|db| db.dyn_into::<IdbDatabase>()) {
            let parameters = web_sys::IdbObjectStoreParameters::new();
            parameters.set_key_path(&"id".into());
            parameters.set_auto_increment(true);
            let _ = db.create_object_store_with_optional_parameters(STORE, &parameters);
        }
    });
    request.set_onupgradeneeded(Some(on_upgrade.as_ref().unchecked_ref()));
    let opened = done(&request).await;
    request.set_onupgradeneeded(None);
    drop(on_upgrade);
    let db: IdbDatabase = opened?.dyn_into()?;
    if let Some(page) = weak.upgrade() {
        page.borrow_mut().history.db = Some(db.clone());
    }
    Ok(db)
}

fn store(db: &IdbDatabase, mode: IdbTransactionMode) -> Result<IdbObjectStore, JsValue> {
    db.transaction_with_str_and_mode(STORE, mode)?.object_store(STORE)
}

/// Keeps `reply` (just painted and shown over the photo on screen) in the history. The encoding
/// (a PNG and a JPEG, some milliseconds) waits until the browser has drawn the painting, so that
/// it does not hold the result back from the screen.
pub(super) fn keep(page: &mut Page, reply: &Reply) {
    // Only a painting of the photo the page shows (the browser may still be decoding a new one).
    if page.worker_photo != Some(page.photo_id) || page.shown_photo != page.photo_id {
        return;
    }
    let Some(photo) = &page.photo else { return };
    // A copy of the photo, taken now: the page closes its own when the next photo comes.
    let photo = match web_sys::window().ok_or_else(|| JsValue::from("no window")).and_then(|w| w.create_image_bitmap_with_image_bitmap(photo)) {
        Ok(copy) => JsFuture::from(copy),
        Err(e) => return web_sys::console::warn_1(&format!("The painting could not be kept in the history: {e:?}").into()),
    };
    let (task, prompt, visualization, width, height) = (reply.task, reply.prompt.clone(), reply.visualization.clone(), reply.width, reply.height);
    let document = page.document.clone();
    let weak = page.history.page.clone();
    wasm_bindgen_futures::spawn_local(async move {
        let kept = async {
            let photo: ImageBitmap = photo.await?.dyn_into()?;
            after_next_frame(&document).await;
            let encoded = peel_protocol::export::rgb_png(&visualization, width, height).map_err(|e| JsValue::from(e.to_string()));
            let record = encoded.and_then(|painting| history_record(&document, &photo, task, &prompt, &painting, width, height));
            photo.close();
            let record = record?;
            let db = database(&weak).await?;
            done(&store(&db, IdbTransactionMode::Readwrite)?.add(&record)?).await?;
            // The oldest go once there are more than the limit.
            let keys = js_sys::Array::from(&done(&store(&db, IdbTransactionMode::Readonly)?.get_all_keys()?).await?);
            let keys: Vec<f64> = keys.iter().filter_map(|k| k.as_f64()).collect();
            let old = studio::history_overflow(&keys, studio::HISTORY_LIMIT).to_vec();
            if !old.is_empty() {
                let writable = store(&db, IdbTransactionMode::Readwrite)?;
                for key in old {
                    done(&writable.delete(&key.into())?).await?;
                }
            }
            Ok::<(), JsValue>(())
        };
        let outcome = kept.await;
        let Some(shared) = weak.upgrade() else { return };
        if let Err(e) = outcome {
            return web_sys::console::warn_1(&format!("The painting could not be kept in the history: {e:?}").into());
        }
        let page = shared.borrow();
        let _ = page.document.body().map(|b| b.set_attribute("data-history-kept", &js_sys::Date::now().to_string()));
        if is_open(&page) {
            list(&page);
        }
    });
}

/// One history entry: the painting (`painting`, PNG) with its task, prompt and photo.
fn history_record(
    document: &web_sys::Document,
    photo: &ImageBitmap,
    task: Task,
    prompt: &str,
    painting: &[u8],
    width: u32,
    height: u32,
) -> Result<js_sys::Object, JsValue> {
    let (photo, photo_width, photo_height) = photo_jpeg(document, photo)?;
    let record = js_sys::Object::new();
    for (key, value) in [
        ("time", js_sys::Date::now().into()),
        ("task", task.name().into()),
        ("prompt", prompt.into()),
        ("width", width.into()),
        ("height", height.into()),
        ("painting", Uint8Array::from(painting).into()),
        ("photo", photo.into()),
        ("photo_width", photo_width.into()),
        ("photo_height", photo_height.into()),
    ] {
        Reflect::set(&record, &key.into(), &value)?;
    }
    Ok(record)
}

/// Resolves in a task after the browser's next frame (at once in a hidden tab, which draws no
/// frames): what runs after it no longer delays what the page has just put on screen.
async fn after_next_frame(document: &web_sys::Document) {
    let Some(window) = web_sys::window() else { return };
    let hidden = document.hidden();
    let promise = Promise::new(&mut |resolve, _| {
        if hidden {
            let _ = window.set_timeout_with_callback(&resolve);
            return;
        }
        let timer = window.clone();
        let task = Closure::once_into_js(move || timer.set_timeout_with_callback(&resolve));
        let _ = window.request_animation_frame(task.unchecked_ref());
    });
    let _ = JsFuture::from(promise).await;
}

/// The photo's copy kept with a painting: JPEG bytes, at most [`PHOTO_SIDE`] px, and its size.
fn photo_jpeg(document: &web_sys::Document, photo: &ImageBitmap) -> Result<(Uint8Array, u32, u32), JsValue> {
    let (w, h) = (photo.width().max(1), photo.height().max(1));
    let scale = (f64::from(PHOTO_SIDE) / f64::from(w.max(h))).min(1.0);
    let (tw, th) = (((f64::from(w) * scale).round() as u32).max(1), ((f64::from(h) * scale).round() as u32).max(1));
    let canvas: HtmlCanvasElement = document.create_element("canvas")?.dyn_into()?;
    canvas.set_width(tw);
    canvas.set_height(th);
    let context: web_sys::CanvasRenderingContext2d = canvas.get_context("2d")?.ok_or("no 2d context")?.dyn_into()?;
    context.draw_image_with_image_bitmap_and_dw_and_dh(photo, 0.0, 0.0, f64::from(tw), f64::from(th))?;
    // Synchronous (toBlob's callback would outlive the paint); the base64 is undone at once.
    let url = canvas.to_data_url_with_type_and_encoder_options("image/jpeg", &JsValue::from_f64(0.85))?;
    let base64 = url.split_once(',').map_or("", |(_, data)| data);
    let binary = web_sys::window().ok_or("no window")?.atob(base64)?;
    let bytes: Vec<u8> = binary.chars().map(|c| c as u32 as u8).collect();
    Ok((Uint8Array::from(bytes.as_slice()), tw, th))
}

fn is_open(page: &Page) -> bool {
    !element::<HtmlElement>(&page.document, "panel-history").hidden()
}

/// The History tab was opened: lists the entries.
pub(super) fn show(page: &mut Page) {
    list(page);
}

/// Reads the entries and lists them, newest first.
fn list(page: &Page) {
    let weak = page.history.page.clone();
    wasm_bindgen_futures::spawn_local(async move {
        let records = async {
            let db = database(&weak).await?;
            Ok::<_, JsValue>(js_sys::Array::from(&done(&store(&db, IdbTransactionMode::Readonly)?.get_all()?).await?))
        };
        let records = records.await;
        let Some(shared) = weak.upgrade() else { return };
        let mut page = shared.borrow_mut();
        match records {
            Ok(records) => render(&mut page, &records),
            Err(e) => say(&page, &format!("The history could not be read: {}", message(&e))),
        }
    });
}

fn say(page: &Page, text: &str) {
    element::<HtmlElement>(&page.document, "history-line").set_text_content(Some(text));
}

fn message(e: &JsValue) -> String {
    Reflect::get(e, &"message".into()).ok().and_then(|m| m.as_string()).unwrap_or_else(|| format!("{e:?}"))
}

fn field(record: &JsValue, key: &str) -> JsValue {
    Reflect::get(record, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

fn render(page: &mut Page, records: &js_sys::Array) {
    let list: HtmlElement = element(&page.document, "history-list");
    list.set_text_content(None);
    for url in page.history.urls.drain(..) {
        let _ = web_sys::Url::revoke_object_url(&url);
    }
    let count = records.length();
    for record in records.iter().collect::<Vec<_>>().into_iter().rev() {
        match entry(&page.document, &record) {
            Ok((item, urls)) => {
                let _ = list.append_child(&item);
                page.history.urls.extend(urls);
            }
            Err(e) => web_sys::console::warn_1(&e),
        }
    }
    let _ = page.document.body().map(|b| b.set_attribute("data-history", &count.to_string()));
    element::<HtmlElement>(&page.document, "history-clear").set_hidden(count == 0);
    say(page, &match count {
        0 => "No paintings kept yet: each painting of a photo is kept here, on this device only.".to_string(),
        n => format!("{n} of at most {} paintings, newest first, kept on this device only.", studio::HISTORY_LIMIT),
    });
}

/// One entry of the list: the photo, what was painted, when, and its buttons.
fn entry(document: &web_sys::Document, record: &JsValue) -> Result<(Element, Vec<String>), JsValue> {
    let id = field(record, "id").as_f64().ok_or("an entry without an id")?;
    let task = field(record, "task").as_string().unwrap_or_default();
    let prompt = field(record, "prompt").as_string().unwrap_or_default();
    let time = js_sys::Date::new(&field(record, "time"));
    let item = document.create_element("li")?;
    item.set_attribute("class", "history-entry")?;
    item.set_attribute("data-id", &id.to_string())?;
    // The photo and its painting, small (the text beside them says what they are).
    let mut urls = Vec::new();
    for (key, mime) in [("photo", "image/jpeg"), ("painting", "image/png")] {
        let Ok(bytes) = field(record, key).dyn_into::<Uint8Array>() else { continue };
        let options = web_sys::BlobPropertyBag::new();
        options.set_type(mime);
        let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&js_sys::Array::of1(&bytes), &options)?;
        let src = web_sys::Url::create_object_url_with_blob(&blob)?;
        let image = document.create_element("img")?;
        image.set_attribute("src", &src)?;
        image.set_attribute("alt", "")?;
        image.set_attribute("class", &format!("history-{key}"))?;
        item.append_child(&image)?;
        urls.push(src);
    }
    let text = document.create_element("div")?;
    let heading = document.create_element("p")?;
    let when = String::from(time.to_locale_string("en-GB", &JsValue::UNDEFINED));
    heading.set_text_content(Some(&format!("{task}, {when}")));
    let words = document.create_element("p")?;
    words.set_attribute("class", "history-prompt")?;
    words.set_text_content(Some(&prompt));
    text.append_child(&heading)?;
    text.append_child(&words)?;
    for (label, action) in [("Open", "open"), ("Remove", "remove")] {
        let button = document.create_element("button")?;
        button.set_attribute("type", "button")?;
        button.set_attribute("data-action", action)?;
        button.set_attribute("aria-label", &format!("{label} the {task} painting of {when}"))?;
        button.set_text_content(Some(label));
        text.append_child(&button)?;
    }
    item.append_child(&text)?;
    Ok((item, urls))
}

/// Opens entry `id`: its photo copy becomes the photo on screen and its painting, decoded again,
/// the painting (Paint then paints the copy again).
fn open(weak: Weak<RefCell<Page>>, id: f64) {
    wasm_bindgen_futures::spawn_local(async move {
        let loaded = async {
            let db = database(&weak).await?;
            let record = done(&store(&db, IdbTransactionMode::Readonly)?.get(&id.into())?).await?;
            if record.is_undefined() {
                return Err(JsValue::from("it is no longer in the history"));
            }
            let width = field(&record, "width").as_f64().ok_or("no width")? as u32;
            let height = field(&record, "height").as_f64().ok_or("no height")? as u32;
            let painting: Uint8Array = field(&record, "painting").dyn_into()?;
            let photo: Uint8Array = field(&record, "photo").dyn_into()?;
            let rgb = painting_rgb(&painting, width, height).await?;
            let bitmap = bitmap(&photo, false).await?;
            Ok::<_, JsValue>((record, width, height, rgb, bitmap, photo.to_vec()))
        };
        let loaded = loaded.await;
        let Some(shared) = weak.upgrade() else { return };
        let mut page = shared.borrow_mut();
        let (record, width, height, rgb, bitmap, photo) = match loaded {
            Ok(loaded) => loaded,
            Err(e) => return page.set_status(&format!("Could not open this painting: {}", message(&e)), true),
        };
        let Some(task) = field(&record, "task").as_string().and_then(|t| t.parse::<Task>().ok()) else {
            bitmap.close();
            return page.set_status("Could not open this painting: its task is not one Peel paints.", true);
        };
        let prompt = field(&record, "prompt").as_string().unwrap_or_default();
        let decoded = match studio::decode_again(&prompt, &rgb, width, height) {
            Ok(decoded) => decoded,
            Err(e) => {
                bitmap.close();
                return page.set_status(&format!("Could not decode this painting again: {e}"), true);
            }
        };
        // A photo of its own: whatever ran on the one before stops, and Paint sends this copy.
        super::camera::stop_live(&mut page);
        page.photo_id += 1;
        page.shown_photo = page.photo_id;
        page.photo_bytes = Some(photo);
        everything::stop(&mut page, "stopped");
        page.show_photo(bitmap);
        page.el.task.set_value(task.name());
        page.el.prompt.set_value(&prompt);
        page.builder.show_text();
        let reply = Reply { width, height, task, prompt, visualization: rgb, decoded, millis: 0.0, timings: Default::default() };
        if page.show_painted(&reply, None) {
            views::open_view(&mut page, views::View::Painting);
            page.set_status(&format!("Opened the {task} painting from the history (its values decoded again from the painting)."), false);
        }
    });
}

/// The painting's pixels, exactly as kept: no colour management on the way.
async fn painting_rgb(png: &Uint8Array, width: u32, height: u32) -> Result<Vec<u8>, JsValue> {
    let bitmap = bitmap(png, true).await?;
    let document = web_sys::window().and_then(|w| w.document()).ok_or("no document")?;
    let rgb = exports::bitmap_rgb(&document, &bitmap, width, height);
    bitmap.close();
    rgb
}

async fn bitmap(bytes: &Uint8Array, exact: bool) -> Result<ImageBitmap, JsValue> {
    let blob = web_sys::Blob::new_with_u8_array_sequence(&js_sys::Array::of1(bytes))?;
    let options = web_sys::ImageBitmapOptions::new();
    if exact {
        options.set_color_space_conversion(web_sys::ColorSpaceConversion::None);
        options.set_premultiply_alpha(web_sys::PremultiplyAlpha::None);
    }
    let promise = web_sys::window().ok_or("no window")?.create_image_bitmap_with_blob_and_image_bitmap_options(&blob, &options)?;
    JsFuture::from(promise).await?.dyn_into()
}

/// Removes entry `id` (or every entry, for `None`) and lists what is left.
fn remove(weak: Weak<RefCell<Page>>, id: Option<f64>) {
    wasm_bindgen_futures::spawn_local(async move {
        let removed = async {
            let db = database(&weak).await?;
            let store = store(&db, IdbTransactionMode::Readwrite)?;
            done(&match id {
                Some(id) => store.delete(&id.into())?,
                None => store.clear()?,
            })
            .await
        };
        let removed = removed.await;
        let Some(shared) = weak.upgrade() else { return };
        let page = shared.borrow();
        match removed {
            Ok(_) => {
                page.set_status(if id.is_some() { "Removed the painting from the history." } else { "Cleared the history." }, false);
                list(&page);
            }
            Err(e) => page.set_status(&format!("Could not change the history: {}", message(&e)), true),
        }
    });
}

/// Wires the list's buttons and "Clear the history"; call once at start-up.
pub(super) fn wire(page: &Shared) {
    page.borrow_mut().history.page = std::rc::Rc::downgrade(page);
    let document = page.borrow().document.clone();
    let weak = std::rc::Rc::downgrade(page);
    listen::<Event>(&element::<HtmlElement>(&document, "history-list"), "click", move |event| {
        let Some(button) = event.target().and_then(|t| t.dyn_into::<Element>().ok()).and_then(|e| e.closest("button[data-action]").ok().flatten()) else {
            return;
        };
        let id = button.closest("[data-id]").ok().flatten().and_then(|e| e.get_attribute("data-id")).and_then(|id| id.parse::<f64>().ok());
        let Some(id) = id else { return };
        match button.get_attribute("data-action").as_deref() {
            Some("open") => open(weak.clone(), id),
            Some("remove") => remove(weak.clone(), Some(id)),
            _ => {}
        }
    });
    let weak = std::rc::Rc::downgrade(page);
    listen::<Event>(&element::<HtmlElement>(&document, "history-clear"), "click", move |_| remove(weak.clone(), None));
}
