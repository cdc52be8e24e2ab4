//! Reading an uploaded archive, entry by entry, on a blocking thread.
//!
//! Formats, told by their first bytes: zip (stored or deflated entries), tar, and gzip-compressed
//! tar. The archive is a local file (the spooled upload) and is read in three passes, none of
//! which holds more than one entry's content:
//! 1. the names, to count the files and find the layout: photos are `subject/photo`, or
//!    `top/subject/photo` when every photo is inside one top folder;
//! 2. the manifest of an export (`manifest.json`, or `top/manifest.json`), when there is one;
//! 3. every entry: each photo (at most `max_file_size` bytes) becomes an [`Event::Photo`], every
//!    other file an [`Event::Skipped`] with the reason.
//!
//! What is skipped: files outside a subject folder, files in deeper folders, `__MACOSX/` and
//! hidden files and folders (a name starting with `.`), links and other special files, and
//! names that are absolute or climb out with `..` (nothing is ever unpacked to disk, so such
//! names are only reported). Folders themselves are not entries.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::ops::ControlFlow;

use bytes::Bytes;
use flate2::read::GzDecoder;
use tokio::sync::mpsc;
use visage_common::ApiError;
use zip::ZipArchive;

use super::manifest::{self, Manifest};

/// What the reader tells the import, in archive order.
#[derive(Debug)]
pub enum Event {
    /// First: how many files the archive has (the manifest not counted when honoured) and the
    /// manifest's subjects, to create.
    Plan {
        total: u64,
        subjects: Vec<String>,
        manifest: Option<String>,
    },
    Photo(Photo),
    /// A file that is no photo of a subject.
    Skipped {
        entry: String,
        reason: String,
    },
    /// A photo that cannot be read (too large, corrupt, encrypted).
    Failed {
        entry: String,
        reason: String,
    },
    /// The archive cannot be read on; nothing follows.
    Fatal(String),
}

/// A photo of a subject, read.
#[derive(Debug)]
pub struct Photo {
    /// Its name in the archive.
    pub entry: String,
    pub subject: String,
    /// Its own name, without folders.
    pub file_name: String,
    pub bytes: Bytes,
}

/// The archive formats read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Zip,
    Tar,
    TarGz,
}

/// Bytes [`sniff`] needs to tell every format.
pub const SNIFF_BYTES: usize = 262;

/// The format of an archive from its first bytes.
pub fn sniff(head: &[u8]) -> Option<Format> {
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        Some(Format::Zip)
    } else if head.starts_with(&[0x1f, 0x8b]) {
        Some(Format::TarGz)
    } else if head.get(257..262) == Some(b"ustar") {
        Some(Format::Tar)
    } else {
        None
    }
}

/// Reads `file` and tells `events` what it holds, until the end or until the receiver is gone.
pub fn read(file: File, max_file_size: u64, events: &mpsc::Sender<Event>) {
    let send = |event| events.blocking_send(event).is_ok();
    if let Err(message) = read_archive(file, max_file_size, &send) {
        send(Event::Fatal(message));
    }
}

fn read_archive(file: File, max_file_size: u64, send: &dyn Fn(Event) -> bool) -> Result<(), String> {
    let mut source = Source::open(file)?;
    let mut scan = LayoutScan::default();
    source.list(&mut |entry| scan.add(entry))?;
    let layout = scan.finish();
    let manifest = match &layout.manifest {
        Some(name) => source.find(name, |content| Manifest::read(content))?,
        None => None,
    };
    let honoured = manifest.as_ref().and_then(|m| m.as_ref().ok());
    let total = layout.files - u64::from(honoured.is_some());
    let subjects = honoured.map(|m| m.subjects.clone()).unwrap_or_default();
    if !send(Event::Plan { total, subjects, manifest: honoured.and(layout.manifest.clone()) }) {
        return Ok(());
    }
    source.each(&mut |entry, content| {
        let event = match layout.place(entry, honoured) {
            Place::Folder | Place::Manifest => return ControlFlow::Continue(()),
            Place::Skip(reason) => {
                let reason = match (&manifest, layout.manifest.as_deref()) {
                    (Some(Err(why)), Some(name)) if name == entry.name => why.clone(),
                    _ => reason.to_string(),
                };
                Event::Skipped { entry: entry.name.clone(), reason }
            }
            Place::Photo { subject, file_name } => match read_photo(entry, content, max_file_size) {
                Ok(bytes) => Event::Photo(Photo { entry: entry.name.clone(), subject, file_name, bytes }),
                Err(reason) => Event::Failed { entry: entry.name.clone(), reason },
            },
        };
        if send(event) {
            ControlFlow::Continue(())
        } else {
            ControlFlow::Break(())
        }
    })
}

