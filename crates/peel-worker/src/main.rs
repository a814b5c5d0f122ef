//! Entry point of the worker's wasm module (see [`worker`]); natively an empty shell.

#[cfg(target_arch = "wasm32")]
mod worker;

fn main() {
    #[cfg(target_arch = "wasm32")]
    worker::start();
}
