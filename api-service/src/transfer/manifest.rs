//! `manifest.json`, the table of contents of an export, which an import honours.
//!
//! ```json
//! {"format": "visage-collection", "version": 1,
//!  "subjects": [{"subject": "Alice", "folder": "Alice"}, {"subject": ".hidden", "folder": "%2Ehidden"}],
//!  "images": [{"image_id": "…", "subject": "Alice", "file": "Alice/….jpg",
//!              "box": {"x_min": 120, "y_min": 64, "x_max": 258, "y_max": 235}},
//!             {"image_id": "…", "subject": "Bob", "missing": true}]}
//! ```
//!
//! Each subject's photos are in its folder: its name, with the characters that are unsafe in a
//! file name on some system percent-encoded ([`folder_of`]). The import takes a folder's subject
//! from `subjects` (and so restores any name, and the subjects that have no face), and reads
//! nothing else from the manifest: `images` is for people and other tools. Images whose bytes are
//! not stored are listed as `missing`, without a file. `box` is where the face is in its photo
//! (pixels of the upright photo, as detection answers give boxes), for faces stored with one; an
//! import finds each face again in its photo, so archives with and without boxes import alike.

use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::io::{BufReader, Read};

use serde::de::{self, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// The manifest's name in an export.
pub const FILE_NAME: &str = "manifest.json";
/// `format` of our manifests.
pub const FORMAT: &str = "visage-collection";
/// The manifest version this service writes and reads.
pub const VERSION: u32 = 1;
/// The most manifest bytes an import reads.
pub const MAX_BYTES: u64 = 256 << 20;
/// The most subjects an import takes from a manifest.
const MAX_SUBJECTS: usize = 1_000_000;

/// The folder of `subject`'s photos in an export: the name, with `%`, control characters,
/// `/ \ : * ? " < > |`, a leading `.` and a trailing `.` or space percent-encoded (UTF-8), so that
/// the folder is safe to unpack anywhere and no two subjects share one.
pub fn folder_of(subject: &str) -> String {
    let last = subject.chars().count().saturating_sub(1);
    let mut folder = String::with_capacity(subject.len());
    for (i, c) in subject.chars().enumerate() {
        let escaped = c.is_control()
            || matches!(c, '%' | '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|')
            || (i == 0 && c == '.')
            || (i == last && matches!(c, '.' | ' '));
        if escaped {
            for byte in c.encode_utf8(&mut [0; 4]).bytes() {
                let _ = write!(folder, "%{byte:02X}");
            }
        } else {
            folder.push(c);
        }
    }
    if folder.is_empty() {
        folder.push('_');
    }
    folder
}

/// What an import takes from a manifest.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// Every subject, in the manifest's order.
    pub subjects: Vec<String>,
    /// Folder → subject.
    folders: HashMap<String, usize>,
}

impl Manifest {
    /// Reads a manifest (at most [`MAX_BYTES`]); the message says why it is not one of ours.
    pub fn read(reader: impl Read) -> Result<Self, String> {
        let file: ManifestFile = serde_json::from_reader(BufReader::new(reader.take(MAX_BYTES)))
            .map_err(|e| format!("not a readable export manifest: {e}"))?;
        if file.format != FORMAT {
            return Err(format!("not an export manifest: format is not \"{FORMAT}\""));
        }
        if file.version > VERSION {
            return Err(format!("manifest version {} is newer than this service reads ({VERSION})", file.version));
        }
        let mut manifest = Self::default();
        for entry in file.subjects {
            manifest.folders.insert(entry.folder, manifest.subjects.len());
            manifest.subjects.push(entry.subject);
        }
        Ok(manifest)
    }

    /// The subject of a folder, when the manifest names one.
    pub fn subject_of(&self, folder: &str) -> Option<&str> {
        self.folders.get(folder).map(|&i| self.subjects[i].as_str())
    }
}

#[derive(Deserialize)]
struct ManifestFile {
    format: String,
    #[serde(default)]
    version: u32,
    #[serde(default, deserialize_with = "capped_subjects")]
    subjects: Vec<SubjectEntry>,
}

#[derive(Deserialize)]
struct SubjectEntry {
    subject: String,
    folder: String,
}

/// The subjects, refusing more than [`MAX_SUBJECTS`], so a manifest cannot take memory without
/// bound.
fn capped_subjects<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<SubjectEntry>, D::Error> {
    struct Capped;

    impl<'de> Visitor<'de> for Capped {
        type Value = Vec<SubjectEntry>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a list of subjects")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut subjects = Vec::new();
            while let Some(subject) = seq.next_element()? {
                if subjects.len() == MAX_SUBJECTS {
                    return Err(de::Error::custom(format!("more than {MAX_SUBJECTS} subjects")));
                }
                subjects.push(subject);
            }
            Ok(subjects)
        }
    }

    deserializer.deserialize_seq(Capped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_are_safe_and_distinct() {
        assert_eq!(folder_of("Alice"), "Alice");
        assert_eq!(folder_of("Anna-Maria O'Neil é 王"), "Anna-Maria O'Neil é 王");
        assert_eq!(folder_of(".."), "%2E%2E");
        assert_eq!(folder_of(".hidden"), "%2Ehidden");
        assert_eq!(folder_of("a/b\\c"), "a%2Fb%5Cc");
        assert_eq!(folder_of("100%"), "100%25");
        assert_eq!(folder_of("x:y*?\"<>|"), "x%3Ay%2A%3F%22%3C%3E%7C");
        assert_eq!(folder_of("end. "), "end.%20");
        assert_eq!(folder_of("tab\there"), "tab%09here");
        assert_eq!(folder_of(""), "_");
        assert_ne!(folder_of("a:"), folder_of("a%3A"));
    }

    #[test]
    fn manifests_map_folders_to_subjects_and_ignore_the_images() {
        let text = r#"{"format":"visage-collection","version":1,
            "subjects":[{"subject":".x","folder":"%2Ex"},{"subject":"Empty","folder":"Empty"}],
            "images":[{"image_id":"1","subject":".x","file":"%2Ex/1.jpg"}],"extra":{"a":[1,2]}}"#;
        let manifest = Manifest::read(text.as_bytes()).unwrap();
        assert_eq!(manifest.subjects, [".x", "Empty"]);
        assert_eq!(manifest.subject_of("%2Ex"), Some(".x"));
        assert_eq!(manifest.subject_of(".x"), None);
    }

    #[test]
    fn other_json_is_no_manifest() {
        assert!(Manifest::read(&b"{\"format\":\"other\"}"[..]).unwrap_err().contains("format"));
        assert!(Manifest::read(&b"[1, 2]"[..]).is_err());
        assert!(Manifest::read(&b"{\"format\":\"visage-collection\",\"version\":9}"[..])
            .unwrap_err()
            .contains("newer"));
        assert!(Manifest::read(&b"\xff\xfe"[..]).is_err());
    }
}