/// A photo's bytes, at most `limit` of them.
fn read_photo(entry: &Entry, content: Result<&mut dyn Read, String>, limit: u64) -> Result<Bytes, String> {
    let too_large = || ApiError::too_large("file", limit).message;
    if entry.encrypted {
        return Err("The file is encrypted".to_string());
    }
    if entry.size > limit {
        return Err(too_large());
    }
    let content = content?;
    let mut bytes = Vec::with_capacity(usize::try_from(entry.size).unwrap_or(0));
    content.take(limit + 1).read_to_end(&mut bytes).map_err(|e| format!("The file cannot be read: {e}"))?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(bytes.into())
}

/// An archive entry as the passes see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub kind: Kind,
    /// The size it declares.
    pub size: u64,
    pub encrypted: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Folder,
    /// Links, devices, and the like.
    Special,
    /// Archive bookkeeping (tar's global headers): not an entry.
    Meta,
}

/// What an entry is to the import.
#[derive(Debug, PartialEq, Eq)]
enum Place {
    Folder,
    Manifest,
    Photo { subject: String, file_name: String },
    Skip(&'static str),
}

const UNSAFE: &str = "Skipped: the name is absolute or climbs out of the archive with '..'";
const MACOS: &str = "Skipped: macOS metadata";
const HIDDEN: &str = "Skipped: a hidden file or folder";
const SPECIAL: &str = "Skipped: not a regular file";
const TOP_LEVEL: &str = "Skipped: not in a subject folder (expected subject/photo)";
const NESTED: &str = "Skipped: in a nested folder (expected subject/photo)";

/// The parts of a file name: `/` and `\` separate them; empty and `.` parts are dropped.
fn parts(name: &str) -> Result<Vec<&str>, &'static str> {
    if name.starts_with(['/', '\\']) || name.contains('\0') {
        return Err(UNSAFE);
    }
    let parts: Vec<&str> = name.split(['/', '\\']).filter(|p| !p.is_empty() && *p != ".").collect();
    if parts.is_empty() || parts.contains(&"..") || parts[0].ends_with(':') {
        return Err(UNSAFE);
    }
    if parts[0] == "__MACOSX" {
        return Err(MACOS);
    }
    if parts.iter().any(|p| p.starts_with('.')) {
        return Err(HIDDEN);
    }
    Ok(parts)
}

/// The first pass: files, the top folder, the manifest.
#[derive(Debug, Default)]
struct LayoutScan {
    files: u64,
    /// A photo directly in a subject folder was seen.
    shallow: bool,
    /// The first folder of photos two folders deep, and whether all of them share it.
    top: Option<String>,
    tops_differ: bool,
    root_manifest: Option<String>,
    /// The first `folder/manifest.json`, by folder.
    folder_manifest: Option<(String, String)>,
}

impl LayoutScan {
    fn add(&mut self, entry: &Entry) {
        if matches!(entry.kind, Kind::Folder | Kind::Meta) {
            return;
        }
        self.files += 1;
        let Ok(parts) = parts(&entry.name) else { return };
        if entry.kind != Kind::File {
            return;
        }
        match parts.as_slice() {
            [manifest::FILE_NAME] => {
                self.root_manifest.get_or_insert_with(|| entry.name.clone());
            }
            [folder, manifest::FILE_NAME] => {
                self.folder_manifest.get_or_insert_with(|| (folder.to_string(), entry.name.clone()));
            }
            [_, _] => self.shallow = true,
            [top, _, _] => match &self.top {
                None => self.top = Some(top.to_string()),
                Some(seen) => self.tops_differ |= seen != top,
            },
            _ => {}
        }
    }

