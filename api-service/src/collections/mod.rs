//! The faces of the recognition services, in memory and searchable, kept equal to the database
//! across any number of api-service processes.
//!
//! # Loading
//! Every collection with faces is loaded at start-up, before the port opens
//! ([`Collections::preload`]); one made later is loaded on first use. Its rows (ids and raw
//! embedding bytes) stream from Postgres in batches that a blocking thread decodes and inserts
//! while the next ones arrive; the subjects' names are read once per subject. Requests for a
//! collection that is loading wait for it; a failed load is forgotten, so the next request tries
//! again.
//!
//! # Keeping current
//! Database triggers (`migrations/*_collection_notify.sql`) send what changed on channel
//! `visage_collections` from inside every writing transaction: the ids of faces or subjects,
//! or "reload" for large changes. Postgres delivers a notification when, and only if, its
//! transaction commits, whoever the writer is. Each process LISTENs on one connection
//! ([`listener`]) and hands the changes of every loaded collection to that collection's worker
//! task, which re-reads the named rows and applies the current state: applying a change twice,
//! late, or on top of a load that already saw it is harmless, and a failed write, which commits
//! nothing, changes nothing.
//!
//! After a write, the handler calls [`Collections::settle`]: a `sync` notification of its own,
//! sent after the commit and so delivered after the write's own notification, comes back
//! through the same worker, so the writer's next request sees its change. Other processes see
//! it as soon as their listener gets the notification (milliseconds).
//!
//! When the listening connection drops, notifications may have been missed. Every change the
//! triggers notify is also written to a change log (`collection_changes`) with its transaction's
//! id, and every few seconds each replica sends a `mark` carrying the oldest running transaction
//! (xmin): a mark is queued behind the notifications of every transaction below its xmin, so
//! the last mark received says "everything below this xmin was heard". After reconnecting, the
//! changes logged from that xmin on are applied again, as if notified (harmless for those that
//! were heard). Only without a mark (a connection lost in the first seconds), with a mark older
//! than the log's retention, or with more than [`MAX_CATCH_UP`] changes to read does the replica
//! reload every loaded collection, keeping the old copy searchable meanwhile.
//!
//! # Threads
//! Searches and updates hold the collection's lock on blocking threads (`spawn_blocking`): a
//! large collection is searched on every core, and the async runtime never waits for it.

mod index;
mod listener;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use parking_lot::{Mutex, RwLock};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::AbortHandle;
use uuid::Uuid;
use visage_common::{ApiError, ErrorCode};
use visage_index::Limit;
use visage_store::bulk::EmbeddingRow;
use visage_store::{Store, StoreError};

pub use index::{FaceDistances, FaceIndex, Match, SearchError};

/// The notification channel the triggers and [`Collections::settle`] send on.
pub use visage_store::changes::CHANNEL;
/// How often this replica sends a `mark`.
const MARK_EVERY: Duration = Duration::from_secs(5);
/// How long changes stay in the log, and how often the old ones are purged.
const LOG_RETENTION: Duration = Duration::from_secs(24 * 3600);
const PURGE_EVERY: Duration = Duration::from_secs(600);
/// A mark older than this (the log may have lost rows since) is not caught up from.
const CATCH_UP_WINDOW: Duration = Duration::from_secs(23 * 3600);
/// Past this many changes to read, reloading is simpler.
pub const MAX_CATCH_UP: i64 = 50_000;
/// Faces per batch while loading.
const LOAD_BATCH: usize = 8_192;
/// The longest a write waits for its change to reach this process's collection.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(5);
/// Collections loaded side by side at start-up (each load keeps a core busy decoding).
const PRELOAD_AT_ONCE: usize = 2;
/// Pause before reloading a collection whose update failed.
const RETRY_PAUSE: Duration = Duration::from_secs(1);

/// Every loaded collection of this process; cheap to clone.
#[derive(Clone)]
pub struct Collections {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Collections {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Collections").field("loaded", &self.inner.entries.lock().len()).finish()
    }
}

