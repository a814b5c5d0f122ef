//! Where one paint's time goes on the page: from sending the request to the result drawn. The
//! worker times its own stages (`StageTimings`); this adds what it cannot see (the messages both
//! ways, reading the reply, drawing, the summary and the views), as `page_timings` in the result
//! JSON, which `scripts/bench.sh` tabulates.

use crate::StageTimings;

/// Milliseconds on the page's clock (`performance.now`).
pub(super) fn now() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map_or(0.0, |p| p.now())
}

/// Milliseconds since the epoch, comparable with the worker's (`performance.timeOrigin + now`).
fn epoch_now() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map_or(0.0, |p| p.time_origin() + p.now())
}

/// The stages of one paint, in order, each in milliseconds.
pub(super) struct PaintClock {
    started: f64,
    last: f64,
    /// When the request was handed to the worker, and when the reply arrived (epoch ms).
    posted_at: f64,
    arrived_at: f64,
    stages: Vec<(&'static str, f64)>,
}

impl PaintClock {
    /// Starts timing a paint (just before its request is built).
    pub(super) fn start() -> Self {
        let started = now();
        Self { started, last: started, posted_at: 0.0, arrived_at: 0.0, stages: Vec::new() }
    }

    /// The time since the last lap (or the start) was spent on `stage`.
    pub(super) fn lap(&mut self, stage: &'static str) {
        let t = now();
        self.stages.push((stage, t - self.last));
        self.last = t;
    }

    /// The request has been posted to the worker (`send_ms`: building and posting it).
    pub(super) fn posted(&mut self) {
        self.lap("send_ms");
        self.posted_at = epoch_now();
    }

    /// The worker's reply has just arrived, still unread. Everything since posting is the
    /// worker's: split below, once the reply says when the worker received and answered.
    pub(super) fn arrived(&mut self) {
        self.arrived_at = epoch_now();
        self.last = now();
    }

    /// Splits the time between posting and the reply's arrival with the worker's clock: the
    /// request's trip, the worker's own time, and the reply's trip (its serialisation and copy).
    pub(super) fn worker_replied(&mut self, timings: &StageTimings) {
        if timings.received_at_ms > 0.0 && timings.sent_at_ms >= timings.received_at_ms {
            self.stages.push(("to_worker_ms", timings.received_at_ms - self.posted_at));
            self.stages.push(("in_worker_ms", timings.sent_at_ms - timings.received_at_ms));
            self.stages.push(("from_worker_ms", self.arrived_at - timings.sent_at_ms));
        } else {
            self.stages.push(("worker_ms", self.arrived_at - self.posted_at));
        }
    }

    /// The stages and `total_ms` (from the start to now) as a JSON object.
    pub(super) fn finish(mut self) -> js_sys::Object {
        let total = now() - self.started;
        self.stages.push(("total_ms", total));
        let object = js_sys::Object::new();
        for (stage, ms) in self.stages {
            let _ = js_sys::Reflect::set(&object, &stage.into(), &((ms * 100.0).round() / 100.0).into());
        }
        object
    }
}