    fn finish(self) -> Layout {
        let top = self.top.filter(|_| !self.shallow && !self.tops_differ);
        let manifest = match &top {
            Some(top) => self.folder_manifest.filter(|(folder, _)| folder == top).map(|(_, name)| name),
            None => self.root_manifest,
        };
        Layout { files: self.files, top, manifest }
    }
}

/// The layout of an archive.
#[derive(Debug, PartialEq, Eq)]
struct Layout {
    /// Entries that are not folders.
    files: u64,
    /// The one folder every photo is in, if so.
    top: Option<String>,
    /// The manifest's entry name, if there is one where an export puts it.
    manifest: Option<String>,
}

impl Layout {
    fn place(&self, entry: &Entry, manifest: Option<&Manifest>) -> Place {
        match entry.kind {
            Kind::Folder | Kind::Meta => return Place::Folder,
            Kind::Special => return Place::Skip(SPECIAL),
            Kind::File => {}
        }
        if manifest.is_some() && self.manifest.as_deref() == Some(entry.name.as_str()) {
            return Place::Manifest;
        }
        let parts = match parts(&entry.name) {
            Ok(parts) => parts,
            Err(reason) => return Place::Skip(reason),
        };
        let inside = match (&self.top, parts.as_slice()) {
            (Some(top), [first, rest @ ..]) if first == top => rest,
            _ => &parts[..],
        };
        match inside {
            [folder, file_name] => {
                let subject = manifest.and_then(|m| m.subject_of(folder)).unwrap_or(folder);
                Place::Photo { subject: subject.to_string(), file_name: file_name.to_string() }
            }
            [] | [_] => Place::Skip(TOP_LEVEL),
            _ => Place::Skip(NESTED),
        }
    }
}

/// Called with each entry and a reader of its content (an error when it cannot be read);
/// breaks to stop.
type Visitor<'a> = dyn FnMut(&Entry, Result<&mut dyn Read, String>) -> ControlFlow<()> + 'a;

/// An opened archive.
enum Source {
    Zip(Box<ZipArchive<File>>),
    Tar(File, bool),
}

impl Source {
    fn open(mut file: File) -> Result<Self, String> {
        let unreadable = |e: io::Error| format!("The archive cannot be read: {e}");
        let mut head = Vec::with_capacity(SNIFF_BYTES);
        file.seek(SeekFrom::Start(0)).map_err(unreadable)?;
        (&file).take(SNIFF_BYTES as u64).read_to_end(&mut head).map_err(unreadable)?;
        file.seek(SeekFrom::Start(0)).map_err(unreadable)?;
        match sniff(&head) {
            Some(Format::Zip) => ZipArchive::new(file)
                .map(|zip| Self::Zip(Box::new(zip)))
                .map_err(|e| format!("The zip archive cannot be read: {e}")),
            Some(Format::Tar) => Ok(Self::Tar(file, false)),
            Some(Format::TarGz) => Ok(Self::Tar(file, true)),
            None => Err("The file is not a zip or tar archive".to_string()),
        }
    }

    /// Every entry's name and kind, without its content.
    fn list(&mut self, visit: &mut dyn FnMut(&Entry)) -> Result<(), String> {
        match self {
            Self::Zip(zip) => {
                for index in 0..zip.len() {
                    let entry = zip_entry(zip, index)?;
                    visit(&entry);
                }
                Ok(())
            }
            Self::Tar(..) => self.each(&mut |entry, _| {
                visit(entry);
                ControlFlow::Continue(())
            }),
        }
    }

