//! Folders (issue 34): many photos (the "Folder" tab's multiple-file input, its folder input
//! where the browser has `webkitdirectory`, or several dropped on the drop zone at once), painted
//! with the task and prompt chosen in the controls, one at a time, into one zip.
//!
//! Memory stays bounded: the page holds the files' handles, not their contents; it reads one
//! photo, hands its bytes to the worker (which keeps only that photo decoded), has the browser
//! decode it once for the exports that need its colours (the point cloud, the cut-outs) and
//! closes it as soon as that photo's files are in the zip. The files are built by the Downloads
//! tab's own functions (`exports::build`, the same `Source` and names), so each equals the
//! single-photo download byte for byte; the zip stores them in `<photo>/<download name>`.

use super::{Page, Pending, Purpose, Reply, Shared, Values, element, exports, listen, replace_worker, views};
use crate::{Task, studio};
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{DragEvent, Event, FileList, HtmlElement, HtmlInputElement, HtmlProgressElement, ImageBitmap};

pub(super) struct Run {
    /// The page, for the reads that follow each painting (they wait on the browser).
    page: Weak<RefCell<Page>>,
    files: Vec<web_sys::File>,
    /// Each photo's folder in the zip (`studio::zip_folders`).
    folders: Vec<String>,
    /// The task and prompt every photo is painted with (the controls' when the run began), and
    /// the point cloud's field of view.
    task: Option<Task>,
    prompt: String,
    fov: f32,
    /// The photo being read or painted, while the run goes on.
    at: usize,
    running: bool,
    /// The photo being painted, decoded by the browser (closed once its files are built).
    bitmap: Option<ImageBitmap>,
    zip: Option<studio::Zip>,
    painted: usize,
    /// The zip, once the run has ended.
    done: Option<Vec<u8>>,
}

impl Run {
    pub(super) fn running(&self) -> bool {
        self.running
    }
}

fn set_run_state(page: &Page, state: &str) {
    let _ = page.document.body().map(|b| b.set_attribute("data-folder", state));
}

fn line(page: &Page, text: &str) {
    element::<HtmlElement>(&page.document, "folder-line").set_text_content(Some(text));
}

/// Says how photo `i` went, in its row of the list.
fn set_row(page: &Page, i: usize, state: &str, text: &str) {
    let Ok(Some(row)) = page.document.query_selector(&format!("#folder-list [data-photo=\"{i}\"]")) else { return };
    let _ = row.set_attribute("data-state", state);
    if let Ok(Some(note)) = row.query_selector(".folder-note") {
        note.set_text_content(Some(text));
    }
}

/// Takes the photos among `list` (by type or extension) as the folder to paint, and opens the tab.
pub(super) fn choose(shared: &Shared, list: &FileList) {
    let mut page = shared.borrow_mut();
    if page.folder.as_ref().is_some_and(|run| run.running) {
        return page.set_status("A folder is being painted; cancel it first.", true);
    }
    let all: Vec<web_sys::File> = (0..list.length()).filter_map(|i| list.get(i)).collect();
    let files: Vec<web_sys::File> = all.iter().filter(|f| studio::looks_like_photo(&f.name(), &f.type_())).cloned().collect();
    let skipped = all.len() - files.len();
    views::open_view(&mut page, views::View::Folder);
    let start: HtmlElement = element(&page.document, "folder-start");
    if files.is_empty() {
        page.folder = None;
        start.set_attribute("disabled", "").ok();
        set_run_state(&page, "none");
        return line(&page, "None of these files is a photo (PNG, JPEG, WebP, GIF, BMP, AVIF or HEIC).");
    }
    let names: Vec<String> = files.iter().map(|f| f.name()).collect();
    let folders = studio::zip_folders(&names);
    let list_element: HtmlElement = element(&page.document, "folder-list");
    list_element.set_text_content(None);
    for (i, name) in names.iter().enumerate() {
        let Ok(row) = page.document.create_element("li") else { continue };
        let _ = row.set_attribute("data-photo", &i.to_string());
        let _ = row.set_attribute("data-state", "waiting");
        row.set_text_content(Some(&format!("{name}: ")));
        if let Ok(note) = page.document.create_element("span") {
            let _ = note.set_attribute("class", "folder-note");
            note.set_text_content(Some("waiting"));
            let _ = row.append_child(&note);
        }
        let _ = list_element.append_child(&row);
    }
    let count = files.len();
    if let Some(old) = page.folder.take().and_then(|run| run.bitmap) {
        old.close();
    }
    page.folder = Some(Run {
        page: Rc::downgrade(shared),
        files,
        folders,
        task: None,
        prompt: String::new(),
        fov: 60.0,
        at: 0,
        running: false,
        bitmap: None,
        zip: None,
        painted: 0,
        done: None,
    });
    let _ = start.remove_attribute("disabled");
    element::<HtmlElement>(&page.document, "folder-download").set_hidden(true);
    element::<HtmlElement>(&page.document, "folder-progress").set_hidden(true);
    set_run_state(&page, "chosen");
    let skipped = if skipped > 0 { format!(" ({skipped} other files left out)") } else { String::new() };
    line(&page, &format!("{count} photos chosen{skipped}. Paint them with the task and prompt on the left."));
}

