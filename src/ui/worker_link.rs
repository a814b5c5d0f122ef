//! The page's link to its model worker: it owns the `Worker` and the listeners on it, so that
//! replacing the worker (cancel, retry, crash) removes them and terminates the worker. Nothing is
//! left listening to a dead worker, so its late events cannot reach the page either.

use gloo_events::EventListener;
use std::cell::Cell;
use wasm_bindgen::prelude::*;
use web_sys::{ErrorEvent, MessageEvent, Worker, WorkerOptions};

thread_local! {
    /// Links alive now. Shown as `<body data-worker-links>`, so that the browser test sees a link
    /// (and its listeners) that outlives its replacement.
    static LIVE: Cell<u32> = const { Cell::new(0) };
}

pub(super) struct WorkerLink {
    worker: Worker,
    /// Removed from the worker when dropped.
    _listeners: [EventListener; 3],
}

impl WorkerLink {
    /// Starts a worker. `on_message` gets each message's data; `on_error` why the worker failed
    /// (an `error` or `messageerror` event).
    pub(super) fn start(
        on_message: impl Fn(JsValue) + 'static,
        on_error: impl Fn(String) + 'static,
    ) -> Result<Self, JsValue> {
        let worker = Worker::new_with_options(&loader_url()?, &WorkerOptions::new())?;
        let on_error = std::rc::Rc::new(on_error);
        let error_listener = |kind: &'static str| {
            let on_error = on_error.clone();
            EventListener::new(&worker, kind, move |event| {
                let why = event
                    .dyn_ref::<ErrorEvent>()
                    .map(|e| e.message())
                    .filter(|m| !m.is_empty());
                on_error(why.unwrap_or_else(|| format!("{kind} event")));
            })
        };
        let listeners = [
            EventListener::new(&worker, "message", move |event| {
                if let Some(event) = event.dyn_ref::<MessageEvent>() {
                    on_message(event.data());
                }
            }),
            error_listener("error"),
            error_listener("messageerror"),
        ];
        count(1);
        Ok(Self {
            worker,
            _listeners: listeners,
        })
    }

    pub(super) fn worker(&self) -> &Worker {
        &self.worker
    }
}

impl Drop for WorkerLink {
    fn drop(&mut self) {
        // The listeners are removed by their own Drop, after this.
        self.worker.terminate();
        count(-1);
    }
}

fn count(change: i32) {
    let live = LIVE.with(|live| {
        live.set(live.get().saturating_add_signed(change));
        live.get()
    });
    if let Some(body) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.body())
    {
        let _ = body.set_attribute("data-worker-links", &live.to_string());
    }
}

/// static/worker-loader.js: reports the download of the worker's wasm in bytes, then starts it.
/// `?test_lose_device=1` is passed on: the loader then lets the recovery test destroy the GPU device.
fn loader_url() -> Result<String, JsValue> {
    let query = web_sys::UrlSearchParams::new_with_str(
        &web_sys::window().ok_or("no window")?.location().search()?,
    )?;
    Ok(match query.get("test_lose_device").as_deref() {
        Some("1") => "./worker-loader.js?test_lose_device=1",
        _ => "./worker-loader.js",
    }
    .into())
}