struct Inner {
    store: Store,
    /// Tells this process's `sync` notifications from other processes'.
    origin: Uuid,
    entries: Mutex<HashMap<Uuid, Arc<Entry>>>,
    syncs: Mutex<HashMap<u64, PendingSync>>,
    next_token: AtomicU64,
    /// The listener and the mark task.
    tasks: Mutex<Vec<AbortHandle>>,
    /// The xmin of the last mark heard, and when.
    heard: Mutex<Option<(String, Instant)>>,
    /// Seconds per search (`visage_search_seconds`).
    searches: Histogram,
    /// Lost connections recovered from the change log, and by reloading.
    catch_ups: Counter,
    reloads: Counter,
}

impl Drop for Inner {
    fn drop(&mut self) {
        for task in self.tasks.lock().drain(..) {
            task.abort();
        }
    }
}

/// A write waiting for its change to be applied here.
struct PendingSync {
    model: Uuid,
    done: oneshot::Sender<()>,
}

/// One service's collection and the queue of its worker.
struct Entry {
    index: Arc<RwLock<FaceIndex>>,
    state: watch::Receiver<LoadState>,
    changes: mpsc::UnboundedSender<Change>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LoadState {
    Loading,
    Ready,
    Failed,
}

/// What a collection's worker is told.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Change {
    /// Re-read these faces.
    Faces(Vec<Uuid>),
    /// Re-read the names of these subjects.
    Subjects(Vec<Uuid>),
    /// Re-read these subjects with all their faces.
    SubjectFaces(Vec<Uuid>),
    Reload,
    /// Every subject was deleted (marked for the purge): empty the collection without reading it.
    Clear,
    /// Everything before this is applied: release the write waiting on this token.
    Sync(u64),
}

impl Collections {
    /// Starts listening for changes; collections load later, on first use.
    pub async fn start(store: Store) -> Result<Self, StoreError> {
        let connection = listener::connect(&store).await?;
        let inner = Arc::new(Inner {
            store,
            origin: Uuid::new_v4(),
            entries: Mutex::new(HashMap::new()),
            syncs: Mutex::new(HashMap::new()),
            next_token: AtomicU64::new(0),
            tasks: Mutex::new(Vec::new()),
            heard: Mutex::new(None),
            searches: Histogram::new(exponential_buckets(0.0001, 2.0, 16)),
            catch_ups: Counter::default(),
            reloads: Counter::default(),
        });
        let listening = tokio::spawn(listener::run(Arc::downgrade(&inner), connection));
        let marking = tokio::spawn(mark(Arc::downgrade(&inner)));
        inner.tasks.lock().extend([listening.abort_handle(), marking.abort_handle()]);
        Ok(Self { inner })
    }

    /// Lost listening connections recovered from the change log, and by reloading every
    /// collection (`visage_collection_catch_ups_total`, `visage_collection_reloads_total`).
    pub fn recoveries(&self) -> (Counter, Counter) {
        (self.inner.catch_ups.clone(), self.inner.reloads.clone())
    }

    /// Loads every recognition collection that holds faces, [`PRELOAD_AT_ONCE`] at a time, and
    /// returns when all are ready: api-service opens its port only then, so a replica that
    /// starts (or restarts) takes requests once it answers them from memory, never while a large
    /// collection is still loading. Changes committed meanwhile are applied as usual (the
    /// listener runs already). A collection that fails to load is logged and left to load on
    /// first use, as before.
    pub async fn preload(&self) -> Result<(), StoreError> {
        let models = self.inner.store.collections_to_load().await?;
        let started = Instant::now();
        let count = models.len();
        futures::stream::iter(models)
            .for_each_concurrent(PRELOAD_AT_ONCE, |model| async move {
                if let Err(e) = self.loaded(model).await {
                    tracing::warn!(%model, error = %e.message, "collection not preloaded; it loads on first use");
                }
            })
            .await;
        let (_, faces, bytes) = self.stats();
        tracing::info!(
            collections = count,
            faces,
            megabytes = bytes >> 20,
            seconds = started.elapsed().as_secs_f32(),
            "collections preloaded"
        );
        Ok(())
    }

