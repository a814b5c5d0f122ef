//! Offline use: registers the service worker (`static/sw.js`) that keeps the page on this device,
//! and says in the footer whether it did. The page sets `data-offline` on `<body>` to `ready` or
//! `unavailable` (the browser tests wait for it).

use super::element;
use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Document, HtmlElement, Window};

pub(super) fn register(window: &Window, document: &Document) {
    let line: HtmlElement = element(document, "offline-line");
    let body = document.body();
    let say = move |state: &str, text: &str| {
        line.set_text_content(Some(text));
        if let Some(body) = &body {
            let _ = body.set_attribute("data-offline", state);
        }
    };
    // Through Reflect: `Navigator`/`ServiceWorkerContainer` bindings would add web-sys features for one call.
    let container = Reflect::get(window, &"navigator".into()).and_then(|n| Reflect::get(&n, &"serviceWorker".into()));
    let container = match container {
        Ok(c) if !c.is_undefined() && !c.is_null() => c,
        _ => {
            say("unavailable", "This browser cannot keep the page for offline use here (no service workers; a private window or a page not served over HTTPS?).");
            return;
        }
    };
    let registered = Reflect::get(&container, &"register".into())
        .and_then(|f| f.dyn_into::<Function>())
        .and_then(|register| register.call1(&container, &"sw.js".into()))
        .and_then(|p| p.dyn_into::<Promise>());
    wasm_bindgen_futures::spawn_local(async move {
        let ready = async {
            JsFuture::from(registered?).await?;
            // Resolves once the worker is active, that is after it has kept the app's files.
            let ready = Reflect::get(&container, &"ready".into())?.dyn_into::<Promise>()?;
            JsFuture::from(ready).await
        };
        match ready.await {
            Ok(_) => say("ready", "This page and its model are kept on this device, so it also works offline."),
            Err(e) => {
                let reason = Reflect::get(&e, &"message".into()).ok().and_then(|m| m.as_string()).unwrap_or_else(|| format!("{e:?}"));
                say("unavailable", &format!("It could not be kept for offline use: {reason}"));
            }
        }
    });
}
