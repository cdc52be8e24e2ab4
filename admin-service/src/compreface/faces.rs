//! Re-embedding CompreFace's faces: each stored photo goes through core-service, and the face is
//! stored with the photo and the box core-service found under CompreFace's id.
//!
//! Faces are read from CompreFace in id order, a page at a time; the page's faces already stored
//! in ours are skipped, the others go through core-service a few at a time
//! ([`CONCURRENCY`]: core runs several inferences at once and queues the rest). Each face is one
//! transaction of ours, so a run stopped anywhere leaves whole faces only, and the next run
//! re-embeds exactly those that are missing.
//!
//! core-service is asked as `/migrate` asks it: `face_plugins=calculator`, the largest face
//! (`limit=1`), its embedding normalised. A 400 answer (no face, an unreadable photo) leaves the
//! face out, counted and named in the summary; any other failure of core-service (unreachable,
//! 5xx) ends the import, to be run again.

use std::sync::Arc;
use std::time::{Duration, Instant};

use std::io::IsTerminal;
use tokio::task::JoinSet;
use uuid::Uuid;
use visage_common::error::ErrorBody;
use visage_common::face::{CoreStatus, FindFacesResponse};
use visage_common::similarity::l2_normalized;
use visage_store::compreface::{CompreFace, ImportFace, SourceFace};
use visage_store::{FaceBox, Store};

use super::plan::Plan;
use super::summary::{FaceCounts, SkipReason, SkippedFace};
use super::{cause, chain, ImportError};

/// Photos in core-service at once.
const CONCURRENCY: usize = 4;
/// Faces read from CompreFace at a time.
const PAGE: i64 = 256;
/// Faces left out that the summary names one by one, for each reason; the counts are complete.
const NAMED: usize = 100;

/// A client of core-service for the import.
#[derive(Debug, Clone)]
pub struct Core {
    http: reqwest::Client,
    base_url: String,
}

/// What core-service made of a photo.
enum Embedded {
    Face {
        embedding: Vec<f32>,
        calculator: String,
        /// Where the face is in the photo.
        face_box: Option<FaceBox>,
    },
    /// A 400: no face, or a photo it cannot read; why.
    NoFace(String),
}

impl Core {
    pub fn new(base_url: &str) -> Result<Self, ImportError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .build()
            .map_err(|e| ImportError::Core(format!("cannot make an HTTP client: {e}")))?;
        Ok(Self { http, base_url: base_url.trim_end_matches('/').to_string() })
    }

    /// core-service's `/status`: that it answers, and its embedder.
    pub async fn status(&self) -> Result<CoreStatus, ImportError> {
        let url = format!("{}/status", self.base_url);
        let failed = |why: String| {
            ImportError::Core(format!(
                "core-service does not answer at {url} ({why}): start it, or give its URL with --core"
            ))
        };
        let response = self.http.get(&url).send().await.map_err(|e| failed(chain(&e)))?;
        if !response.status().is_success() {
            return Err(failed(format!("status {}", response.status())));
        }
        response.json().await.map_err(|e| failed(format!("an answer that is no core-service status: {e}")))
    }

    async fn embed(&self, image: Vec<u8>, image_id: Uuid) -> Result<Embedded, ImportError> {
        let url = format!("{}/find_faces", self.base_url);
        let form = reqwest::multipart::Form::new()
            .part("file", reqwest::multipart::Part::bytes(image).file_name(image_id.to_string()))
            .text("limit", "1")
            .text("face_plugins", "calculator");
        let failed = |why: String| {
            ImportError::Core(format!(
                "core-service failed on the photo of face {image_id} ({why}); the faces imported so far stay: \
                 run the import again to go on"
            ))
        };
        let response = self.http.post(&url).multipart(form).send().await.map_err(|e| failed(chain(&e)))?;
        match response.status().as_u16() {
            200 => {}
            400 => {
                let body = response.bytes().await.unwrap_or_default();
                let why = serde_json::from_slice::<ErrorBody>(&body)
                    .map(|e| e.message)
                    .unwrap_or_else(|_| "No face is found in the given image".to_string());
                return Ok(Embedded::NoFace(why));
            }
            status => return Err(failed(format!("status {status}"))),
        }
        let found: FindFacesResponse =
            response.json().await.map_err(|e| failed(format!("an unreadable answer: {e}")))?;
        let face = found.result.first();
        let embedding = face.and_then(|f| f.embedding.as_deref()).and_then(l2_normalized);
        let face_box = face.and_then(|f| FaceBox::new(f.bbox.x_min, f.bbox.y_min, f.bbox.x_max, f.bbox.y_max));
        match (embedding, found.plugins_versions.get("calculator")) {
            (Some(embedding), Some(calculator)) => {
                Ok(Embedded::Face { embedding, calculator: calculator.clone(), face_box })
            }
            (None, _) if found.result.is_empty() => Ok(Embedded::NoFace("No face is found in the given image".into())),
            _ => Err(failed("no embedding in its answer".to_string())),
        }
    }
}