    /// `read` on the content of the entry named `name`; `None` when there is none.
    fn find<T>(&mut self, name: &str, read: impl FnOnce(&mut dyn Read) -> T) -> Result<Option<T>, String> {
        if let Self::Zip(zip) = self {
            return match zip.by_name(name) {
                Ok(mut file) => Ok(Some(read(&mut file))),
                Err(_) => Ok(None),
            };
        }
        let mut read = Some(read);
        let mut found = None;
        self.each(&mut |entry, content| match (entry.name == name, content) {
            (true, Ok(content)) => {
                found = read.take().map(|read| read(content));
                ControlFlow::Break(())
            }
            _ => ControlFlow::Continue(()),
        })?;
        Ok(found)
    }

    /// Every entry with a reader of its content (an error when it cannot be read), until
    /// `visit` breaks.
    fn each(&mut self, visit: &mut Visitor<'_>) -> Result<(), String> {
        match self {
            Self::Zip(zip) => {
                for index in 0..zip.len() {
                    let entry = zip_entry(zip, index)?;
                    let flow = if entry.kind == Kind::File && !entry.encrypted {
                        match zip.by_index(index) {
                            Ok(mut file) => visit(&entry, Ok(&mut file)),
                            Err(e) => visit(&entry, Err(format!("The file cannot be read: {e}"))),
                        }
                    } else {
                        visit(&entry, Ok(&mut io::empty()))
                    };
                    if flow.is_break() {
                        break;
                    }
                }
                Ok(())
            }
            Self::Tar(file, gzip) => {
                file.seek(SeekFrom::Start(0)).map_err(|e| format!("The archive cannot be read: {e}"))?;
                if *gzip {
                    tar_each(tar::Archive::new(GzDecoder::new(&*file)), visit)
                } else {
                    tar_each(tar::Archive::new(&*file), visit)
                }
            }
        }
    }
}

fn zip_entry(zip: &ZipArchive<File>, index: usize) -> Result<Entry, String> {
    let data = zip.by_index_data(index).map_err(|e| format!("The zip archive cannot be read: {e}"))?;
    let name = data.name().map_or_else(|_| String::from_utf8_lossy(data.name_raw()).into_owned(), |n| n.into_owned());
    let kind = if data.is_dir() {
        Kind::Folder
    } else if data.is_symlink() {
        Kind::Special
    } else {
        Kind::File
    };
    Ok(Entry { name, kind, size: data.size(), encrypted: data.encrypted() })
}

