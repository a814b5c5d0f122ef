//! Entry point of the worker's wasm module (see [`worker`]); natively an empty shell.

#[cfg(target_arch = "wasm32")]
mod worker;

#[cfg(target_arch = "wasm32")]
unsafe extern "C" {
    /// Synthesized by the linker: runs the static constructors (cubecl registers IR passes in some).
    fn __wasm_call_ctors();
}

/// Runs the constructors once, then starts the worker. Calling them here is what keeps them to
/// once: in a module that never calls them itself, wasm-ld wraps every export so that each call
/// from JavaScript runs them all again, and JavaScript calls in for every value handed across
/// (0.24 ms a call here; 40 ms to send one painting back to the page).
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
fn start() {
    // SAFETY: called once, first, before anything that relies on what the constructors set up.
    unsafe { __wasm_call_ctors() };
    worker::start();
}