/// Starts painting the chosen photos with the controls' task and prompt.
fn start(page: &mut Page) {
    let task = page.el.task.value().parse::<Task>().ok();
    let prompt = page.el.prompt.value();
    let fov = exports::fov(page);
    let Some(run) = page.folder.as_mut() else { return line(page, "Choose some photos first.") };
    if run.running {
        return;
    }
    (run.task, run.prompt, run.fov) = (task, prompt, fov);
    // The folder takes the painter: "Paint everything" and live painting stop.
    let run = {
        super::camera::stop_live(page);
        super::everything::stop(page, "stopped");
        let Some(run) = page.folder.as_mut() else { return };
        run
    };
    (run.at, run.running, run.painted, run.done) = (0, true, 0, None);
    run.zip = Some(studio::Zip::default());
    let count = run.files.len();
    read(run, 0);
    let progress: HtmlProgressElement = element(&page.document, "folder-progress");
    progress.set_max(count as f64);
    progress.set_value(0.0);
    progress.set_hidden(false);
    element::<HtmlElement>(&page.document, "folder-cancel").set_hidden(false);
    element::<HtmlElement>(&page.document, "folder-download").set_hidden(true);
    let _ = element::<HtmlElement>(&page.document, "folder-start").set_attribute("disabled", "");
    for i in 0..count {
        set_row(page, i, "waiting", "waiting");
    }
    set_run_state(page, "running");
}

/// Reads photo `i`, has the browser decode it (for the exports that need its colours) and
/// queues it for the worker.
/// Called with the page borrowed: it is borrowed again only once the file is read.
fn read(run: &Run, i: usize) {
    let Some(file) = run.files.get(i).cloned() else { return };
    let weak = run.page.clone();
    wasm_bindgen_futures::spawn_local(async move {
        let bytes = super::photo::file_bytes(file).await;
        let bitmap = match &bytes {
            Ok(bytes) => decode(bytes).await.ok(),
            Err(_) => None,
        };
        let Some(shared) = weak.upgrade() else { return };
        let mut page = shared.borrow_mut();
        let current = page.folder.as_ref().is_some_and(|run| run.running && run.at == i);
        if !current {
            if let Some(bitmap) = bitmap {
                bitmap.close();
            }
            return;
        }
        match bytes {
            Ok(bytes) => {
                let (count, name) = page.folder.as_ref().map_or((0, String::new()), |run| (run.files.len(), run.files[i].name()));
                if let Some(run) = page.folder.as_mut() {
                    run.bitmap = bitmap;
                }
                set_row(&page, i, "painting", "painting…");
                line(&page, &format!("Painting photo {} of {count}: {name}", i + 1));
                page.queue(Pending::Elsewhere { bytes }, Purpose::Folder(i));
                page.paint_next();
            }
            Err(e) => {
                drop(bitmap);
                failed(&mut page, i, &format!("could not read the file: {e:?}"));
            }
        }
    });
}