fn tar_each<R: Read>(mut archive: tar::Archive<R>, visit: &mut Visitor<'_>) -> Result<(), String> {
    let broken = |e: io::Error| format!("The tar archive cannot be read: {e}");
    for item in archive.entries().map_err(broken)? {
        let mut item = item.map_err(broken)?;
        let kind = item.header().entry_type();
        let kind = if kind.is_file() || kind.is_contiguous() {
            Kind::File
        } else if kind.is_dir() {
            Kind::Folder
        } else if kind.is_pax_global_extensions() {
            Kind::Meta
        } else {
            Kind::Special
        };
        let name = String::from_utf8_lossy(&item.path_bytes()).into_owned();
        let entry = Entry { name, kind, size: item.size(), encrypted: false };
        if visit(&entry, Ok(&mut item)).is_break() {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str) -> Entry {
        Entry { name: name.to_string(), kind: Kind::File, size: 1, encrypted: false }
    }

    fn layout(names: &[&str]) -> Layout {
        let mut scan = LayoutScan::default();
        for name in names {
            scan.add(&file(name));
        }
        scan.finish()
    }

    fn photo(subject: &str, file_name: &str) -> Place {
        Place::Photo { subject: subject.to_string(), file_name: file_name.to_string() }
    }

    #[test]
    fn formats_are_told_by_their_first_bytes() {
        assert_eq!(sniff(b"PK\x03\x04rest"), Some(Format::Zip));
        assert_eq!(sniff(b"PK\x05\x06"), Some(Format::Zip));
        assert_eq!(sniff(&[0x1f, 0x8b, 8]), Some(Format::TarGz));
        let mut tar = vec![0; 512];
        tar[257..262].copy_from_slice(b"ustar");
        assert_eq!(sniff(&tar), Some(Format::Tar));
        assert_eq!(sniff(b"\xff\xd8\xff"), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn photos_are_subject_folders_of_files() {
        let flat = layout(&["Alice/1.jpg", "Bob/2.png", "readme.txt", "Bob/deep/3.jpg"]);
        assert_eq!(flat.top, None);
        assert_eq!(flat.files, 4);
        assert_eq!(flat.place(&file("Alice/1.jpg"), None), photo("Alice", "1.jpg"));
        assert_eq!(flat.place(&file("./Alice/1.jpg"), None), photo("Alice", "1.jpg"));
        assert_eq!(flat.place(&file("Alice\\1.jpg"), None), photo("Alice", "1.jpg"));
        assert_eq!(flat.place(&file("readme.txt"), None), Place::Skip(TOP_LEVEL));
        assert_eq!(flat.place(&file("Bob/deep/3.jpg"), None), Place::Skip(NESTED));
        let folder = Entry { kind: Kind::Folder, ..file("Alice/") };
        assert_eq!(flat.place(&folder, None), Place::Folder);
        let link = Entry { kind: Kind::Special, ..file("Alice/link.jpg") };
        assert_eq!(flat.place(&link, None), Place::Skip(SPECIAL));
    }

    #[test]
    fn one_top_folder_is_looked_into() {
        let nested = layout(&["faces/Alice/1.jpg", "faces/Bob/2.jpg", "faces/manifest.json", "notes.txt"]);
        assert_eq!(nested.top.as_deref(), Some("faces"));
        assert_eq!(nested.manifest.as_deref(), Some("faces/manifest.json"));
        assert_eq!(nested.place(&file("faces/Alice/1.jpg"), None), photo("Alice", "1.jpg"));
        assert_eq!(nested.place(&file("faces/loose.jpg"), None), Place::Skip(TOP_LEVEL));
        assert_eq!(nested.place(&file("notes.txt"), None), Place::Skip(TOP_LEVEL));
        // Two top folders, or photos beside them: no top folder.
        assert_eq!(layout(&["a/Alice/1.jpg", "b/Bob/2.jpg"]).top, None);
        assert_eq!(layout(&["a/Alice/1.jpg", "Bob/2.jpg"]).top, None);
    }

    #[test]
    fn unsafe_hidden_and_metadata_entries_are_skipped() {
        let any = layout(&["Alice/1.jpg"]);
        for name in ["../x/a.jpg", "Alice/../../a.jpg", "/etc/a.jpg", "\\x\\a.jpg", "C:/x/a.jpg", "a\0/b.jpg"] {
            assert_eq!(any.place(&file(name), None), Place::Skip(UNSAFE), "{name}");
        }
        assert_eq!(any.place(&file("__MACOSX/Alice/._1.jpg"), None), Place::Skip(MACOS));
        assert_eq!(any.place(&file("Alice/.DS_Store"), None), Place::Skip(HIDDEN));
        assert_eq!(any.place(&file(".git/x/y"), None), Place::Skip(HIDDEN));
    }

    #[test]
    fn the_manifest_names_the_subjects_of_folders() {
        let text = r#"{"format":"visage-collection","version":1,"subjects":[{"subject":".x","folder":"%2Ex"}]}"#;
        let manifest = Manifest::read(text.as_bytes()).unwrap();
        let with = layout(&["manifest.json", "%2Ex/1.jpg", "Bob/2.jpg"]);
        assert_eq!(with.manifest.as_deref(), Some("manifest.json"));
        assert_eq!(with.place(&file("manifest.json"), Some(&manifest)), Place::Manifest);
        assert_eq!(with.place(&file("%2Ex/1.jpg"), Some(&manifest)), photo(".x", "1.jpg"));
        assert_eq!(with.place(&file("Bob/2.jpg"), Some(&manifest)), photo("Bob", "2.jpg"));
        // Not honoured: a top-level file like any other.
        assert_eq!(with.place(&file("manifest.json"), None), Place::Skip(TOP_LEVEL));
    }
}