/// The outcome of one face.
enum Outcome {
    Imported,
    /// Stored meanwhile, or its subject is not in ours (added to CompreFace after the accounts
    /// were read, or deleted from ours since).
    NotStored,
    NoFace(String),
}

/// Re-embeds and stores every face of CompreFace that ours lacks, at most `max_faces` of them.
/// Returns the counts, and the first faces left out with the reason.
pub async fn import_faces(
    source: &CompreFace,
    store: &Store,
    core: &Core,
    plan: &Plan,
    max_faces: Option<u64>,
) -> Result<(FaceCounts, Vec<SkippedFace>), ImportError> {
    let totals = source.face_counts().await.map_err(|e| read_error(&e))?;
    let mut counts = FaceCounts { in_compreface: totals.total, ..FaceCounts::default() };
    let mut skipped = Vec::new();
    let mut progress = Progress::new(totals.total - totals.without_image);
    let mut attempts_left = max_faces.unwrap_or(u64::MAX);
    let core = Arc::new(core.clone());
    let mut after = None;
    loop {
        let page = source.faces_after(after, PAGE).await.map_err(|e| read_error(&e))?;
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        let ids: Vec<Uuid> = page.iter().map(|f| f.id).collect();
        let present = store.existing_face_ids(&ids).await.map_err(|e| write_error(&e))?;
        let mut tasks = JoinSet::new();
        let mut queue = Vec::new();
        for face in page {
            if face.img_id.is_none() {
                counts.without_image += 1;
                note(&mut skipped, named(plan, face, SkipReason::NoImage));
            } else if present.contains(&face.id) {
                counts.already_imported += 1;
                progress.done += 1;
            } else if attempts_left == 0 {
                counts.left += 1;
                progress.done += 1;
            } else {
                attempts_left -= 1;
                queue.push(face);
            }
        }
        let mut queue = queue.into_iter();
        loop {
            while tasks.len() < CONCURRENCY {
                let Some(face) = queue.next() else { break };
                let (source, store, core) = (source.clone(), store.clone(), Arc::clone(&core));
                tasks.spawn(async move { (face, import_face(&source, &store, &core, face).await) });
            }
            let Some(joined) = tasks.join_next().await else { break };
            let (face, outcome) =
                joined.map_err(|e| ImportError::Core(format!("re-embedding a face failed unexpectedly: {e}")))?;
            progress.done += 1;
            match outcome? {
                Outcome::Imported => counts.imported += 1,
                Outcome::NotStored => {
                    counts.without_subject += 1;
                    note(&mut skipped, named(plan, face, SkipReason::NoSubject));
                }
                Outcome::NoFace(why) => {
                    counts.without_face += 1;
                    note(&mut skipped, named(plan, face, SkipReason::NoFace(why)));
                }
            }
            progress.counts = counts;
            progress.show(false);
        }
        progress.counts = counts;
        progress.show(false);
    }
    progress.counts = counts;
    progress.show(true);
    progress.finish();
    skipped.sort_by_key(|s| s.reason.rank());
    Ok((counts, skipped))
}