    /// The `limit` nearest stored faces to each query, nearest first; every face at or above
    /// cosine `guaranteed` that belongs among them is found. Refused (code 50) before any work
    /// when the answer would hold more than `max_matches` matches in all.
    pub async fn search(
        &self,
        model: Uuid,
        queries: Vec<Vec<f32>>,
        limit: Limit,
        guaranteed: f32,
        max_matches: usize,
    ) -> Result<Vec<Vec<Match>>, ApiError> {
        let index = self.loaded(model).await?;
        let size = index.read().len();
        crate::processing::check_matches(queries.len(), limit, size, max_matches)?;
        let started = Instant::now();
        let found = blocking(move || index.read().search(&queries, limit, Some(guaranteed))).await?;
        self.inner.searches.observe(started.elapsed().as_secs_f64());
        found.map_err(search_error)
    }

    /// The search time histogram, to register with the service's metrics.
    pub fn search_histogram(&self) -> Histogram {
        self.inner.searches.clone()
    }

    /// What is loaded in this process: `(collections, faces, bytes of their search structures)`.
    pub fn stats(&self) -> (usize, usize, usize) {
        let entries: Vec<Arc<Entry>> = self.inner.entries.lock().values().cloned().collect();
        let (mut faces, mut bytes) = (0, 0);
        for entry in &entries {
            let index = entry.index.read();
            faces += index.len();
            bytes += index.heap_bytes();
        }
        (entries.len(), faces, bytes)
    }

    /// The subject of stored face `image_id` and the distance from it to each query; `None` if
    /// the service has no such face.
    pub async fn verify(
        &self,
        model: Uuid,
        image_id: Uuid,
        queries: Vec<Vec<f32>>,
    ) -> Result<Option<(String, Vec<f32>)>, ApiError> {
        let index = self.loaded(model).await?;
        blocking(move || index.read().verify(image_id, &queries)).await?.transpose().map_err(search_error)
    }

    /// The distance from each query to each stored face of subject `subject` (its database id):
    /// `(image_id, distances in query order)` per face; `None` if the subject has no stored face.
    pub async fn verify_subject(
        &self,
        model: Uuid,
        subject: Uuid,
        queries: Vec<Vec<f32>>,
    ) -> Result<Option<Vec<FaceDistances>>, ApiError> {
        let index = self.loaded(model).await?;
        blocking(move || index.read().verify_subject(subject, &queries)).await?.transpose().map_err(search_error)
    }

    /// Waits until the changes this process committed for `model` so far are in its collection
    /// here (see the module documentation). Returns at once when the collection is not loaded:
    /// its load will read them. Gives up after a few seconds, logging why.
    pub async fn settle(&self, model: Uuid) {
        if !self.inner.entries.lock().contains_key(&model) {
            return;
        }
        let token = self.inner.next_token.fetch_add(1, Ordering::Relaxed);
        let (done, waiting) = oneshot::channel();
        self.inner.syncs.lock().insert(token, PendingSync { model, done });
        let payload = serde_json::json!({ "model": model, "op": "sync", "origin": self.inner.origin, "token": token })
            .to_string();
        let sent = self.inner.store.notify_collections(&payload).await;
        if let Err(e) = sent {
            tracing::warn!(error = %e, %model, "cannot confirm that the collection is current");
        } else if tokio::time::timeout(SETTLE_TIMEOUT, waiting).await.is_ok() {
            return;
        } else {
            tracing::warn!(%model, "the collection did not confirm the change in time");
        }
        self.inner.syncs.lock().remove(&token);
    }

    /// The collection of `model`, loading it first if needed.
    async fn loaded(&self, model: Uuid) -> Result<Arc<RwLock<FaceIndex>>, ApiError> {
        let entry = {
            let mut entries = self.inner.entries.lock();
            entries.entry(model).or_insert_with(|| spawn_entry(&self.inner, model)).clone()
        };
        let mut state = entry.state.clone();
        match state.wait_for(|s| *s != LoadState::Loading).await.map(|s| *s) {
            Ok(LoadState::Ready) => Ok(entry.index.clone()),
            // The worker logged why.
            _ => Err(ApiError::unexpected()),
        }
    }
}

impl Inner {
    /// Routes one notification's payload.
    fn dispatch(&self, payload: &str) {
        let Some((model, change)) = listener::parse(payload, self.origin) else {
            return;
        };
        self.apply(model, change);
    }