/// The photo decoded by the browser, turned as an `<img>` shows it (as the photo on screen is).
async fn decode(bytes: &[u8]) -> Result<ImageBitmap, JsValue> {
    let array = js_sys::Uint8Array::from(bytes);
    let blob = web_sys::Blob::new_with_u8_array_sequence(&js_sys::Array::of1(&array))?;
    let options = web_sys::ImageBitmapOptions::new();
    options.set_image_orientation(web_sys::ImageOrientation::FromImage);
    let promise = web_sys::window().ok_or("no window")?.create_image_bitmap_with_blob_and_image_bitmap_options(&blob, &options)?;
    JsFuture::from(promise).await?.dyn_into()
}

/// The prompt the folder's photos are painted with.
pub(super) fn prompt(page: &Page) -> String {
    page.folder.as_ref().map(|run| run.prompt.clone()).unwrap_or_default()
}

/// Photo `i` was painted: its files (every export the Downloads tab offers for it) go into the
/// zip, its decoded copy is closed, and the next photo is read.
pub(super) fn painted(page: &mut Page, i: usize, reply: &Reply) {
    let Some(mut run) = page.folder.take() else { return };
    if !run.running || run.at != i {
        page.folder = Some(run);
        return;
    }
    let (w, h) = (reply.width, reply.height);
    let values = Values::from_decoded(&reply.decoded);
    let source = exports::Source { task: reply.task, width: w, height: h, values: &values, rgb: &reply.visualization, fov: run.fov };
    let bitmap = run.bitmap.take();
    let document = page.document.clone();
    let photo = || match &bitmap {
        Some(bitmap) => exports::bitmap_rgb(&document, bitmap, w, h),
        None => Err("the browser could not decode this photo".into()),
    };
    let (mut files, mut problems) = (0, Vec::new());
    for kind in exports::kinds(&values) {
        let built = exports::build(&source, kind, photo).and_then(|(bytes, name, ..)| {
            let zip = run.zip.as_mut().ok_or("the zip is closed")?;
            zip.add(&format!("{}/{name}", run.folders[i]), &bytes)
        });
        match built {
            Ok(()) => files += 1,
            Err(e) => problems.push(e),
        }
    }
    if let Some(bitmap) = bitmap {
        bitmap.close();
    }
    run.painted += 1;
    let note = match problems.first() {
        None => format!("{files} files, {:.0} ms", reply.millis),
        Some(first) => format!("{files} files; {} left out ({first})", problems.len()),
    };
    page.folder = Some(run);
    set_row(page, i, "done", &note);
    next(page, i + 1);
}

/// Photo `i` could not be painted: its row says why, and the run goes on.
pub(super) fn failed(page: &mut Page, i: usize, message: &str) {
    let Some(run) = page.folder.as_mut() else { return };
    if !run.running || run.at != i {
        return;
    }
    if let Some(bitmap) = run.bitmap.take() {
        bitmap.close();
    }
    set_row(page, i, "failed", &format!("failed: {message}"));
    next(page, i + 1);
}

fn next(page: &mut Page, i: usize) {
    let Some(run) = page.folder.as_mut() else { return };
    element::<HtmlProgressElement>(&page.document, "folder-progress").set_value(i as f64);
    if i < run.files.len() {
        run.at = i;
        return read(run, i);
    }
    finish(page, None);
}