async fn import_face(
    source: &CompreFace,
    store: &Store,
    core: &Core,
    face: SourceFace,
) -> Result<Outcome, ImportError> {
    let Some(img_id) = face.img_id else { return Ok(Outcome::NotStored) };
    let Some(image) = source.image(img_id).await.map_err(|e| read_error(&e))? else {
        return Ok(Outcome::NoFace("its photo is gone from CompreFace's database".to_string()));
    };
    let (embedding, calculator, face_box) = match core.embed(image.clone(), face.id).await? {
        Embedded::Face { embedding, calculator, face_box } => (embedding, calculator, face_box),
        Embedded::NoFace(why) => return Ok(Outcome::NoFace(why)),
    };
    let new = ImportFace {
        id: face.id,
        subject_id: face.subject_id,
        embedding: &embedding,
        calculator: &calculator,
        image: &image,
        face_box,
    };
    match store.import_compreface_face(new).await.map_err(|e| write_error(&e))? {
        true => Ok(Outcome::Imported),
        false => Ok(Outcome::NotStored),
    }
}

/// Keeps the first [`NAMED`] faces left out for each reason.
fn note(skipped: &mut Vec<SkippedFace>, face: SkippedFace) {
    if skipped.iter().filter(|s| s.reason.rank() == face.reason.rank()).count() < NAMED {
        skipped.push(face);
    }
}

fn named(plan: &Plan, face: SourceFace, reason: SkipReason) -> SkippedFace {
    let (subject, service) = plan.subjects.get(&face.subject_id).cloned().unwrap_or_default();
    SkippedFace { image_id: face.id, subject, service, reason }
}

fn read_error(e: &visage_store::StoreError) -> ImportError {
    ImportError::Source(format!("reading CompreFace's faces failed: {}", cause(e)))
}

fn write_error(e: &visage_store::StoreError) -> ImportError {
    ImportError::Target(format!("Visage's database failed while importing the faces: {}", cause(e)))
}

/// One line on standard error: rewritten in place on a terminal, else a line every few seconds.
struct Progress {
    total: u64,
    done: u64,
    counts: FaceCounts,
    started: Instant,
    shown: Option<Instant>,
    /// The counts last shown.
    last: Option<(u64, FaceCounts)>,
    terminal: bool,
}

impl Progress {
    fn new(total: u64) -> Self {
        Self {
            total,
            done: 0,
            counts: FaceCounts::default(),
            started: Instant::now(),
            shown: None,
            last: None,
            terminal: std::io::stderr().is_terminal(),
        }
    }

    fn show(&mut self, always: bool) {
        let every = if self.terminal { Duration::from_millis(250) } else { Duration::from_secs(10) };
        let now = (self.done, self.counts);
        if self.last == Some(now) || (!always && self.shown.is_some_and(|at| at.elapsed() < every)) {
            return;
        }
        self.shown = Some(Instant::now());
        self.last = Some(now);
        let percent = (self.done * 100).checked_div(self.total).unwrap_or(100);
        let seconds = self.started.elapsed().as_secs_f64();
        let c = &self.counts;
        let line = format!(
            "faces with a photo: {}/{} ({percent}%): {} imported, {} imported before, {} without a face, {} left \
             [{:.1}/s]",
            self.done,
            self.total,
            c.imported,
            c.already_imported,
            c.without_face,
            c.left,
            if seconds > 0.0 { (c.imported + c.without_face) as f64 / seconds } else { 0.0 },
        );
        if self.terminal {
            eprint!("\r{line}\x1b[K");
        } else {
            eprintln!("{line}");
        }
    }

    fn finish(&self) {
        if self.terminal {
            eprintln!();
        }
    }
}
