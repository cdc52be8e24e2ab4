//! The export: a service's collection as a zip, written while it is sent.
//!
//! The archive holds `manifest.json` first (see [`super::manifest`]), then each stored image as
//! `<subject folder>/<image_id>.<ext>`, its original bytes, the extension told by its content
//! (`bin` when none is). Everything is read from one snapshot of the collection
//! ([`ExportSnapshot`]), a page at a time: [`SUBJECT_PAGE`] names, [`FACE_PAGE`] listed faces,
//! [`IMAGE_PAGE`] images.
//!
//! The zip is written by the `zip` crate's stream writer (local headers followed by data
//! descriptors, then the central directory: no seeking back) on a blocking thread, into chunks of
//! [`CHUNK`] bytes that go to the response through a channel of [`CHUNKS`] places. Memory holds
//! one page of images and a few chunks, whatever the collection's size; a client that reads
//! slowly holds the writer back, and one that goes away stops it.

use std::io::{self, Write};

use axum::body::Body;
use bytes::{Bytes, BytesMut};
use serde_json::json;
use tokio::runtime::Handle;
use tokio::sync::mpsc;
use visage_imaging::sniff_format;
use visage_store::export::ExportSnapshot;
use visage_store::StoreError;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use super::manifest::{self, folder_of};

/// Names per page of subjects.
const SUBJECT_PAGE: i64 = 1000;
/// Faces per page of the manifest's listing.
const FACE_PAGE: i64 = 1000;
/// Images per page: each at most the upload limit of its time (5 MB by default).
const IMAGE_PAGE: i64 = 8;
/// Bytes per chunk of the response.
const CHUNK: usize = 256 << 10;
/// Chunks written ahead of the client.
const CHUNKS: usize = 4;

/// The zip of the snapshot's collection, as a response body that writes it while it is sent.
pub fn zip_body(snapshot: ExportSnapshot) -> Body {
    let (sender, receiver) = mpsc::channel::<io::Result<Bytes>>(CHUNKS);
    let runtime = Handle::current();
    visage_http::spawn_blocking(move || {
        let mut output = ChannelWriter { sender: sender.clone(), buffer: BytesMut::new() };
        let result = write_zip(&runtime, snapshot, &mut output).and_then(|()| output.flush().map_err(Failure::Io));
        match result {
            Ok(()) => tracing::info!("export sent"),
            Err(Failure::Io(e)) if e.kind() == io::ErrorKind::BrokenPipe => {
                tracing::info!("export stopped: the client went away");
            }
            Err(e) => {
                tracing::error!(error = %e, "export failed");
                // The client sees the download break off instead of a truncated zip that looks whole.
                let _ = sender.blocking_send(Err(io::Error::other("the export failed")));
            }
        }
    });
    Body::from_stream(futures::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|chunk| (chunk, receiver))
    }))
}

#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error("cannot read the collection: {0:?}")]
    Store(#[from] StoreError),
    #[error("cannot write the zip: {0}")]
    Zip(zip::result::ZipError),
    #[error("cannot send the zip: {0}")]
    Io(#[from] io::Error),
}

impl From<zip::result::ZipError> for Failure {
    fn from(e: zip::result::ZipError) -> Self {
        match e {
            zip::result::ZipError::Io(e) => Self::Io(e),
            e => Self::Zip(e),
        }
    }
}

fn write_zip(runtime: &Handle, mut snapshot: ExportSnapshot, output: &mut ChannelWriter) -> Result<(), Failure> {
    let now = zip::DateTime::try_from(chrono::Utc::now().naive_utc()).unwrap_or_default();
    let options = SimpleFileOptions::default().last_modified_time(now);
    let mut zip = ZipWriter::new_stream(output);

    zip.start_file(manifest::FILE_NAME, options.compression_method(CompressionMethod::Deflated))?;
    write_manifest(runtime, &mut snapshot, &mut zip)?;

    // Images are compressed already.
    let stored = options.compression_method(CompressionMethod::Stored);
    let mut after = 0;
    loop {
        let page = runtime.block_on(snapshot.images(after, IMAGE_PAGE))?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for face in page {
            if let Some(image) = face.image {
                zip.start_file(image_path(&face.subject, face.image_id, &image), stored)?;
                zip.write_all(&image)?;
            }
        }
    }
    zip.finish()?;
    Ok(())
}

/// `{"format", "version", "subjects": [{"subject", "folder"}], "images": [{"image_id", "subject",
/// "file"} or {"image_id", "subject", "missing": true}, with "box" where it is known]}`, one
/// subject or image a line.
fn write_manifest(runtime: &Handle, snapshot: &mut ExportSnapshot, out: &mut impl Write) -> Result<(), Failure> {
    write!(out, "{{\"format\":\"{}\",\"version\":{},\n\"subjects\":[", manifest::FORMAT, manifest::VERSION)?;
    let mut first = true;
    let mut after: Option<String> = None;
    loop {
        let page = runtime.block_on(snapshot.subjects(after.as_deref(), SUBJECT_PAGE))?;
        let Some(last) = page.last() else { break };
        after = Some(last.to_lowercase());
        for subject in page {
            out.write_all(if first { b"\n" } else { b",\n" })?;
            first = false;
            serde_json::to_writer(&mut *out, &json!({ "subject": subject, "folder": folder_of(&subject) }))
                .map_err(io::Error::other)?;
        }
    }
    out.write_all(b"],\n\"images\":[")?;
    let mut first = true;
    let mut after = 0;
    loop {
        let page = runtime.block_on(snapshot.faces(after, FACE_PAGE))?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for face in page {
            out.write_all(if first { b"\n" } else { b",\n" })?;
            first = false;
            let mut entry = match &face.image_head {
                Some(head) => json!({
                    "image_id": face.image_id,
                    "subject": face.subject,
                    "file": image_path(&face.subject, face.image_id, head),
                }),
                None => json!({ "image_id": face.image_id, "subject": face.subject, "missing": true }),
            };
            if let Some(b) = face.face_box {
                entry["box"] = json!({ "x_min": b.x_min, "y_min": b.y_min, "x_max": b.x_max, "y_max": b.y_max });
            }
            serde_json::to_writer(&mut *out, &entry).map_err(io::Error::other)?;
        }
    }
    out.write_all(b"]}\n")?;
    Ok(())
}

/// `<folder>/<image_id>.<ext>`, the extension from the image's first bytes.
fn image_path(subject: &str, image_id: uuid::Uuid, image: &[u8]) -> String {
    let extension = sniff_format(image).and_then(|f| f.extensions_str().first().copied()).unwrap_or("bin");
    format!("{}/{image_id}.{extension}", folder_of(subject))
}

/// Bytes written in chunks to the response's channel; `BrokenPipe` once the response is gone.
struct ChannelWriter {
    sender: mpsc::Sender<io::Result<Bytes>>,
    buffer: BytesMut,
}

impl ChannelWriter {
    fn send(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = self.buffer.split().freeze();
        self.sender.blocking_send(Ok(chunk)).map_err(|_| io::Error::from(io::ErrorKind::BrokenPipe))
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(data);
        if self.buffer.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_named_by_folder_id_and_content() {
        let id = uuid::Uuid::nil();
        assert_eq!(image_path("Alice", id, b"\xff\xd8\xff\xe0"), format!("Alice/{id}.jpg"));
        assert_eq!(image_path(".x", id, b"\x89PNG\r\n\x1a\n"), format!("%2Ex/{id}.png"));
        assert_eq!(image_path("Bob", id, b"text"), format!("Bob/{id}.bin"));
    }
}
