//! What an import did, as printed at its end.

use std::fmt;

use uuid::Uuid;
use visage_store::compreface::Upserted;

/// Rows of one kind: how many CompreFace has (that are imported), and of those how many this run
/// inserted and how many it updated (the others were already as in CompreFace).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Count {
    pub total: u64,
    pub new: u64,
    pub changed: u64,
}

impl Count {
    pub fn of(total: usize, written: Upserted) -> Self {
        Self { total: total as u64, new: written.new, changed: written.changed }
    }
}

/// What became of CompreFace's faces. `in_compreface` is the sum of the others.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FaceCounts {
    pub in_compreface: u64,
    /// Re-embedded and stored by this run.
    pub imported: u64,
    /// Stored by an earlier run.
    pub already_imported: u64,
    /// core-service found no face in the photo (or could not read it).
    pub without_face: u64,
    /// Stored without a photo (`save_images_to_db=false`, CompreFace's demo faces): nothing to
    /// re-embed.
    pub without_image: u64,
    /// Whose subject is not in Visage (added to CompreFace after the import read its subjects):
    /// for the next run.
    pub without_subject: u64,
    /// Not attempted (`--max-faces`): for the next run.
    pub left: u64,
}

/// Why a face was left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// core-service's message.
    NoFace(String),
    NoImage,
    NoSubject,
}

impl SkipReason {
    /// Orders the list: faces without a face first, then without a photo, then the rest.
    pub fn rank(&self) -> u8 {
        match self {
            Self::NoFace(_) => 0,
            Self::NoImage => 1,
            Self::NoSubject => 2,
        }
    }
}

/// A face that was left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedFace {
    /// CompreFace's `image_id`.
    pub image_id: Uuid,
    pub subject: String,
    pub service: String,
    pub reason: SkipReason,
}

/// The result of an import.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// CompreFace's database, `host:port/database`.
    pub source: String,
    pub users: Count,
    /// CompreFace's demo user, never taken over, was left out.
    pub demo_user_skipped: bool,
    pub apps: Count,
    pub members: Count,
    pub services: Count,
    /// Services by type: recognition, detection, verification.
    pub service_types: [u64; 3],
    pub subjects: Count,
    /// Service-days of request counts.
    pub statistics: Count,
    pub faces: FaceCounts,
    /// Faces left out, with the reason: the first 100 of each reason.
    pub skipped_faces: Vec<SkippedFace>,
    /// Parts of Visage's untouched seeded demo that were removed.
    pub removed_demo: Vec<String>,
    /// Things translated on the way.
    pub notes: Vec<String>,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn row(f: &mut fmt::Formatter<'_>, what: &str, count: Count, more: &str) -> fmt::Result {
            writeln!(f, "  {what:<22}{:>8}  ({} new, {} updated{more})", count.total, count.new, count.changed)
        }
        writeln!(f, "Imported from CompreFace ({}):", self.source)?;
        let demo = if self.demo_user_skipped { "; CompreFace's demo user, never taken over, is left out" } else { "" };
        row(f, "users", self.users, demo)?;
        row(f, "applications", self.apps, "")?;
        row(f, "application members", self.members, "")?;
        let [r, d, v] = self.service_types;
        row(f, "services", self.services, &format!("; {r} recognition, {d} detection, {v} verification"))?;
        row(f, "subjects", self.subjects, "")?;
        row(f, "statistics (days)", self.statistics, "")?;
        let c = &self.faces;
        writeln!(f, "  {:<22}{:>8}", "faces in CompreFace", c.in_compreface)?;
        writeln!(f, "    {:<20}{:>8}  (re-embedded by this run)", "imported", c.imported)?;
        writeln!(f, "    {:<20}{:>8}  (by an earlier run)", "imported before", c.already_imported)?;
        writeln!(f, "    {:<20}{:>8}  (core-service found no face in the photo)", "without a face", c.without_face)?;
        writeln!(
            f,
            "    {:<20}{:>8}  (stored without their photo, save_images_to_db=false: cannot be re-embedded)",
            "without a photo", c.without_image
        )?;
        if c.without_subject > 0 {
            writeln!(
                f,
                "    {:<20}{:>8}  (added to CompreFace meanwhile: run the import again)",
                "without a subject", c.without_subject
            )?;
        }
        if c.left > 0 {
            writeln!(f, "    {:<20}{:>8}  (run the import again to import them)", "left for later", c.left)?;
        }
        if !self.removed_demo.is_empty() {
            writeln!(f, "Removed from Visage's untouched demo: {}.", self.removed_demo.join(", "))?;
        }
        if !self.notes.is_empty() {
            writeln!(f, "Notes:")?;
            for note in &self.notes {
                writeln!(f, "  - {note}")?;
            }
        }
        let named = c.without_face + c.without_image + c.without_subject;
        if named > 0 {
            writeln!(f, "Faces not imported (image_id, subject, service):")?;
            for face in &self.skipped_faces {
                let why = match &face.reason {
                    SkipReason::NoFace(message) => format!("no face: {message}"),
                    SkipReason::NoImage => "no photo".to_string(),
                    SkipReason::NoSubject => "its subject is not in Visage (run the import again)".to_string(),
                };
                writeln!(f, "  - {} \"{}\" in \"{}\": {why}", face.image_id, face.subject, face.service)?;
            }
            let not_listed = named.saturating_sub(self.skipped_faces.len() as u64);
            if not_listed > 0 {
                writeln!(f, "  … and {not_listed} more")?;
            }
        }
        Ok(())
    }
}