    /// Hands one change to its collection's worker.
    fn apply(&self, model: Uuid, notice: listener::Notice) {
        let change = match notice {
            listener::Notice::Change(change) => change,
            listener::Notice::Dropped => {
                self.entries.lock().remove(&model);
                return;
            }
            listener::Notice::Mark(xmin) => {
                *self.heard.lock() = Some((xmin, Instant::now()));
                return;
            }
        };
        let entry = self.entries.lock().get(&model).cloned();
        match entry {
            Some(entry) => {
                if let Err(mpsc::error::SendError(Change::Sync(token))) = entry.changes.send(change) {
                    self.release(token);
                }
            }
            None => {
                if let Change::Sync(token) = change {
                    self.release(token);
                }
            }
        }
    }

    /// After a lost connection (listening again already): the changes logged since the last
    /// mark heard are applied; without a usable mark, every collection is reloaded. Then the
    /// writes waiting on notifications that may never come are released, behind those changes.
    async fn recover(&self) {
        let heard = self.heard.lock().clone();
        let caught_up = match heard {
            Some((xmin, at)) if at.elapsed() < CATCH_UP_WINDOW => {
                let started = Instant::now();
                match self.store.collection_changes_since(&xmin, MAX_CATCH_UP + 1).await {
                    Ok(changes) if changes.len() as i64 <= MAX_CATCH_UP => {
                        let count = changes.len();
                        for change in changes {
                            if let Some(notice) = listener::notice(&change.op, change.ids) {
                                self.apply(change.model_id, notice);
                            }
                        }
                        tracing::info!(
                            changes = count,
                            since_xmin = xmin,
                            ms = started.elapsed().as_millis() as u64,
                            "collections caught up from the change log"
                        );
                        self.catch_ups.inc();
                        true
                    }
                    Ok(_) => {
                        tracing::warn!(since_xmin = xmin, "more than {MAX_CATCH_UP} changes missed");
                        false
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot read the change log");
                        false
                    }
                }
            }
            Some(_) => {
                tracing::warn!("the last mark heard is older than the change log keeps");
                false
            }
            None => {
                tracing::warn!("no mark heard yet");
                false
            }
        };
        if !caught_up {
            self.reload_all();
        }
        self.release_waiting();
    }

    /// Reloads every collection (searches go on in the old copy until the new one is built).
    fn reload_all(&self) {
        let entries: Vec<Arc<Entry>> = self.entries.lock().values().cloned().collect();
        tracing::info!(collections = entries.len(), "reloading every collection");
        self.reloads.inc();
        for entry in &entries {
            let _ = entry.changes.send(Change::Reload);
        }
    }

    /// Releases the writes waiting on a `sync` that may have been lost, once their collection
    /// has applied what is queued before.
    fn release_waiting(&self) {
        let entries: Vec<(Uuid, Arc<Entry>)> = self.entries.lock().iter().map(|(m, e)| (*m, e.clone())).collect();
        let waiting: Vec<(u64, Uuid)> = self.syncs.lock().iter().map(|(t, s)| (*t, s.model)).collect();
        for (token, model) in waiting {
            match entries.iter().find(|(m, _)| *m == model) {
                Some((_, entry)) if entry.changes.send(Change::Sync(token)).is_ok() => {}
                _ => self.release(token),
            }
        }
    }

    fn release(&self, token: u64) {
        if let Some(sync) = self.syncs.lock().remove(&token) {
            let _ = sync.done.send(());
        }
    }

    /// Forgets a collection whose load failed, so that the next request loads it anew.
    fn forget(&self, model: Uuid, index: &Arc<RwLock<FaceIndex>>) {
        let mut entries = self.entries.lock();
        if entries.get(&model).is_some_and(|e| Arc::ptr_eq(&e.index, index)) {
            entries.remove(&model);
        }
    }
}