/// Ends the run (all painted, or `cancelled` with why) and offers the zip of what was painted.
fn finish(page: &mut Page, cancelled: Option<&str>) {
    let Some(run) = page.folder.as_mut() else { return };
    run.running = false;
    if let Some(bitmap) = run.bitmap.take() {
        bitmap.close();
    }
    let (painted, count, at) = (run.painted, run.files.len(), run.at);
    let zipped = run.zip.take().map(studio::Zip::finish);
    let size = match zipped {
        Some(Ok(bytes)) => {
            let size = bytes.len();
            run.done = Some(bytes);
            size
        }
        Some(Err(e)) => return line(page, &format!("Could not write the zip: {e}")),
        None => 0,
    };
    element::<HtmlElement>(&page.document, "folder-cancel").set_hidden(true);
    let _ = element::<HtmlElement>(&page.document, "folder-start").remove_attribute("disabled");
    let download: HtmlElement = element(&page.document, "folder-download");
    download.set_text_content(Some(&format!("Download the zip ({painted} paintings, {:.1} MB)", size as f64 / 1e6)));
    download.set_hidden(painted == 0);
    match cancelled {
        None => {
            set_run_state(page, "done");
            line(page, &format!("Painted {painted} of {count} photos."));
        }
        Some(why) => {
            for i in at..count {
                set_row(page, i, "stopped", &why.to_lowercase());
            }
            set_run_state(page, "cancelled");
            line(page, &format!("{why} after {painted} of {count} photos; the zip holds those."));
        }
    }
}

/// Ends a run that is going on (the worker stopped, or the person painted something else).
pub(super) fn stop(page: &mut Page, why: &str) {
    if page.folder.as_ref().is_some_and(|run| run.running) {
        finish(page, Some(why));
    }
}

/// Wires the inputs, the buttons and the drop zone's several-photo drop; call once at start-up.
pub(super) fn wire(page: &Shared) {
    let document = page.borrow().document.clone();
    for id in ["folder-files", "folder-dir"] {
        let input: HtmlInputElement = element(&document, id);
        let (on_input, chosen) = (page.clone(), input.clone());
        listen::<Event>(&input, "change", move |_| {
            if let Some(files) = chosen.files() {
                choose(&on_input, &files);
            }
            // Choosing the same photos again fires `change` again.
            chosen.set_value("");
        });
    }
    // Several photos dropped on the drop zone (one opens as the photo, in `photo`).
    let on_drop = page.clone();
    listen::<DragEvent>(&element::<HtmlElement>(&document, "drop-zone"), "drop", move |event| {
        if let Some(files) = event.data_transfer().and_then(|t| t.files()).filter(|files| files.length() > 1) {
            choose(&on_drop, &files);
        }
    });
    let on_start = page.clone();
    listen::<Event>(&element::<HtmlElement>(&document, "folder-start"), "click", move |_| start(&mut on_start.borrow_mut()));
    let on_cancel = page.clone();
    listen::<Event>(&element::<HtmlElement>(&document, "folder-cancel"), "click", move |_| {
        let (painting_it, backend) = {
            let p = on_cancel.borrow();
            (p.busy && matches!(p.in_flight, Purpose::Folder(_)), p.backend)
        };
        if painting_it {
            // As the page's own Cancel: the paint in flight stops with its worker.
            let notice = ("Folder cancelled. The zip holds the photos painted before.".to_string(), false);
            replace_worker(&on_cancel, backend, "Cancelling: stopping the worker and loading the model again…", notice);
        } else {
            stop(&mut on_cancel.borrow_mut(), "Cancelled");
        }
    });
    let on_download = page.clone();
    listen::<Event>(&element::<HtmlElement>(&document, "folder-download"), "click", move |_| {
        let page = on_download.borrow();
        let Some((bytes, task)) = page.folder.as_ref().and_then(|run| Some((run.done.as_ref()?, run.task?))) else {
            return page.set_status("Paint a folder first.", true);
        };
        let name = format!("peel-folder-{task}.zip");
        match exports::download(&page.document, bytes, &name, "application/zip") {
            Ok(()) => page.set_status(&format!("Saved {name}."), false),
            Err(e) => page.set_status(&format!("Could not save {name}: {e:?}"), true),
        }
    });
}
