//! core-service's own metrics, besides the request metrics every service records
//! ([`visage_http::metrics`]):
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `visage_inference_seconds` | histogram | `stage` (`detector` per image; `calculator`, `age`, `gender`, `landmarks2d106`, `pose`, `quality` per face), `model` |
//! | `visage_faces_per_request` | histogram | |
//! | `visage_inference_queue_length` | gauge | requests waiting for an inference worker |
//! | `visage_inference_workers_busy` | gauge | |
//! | `visage_inference_rejected` | counter | requests answered 503 because the queue was full |
//!
//! Stage times come from the answer's per-face `execution_time` (whole milliseconds).

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use visage_common::face::FindFacesResponse;
use visage_http::metrics::{latency_histogram, MetricsBuilder};

use crate::startup::AppState;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StageLabels {
    stage: String,
    model: String,
}

/// What core-service records itself.
#[derive(Clone)]
pub struct CoreMetrics {
    stages: Family<StageLabels, Histogram, fn() -> Histogram>,
    faces: Histogram,
    pub rejected: Counter,
}

impl CoreMetrics {
    pub fn register(builder: &mut MetricsBuilder) -> Self {
        let metrics = Self {
            stages: Family::new_with_constructor(latency_histogram as fn() -> Histogram),
            faces: Histogram::new([0.0, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0]),
            rejected: Counter::default(),
        };
        let registry = builder.registry();
        registry.register("inference_seconds", "Inference time by stage and model", metrics.stages.clone());
        registry.register("faces_per_request", "Faces found per image", metrics.faces.clone());
        registry.register(
            "inference_rejected",
            "Requests refused because the inference queue was full",
            metrics.rejected.clone(),
        );
        metrics
    }

    /// Gauges of the inference queue, read from `state` at each scrape.
    pub fn watch_queue(builder: &mut MetricsBuilder, state: &Arc<AppState>) {
        let (queued, busy): (Gauge, Gauge) = (Gauge::default(), Gauge::default());
        builder.registry().register(
            "inference_queue_length",
            "Requests waiting for an inference worker",
            queued.clone(),
        );
        builder.registry().register("inference_workers_busy", "Inference workers running a request", busy.clone());
        let state = Arc::downgrade(state);
        builder.on_scrape(move || {
            if let Some(state) = state.upgrade() {
                queued.set(state.queued.load(std::sync::atomic::Ordering::Relaxed) as i64);
                busy.set(state.config.workers.saturating_sub(state.workers.available_permits()) as i64);
            }
        });
    }

    /// Records one answered image: its faces, and each stage's time under the model that ran it.
    pub fn record(&self, answer: &FindFacesResponse) {
        self.faces.observe(answer.result.len() as f64);
        let mut detector_ms = 0;
        for face in &answer.result {
            for (stage, ms) in face.execution_time.iter().flatten() {
                if stage == "detector" {
                    detector_ms += ms;
                } else {
                    self.observe(stage, answer, *ms);
                }
            }
        }
        if !answer.result.is_empty() {
            self.observe("detector", answer, detector_ms);
        }
    }

    /// Records an image without a face.
    pub fn record_no_face(&self) {
        self.faces.observe(0.0);
    }

    fn observe(&self, stage: &str, answer: &FindFacesResponse, ms: u64) {
        let model = answer.plugins_versions.get(stage).cloned().unwrap_or_default();
        self.stages.get_or_create(&StageLabels { stage: stage.to_string(), model }).observe(ms as f64 / 1000.0);
    }
}