/// Sends a mark every [`MARK_EVERY`] and purges the change log every [`PURGE_EVERY`], until the
/// collections are dropped. Failures (the database away) are logged at debug level: the
/// listener says more.
async fn mark(inner: Weak<Inner>) {
    let mut ticks = tokio::time::interval(MARK_EVERY);
    let mut last_purge: Option<Instant> = None;
    loop {
        ticks.tick().await;
        let Some(strong) = inner.upgrade() else {
            return;
        };
        let store = strong.store.clone();
        drop(strong);
        if let Err(e) = store.send_collection_mark().await {
            tracing::debug!(error = %e, "cannot send a collection mark");
        }
        if last_purge.is_none_or(|at| at.elapsed() >= PURGE_EVERY) {
            match store.purge_collection_changes(LOG_RETENTION).await {
                Ok(purged) => {
                    last_purge = Some(Instant::now());
                    if purged > 0 {
                        tracing::debug!(purged, "old collection changes purged");
                    }
                }
                Err(e) => tracing::debug!(error = %e, "cannot purge the change log"),
            }
        }
    }
}

/// A new entry whose worker starts loading at once.
fn spawn_entry(inner: &Arc<Inner>, model: Uuid) -> Arc<Entry> {
    let index = Arc::new(RwLock::new(FaceIndex::new()));
    let (state_tx, state) = watch::channel(LoadState::Loading);
    let (changes, queue) = mpsc::unbounded_channel();
    let worker = Worker { inner: Arc::downgrade(inner), store: inner.store.clone(), model, index: index.clone() };
    tokio::spawn(worker.run(state_tx, queue));
    Arc::new(Entry { index, state, changes })
}

/// The task that loads one collection and then applies its changes in order.
struct Worker {
    inner: Weak<Inner>,
    store: Store,
    model: Uuid,
    index: Arc<RwLock<FaceIndex>>,
}

impl Worker {
    async fn run(self, state: watch::Sender<LoadState>, mut queue: mpsc::UnboundedReceiver<Change>) {
        match load(&self.store, self.model).await {
            Ok(loaded) => {
                *self.index.write() = loaded;
                state.send_replace(LoadState::Ready);
            }
            Err(e) => {
                tracing::error!(error = ?e, model = %self.model, "cannot load the collection");
                if let Some(inner) = self.inner.upgrade() {
                    inner.forget(self.model, &self.index);
                    queue.close();
                    while let Ok(change) = queue.try_recv() {
                        if let Change::Sync(token) = change {
                            inner.release(token);
                        }
                    }
                }
                state.send_replace(LoadState::Failed);
                return;
            }
        }
        let mut pending = Batch::default();
        loop {
            if pending.is_empty() {
                match queue.recv().await {
                    Some(change) => pending.add(change),
                    None => return,
                }
            }
            while let Ok(change) = queue.try_recv() {
                pending.add(change);
            }
            let batch = std::mem::take(&mut pending);
            let applied = self.apply(&batch).await;
            if let Some(inner) = self.inner.upgrade() {
                for token in &batch.syncs {
                    inner.release(*token);
                }
            }
            if let Err(e) = applied {
                tracing::error!(error = ?e, model = %self.model, "cannot update the collection; reloading it");
                if queue.is_closed() {
                    return;
                }
                pending.reload = true;
                tokio::time::sleep(RETRY_PAUSE).await;
            }
        }
    }

    /// Applies the current database state of what `batch` names: faces are re-read first and
    /// subject names last, so that a subject deleted meanwhile takes its faces along.
    async fn apply(&self, batch: &Batch) -> Result<(), StoreError> {
        if batch.clear {
            let old = std::mem::take(&mut *self.index.write());
            tokio::task::spawn_blocking(move || drop(old));
        }
        if batch.reload {
            let fresh = load(&self.store, self.model).await?;
            let old = std::mem::replace(&mut *self.index.write(), fresh);
            // Freeing a large collection takes a while: not on the async threads.
            tokio::task::spawn_blocking(move || drop(old));
            return Ok(());
        }
        let faces: Vec<Uuid> = batch.faces.iter().copied().collect();
        let whole: Vec<Uuid> = batch.subject_faces.iter().copied().collect();
        let subjects: Vec<Uuid> = batch.subjects.union(&batch.subject_faces).copied().collect();
        let face_rows = if faces.is_empty() { Vec::new() } else { self.store.faces_by_ids(self.model, &faces).await? };
        let whole_rows =
            if whole.is_empty() { Vec::new() } else { self.store.faces_of_subjects(self.model, &whole).await? };
        let names: HashMap<Uuid, String> = if subjects.is_empty() {
            HashMap::new()
        } else {
            self.store.subject_names(self.model, &subjects).await?.into_iter().collect()
        };
        let index = self.index.clone();
        blocking(move || {
            let mut index = index.write();
            for subject in &whole {
                index.remove_subject_faces(*subject);
            }
            for face in whole_rows.iter().chain(&face_rows) {
                index.upsert(face);
            }
            let present: HashSet<Uuid> = face_rows.iter().map(|f| f.image_id).collect();
            for gone in faces.iter().filter(|id| !present.contains(id)) {
                index.remove(*gone);
            }
            for subject in &subjects {
                match names.get(subject) {
                    Some(name) => index.rename_subject(*subject, name),
                    None => index.remove_subject(*subject),
                }
            }
        })
        .await
        .map_err(|_| StoreError::Database(sqlx::Error::WorkerCrashed))
    }
}

