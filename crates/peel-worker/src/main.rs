//! Entry point of the worker's wasm module (see `peel_web::worker`).

fn main() {
    #[cfg(target_arch = "wasm32")]
    peel_web::worker::start();
}
