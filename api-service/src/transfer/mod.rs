//! Moving a recognition collection in and out as an archive of photos (the routes are in
//! [`crate::routes::transfer`]).
//!
//! # Import
//! An archive of `subject/photo` files (zip, tar or tar.gz; optionally all inside one top
//! folder) is spooled to a temporary file while it arrives (`MAX_IMPORT_SIZE`, 2 GiB by
//! default), then read and enrolled in the background ([`import`]) while clients follow the job
//! in the database. Each photo is enrolled exactly as `POST /recognition/faces` enrols one: the
//! folder is the subject (created when missing; its name checked as the subjects API checks
//! it), the photo must show exactly one face, and is at most `MAX_FILE_SIZE`. What fails and
//! what is skipped is reported entry by entry ([`archive`] says what is skipped).
//!
//! # Export
//! A zip of the collection's stored images by subject with a manifest ([`manifest`]), streamed
//! while it is written ([`export`]). Importing an export into another service gives it the same
//! subjects, and faces computed again from the same photos: recognitions answer the same.

pub mod archive;
pub mod export;
pub mod import;
pub mod manifest;