/// Changes queued for one collection, merged.
#[derive(Debug, Default)]
struct Batch {
    faces: HashSet<Uuid>,
    subjects: HashSet<Uuid>,
    subject_faces: HashSet<Uuid>,
    /// Empty the collection first: what came before the clear is gone with it.
    clear: bool,
    reload: bool,
    syncs: Vec<u64>,
}

impl Batch {
    fn add(&mut self, change: Change) {
        match change {
            Change::Faces(ids) => self.faces.extend(ids),
            Change::Subjects(ids) => self.subjects.extend(ids),
            Change::SubjectFaces(ids) => self.subject_faces.extend(ids),
            Change::Reload => self.reload = true,
            Change::Clear => {
                self.faces.clear();
                self.subjects.clear();
                self.subject_faces.clear();
                self.reload = false;
                self.clear = true;
            }
            Change::Sync(token) => self.syncs.push(token),
        }
    }

    fn is_empty(&self) -> bool {
        self.faces.is_empty()
            && self.subjects.is_empty()
            && self.subject_faces.is_empty()
            && !self.reload
            && !self.clear
            && self.syncs.is_empty()
    }
}

/// Reads a service's faces into a new index: rows stream in while a blocking thread inserts
/// the previous batch; the subjects' names come last (a subject deleted meanwhile takes its
/// faces along, and later changes arrive as notifications).
async fn load(store: &Store, model: Uuid) -> Result<FaceIndex, StoreError> {
    let started = Instant::now();
    let (batches, mut received) = mpsc::channel::<Vec<EmbeddingRow>>(2);
    let builder = tokio::task::spawn_blocking(move || {
        let mut index = FaceIndex::new();
        let mut scratch = Vec::new();
        while let Some(batch) = received.blocking_recv() {
            index.extend(&batch, &mut scratch);
        }
        index
    });
    let streamed = async {
        let mut rows = store.stream_embeddings(model);
        let mut batch = Vec::with_capacity(LOAD_BATCH);
        while let Some(row) = rows.try_next().await? {
            batch.push(row);
            if batch.len() == LOAD_BATCH {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(LOAD_BATCH));
                if batches.send(full).await.is_err() {
                    break;
                }
            }
        }
        if !batch.is_empty() {
            let _ = batches.send(batch).await;
        }
        Ok::<_, StoreError>(())
    }
    .await;
    drop(batches);
    let mut index = match builder.await {
        Ok(index) => index,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    };
    streamed?;
    let names = store.subjects_with_ids(model).await?;
    let index = tokio::task::spawn_blocking(move || {
        index.name_subjects(names);
        index
    })
    .await
    .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
    tracing::info!(
        %model,
        faces = index.len(),
        megabytes = index.heap_bytes() >> 20,
        seconds = started.elapsed().as_secs_f32(),
        "collection loaded"
    );
    Ok(index)
}

/// Runs `work` on a blocking thread.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work).await.map_err(|e| {
        if e.is_panic() {
            std::panic::resume_unwind(e.into_panic());
        }
        ApiError::unexpected()
    })
}

/// A query the collection cannot answer: 400 code 0 with what is wrong.
fn search_error(e: SearchError) -> ApiError {
    ApiError::new(ErrorCode::Undefined, e.to_string())
}
