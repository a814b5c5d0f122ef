//! The model files: fetched with a byte count for the page's progress bar, and kept in the Cache
//! API under their SHA-256, so a later visit (or an offline one) loads them without the network.

use super::{WEIGHTS_CACHE, now_ms, post, scope};
use peel_messages::FromWorker;
use std::cell::Cell;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::Response;

/// A successful (2xx) response for `url`.
async fn fetch_ok(url: &str) -> Result<Response, String> {
    let response: Response = JsFuture::from(scope().fetch_with_str(url))
        .await
        .map_err(|e| format!("could not fetch {url}: {e:?}"))?
        .unchecked_into();
    if !response.ok() {
        return Err(format!("could not fetch {url}: HTTP {}", response.status()));
    }
    Ok(response)
}

pub(super) async fn fetch_bytes(url: &str) -> Result<Vec<u8>, String> {
    response_bytes(&fetch_ok(url).await?, url).await
}

async fn response_bytes(response: &Response, url: &str) -> Result<Vec<u8>, String> {
    let buffer = response.array_buffer().map_err(|e| format!("{e:?}"))?;
    let buffer = JsFuture::from(buffer).await.map_err(|e| format!("could not read {url}: {e:?}"))?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

/// The model files' download, counted in (decoded) bytes for the page's progress bar.
pub(super) struct Download {
    received: Cell<u64>,
    /// From the manifest's file sizes, where it gives them.
    total: Option<u64>,
    last_report_ms: Cell<f64>,
    /// A download behind a painting on screen: nothing to report.
    quiet: bool,
}

impl Download {
    pub(super) fn new(total: Option<u64>) -> Self {
        Self { received: Cell::new(0), total, last_report_ms: Cell::new(f64::NEG_INFINITY), quiet: false }
    }

    pub(super) fn quiet() -> Self {
        Self { quiet: true, ..Self::new(None) }
    }

    /// Counts `bytes` more and tells the page, at most every 100 ms (and always at the end).
    pub(super) fn add(&self, bytes: u64) {
        self.received.set(self.received.get() + bytes);
        if self.quiet {
            return;
        }
        let (now, received) = (now_ms(), self.received.get());
        let done = self.total.is_some_and(|t| received >= t);
        if now - self.last_report_ms.get() < 100.0 && !done {
            return;
        }
        self.last_report_ms.set(now);
        let mb = |b: u64| b as f64 / 1e6;
        let (text, fraction) = match self.total.filter(|&t| t > 0) {
            Some(total) => {
                let fraction = (received as f64 / total as f64).min(1.0);
                (format!("Downloading the model: {:.1} of {:.1} MB ({:.0} %)…", mb(received), mb(total), fraction * 100.0), Some(fraction as f32))
            }
            None => (format!("Downloading the model: {:.1} MB…", mb(received)), None),
        };
        post(&FromWorker::Progress { text, fraction });
    }
}

/// Like [`response_bytes`], reading the body chunk by chunk so `download` can count it.
async fn counted_bytes(response: &Response, url: &str, download: &Download) -> Result<Vec<u8>, String> {
    // The stream API through `js_sys` (see `call`): no new web-sys features for the worker.
    let body = js_sys::Reflect::get(response, &"body".into()).ok().filter(|b| !b.is_null() && !b.is_undefined());
    let Some(body) = body else {
        let bytes = response_bytes(response, url).await?;
        download.add(bytes.len() as u64);
        return Ok(bytes);
    };
    let reader = call(&body, "getReader", &[]).await.map_err(|e| format!("could not read {url}: {e:?}"))?;
    let mut bytes = Vec::new();
    loop {
        let chunk = call(&reader, "read", &[]).await.map_err(|e| format!("could not read {url}: {e:?}"))?;
        if js_sys::Reflect::get(&chunk, &"done".into()).ok().and_then(|d| d.as_bool()).unwrap_or(true) {
            return Ok(bytes);
        }
        let value = js_sys::Reflect::get(&chunk, &"value".into()).map_err(|e| format!("could not read {url}: {e:?}"))?;
        let value = js_sys::Uint8Array::new(&value);
        let start = bytes.len();
        bytes.resize(start + value.length() as usize, 0);
        value.copy_to(&mut bytes[start..]);
        download.add(u64::from(value.length()));
    }
}

/// Calls `target.method(...args)` and awaits the promise it returns (the Cache API through
/// `js_sys`, so that web-sys needs no new features: a change there recompiles wgpu and Burn).
pub(super) async fn call(target: &JsValue, method: &str, args: &[&JsValue]) -> Result<JsValue, JsValue> {
    let function: js_sys::Function = js_sys::Reflect::get(target, &method.into())?.dyn_into()?;
    let result = function.apply(target, &args.iter().copied().collect::<js_sys::Array>())?;
    JsFuture::from(js_sys::Promise::resolve(&result)).await
}

/// The weights cache (Cache API), where the browser offers one.
pub(super) async fn weights_cache() -> Option<JsValue> {
    let caches = js_sys::Reflect::get(&js_sys::global(), &"caches".into()).ok().filter(|c| !c.is_undefined())?;
    call(&caches, "open", &[&JsValue::from(WEIGHTS_CACHE)]).await.ok()
}

/// A model file, keyed in the cache by the SHA-256 the manifest gives it: a cached copy is
/// current exactly when the manifest still names that hash. A cached copy whose bytes do not
/// hash to its key (a damaged or tampered cache) is dropped and the file downloaded again, so
/// the cache can never leave the page stuck on "corrupt". Returns the bytes and whether they
/// came from the cache.
pub(super) async fn fetch_model_file(cache: Option<&JsValue>, file: &str, sha256: &str, download: &Download) -> Result<(Vec<u8>, bool), String> {
    if let Some(cache) = cache
        && let Some(bytes) = cached_model_file(cache, file, sha256).await
    {
        download.add(bytes.len() as u64);
        return Ok((bytes, true));
    }
    let url = format!("weights/{file}");
    Ok((counted_bytes(&fetch_ok(&url).await?, &url, download).await?, false))
}

/// The cached copy of a model file, when it is there and hashes to its key (else it is dropped).
pub(super) async fn cached_model_file(cache: &JsValue, file: &str, sha256: &str) -> Option<Vec<u8>> {
    let key = JsValue::from(cache_key(file, sha256));
    let response = call(cache, "match", &[&key]).await.ok()?.dyn_into::<Response>().ok()?;
    let bytes = response_bytes(&response, &format!("weights/{file}")).await.ok()?;
    if peel_model::state::sha256_hex(&bytes) == sha256 {
        return Some(bytes);
    }
    web_sys::console::warn_1(&format!("peel worker: the cached {file} does not match its hash; downloading it again").into());
    let _ = call(cache, "delete", &[&key]).await;
    None
}

fn cache_key(file: &str, sha256: &str) -> String {
    format!("weights/{file}?sha256={sha256}")
}

/// Keeps `bytes` (already checked against `sha256`) for the next visit, and drops the copies
/// of `file` kept under other hashes. Failures only cost the next visit a download.
pub(super) async fn keep(cache: &JsValue, file: &str, sha256: &str, bytes: &[u8]) {
    let mut copy = bytes.to_vec();
    let Ok(response) = Response::new_with_opt_u8_array(Some(&mut copy)) else { return };
    let response = JsValue::from(response);
    let key = cache_key(file, sha256);
    if call(cache, "put", &[&JsValue::from(key.as_str()), &response]).await.is_err() {
        return;
    }
    let Ok(keys) = call(cache, "keys", &[]).await else { return };
    for request in js_sys::Array::from(&keys).iter() {
        let url = js_sys::Reflect::get(&request, &"url".into()).ok().and_then(|u| u.as_string()).unwrap_or_default();
        if url.contains(&format!("weights/{file}?")) && !url.ends_with(&key) {
            let _ = call(cache, "delete", &[&request]).await;
        }
    }
}
