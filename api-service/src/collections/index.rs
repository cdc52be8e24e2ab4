//! The searchable faces of one recognition service, with the names of its subjects.
//!
//! Faces live in a `visage_index::Collection` per embedding length: normally exactly one, two
//! only while `/migrate` moves a service to an embedder of another size. Subjects are the
//! index's compact `SubjectId`s, mapped to their database ids and names here, so a rename is one
//! map update and shows in the very next search.

use std::collections::HashMap;
use std::ops::Range;

use uuid::Uuid;
use visage_index::{Collection, IndexError, Limit, SubjectId};
use visage_store::bulk::EmbeddingRow;
use visage_store::StoredFace;

/// One stored face found for a query.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    pub image_id: Uuid,
    pub subject: String,
    /// Euclidean distance between the unit-length query and the stored face.
    pub distance: f32,
}

/// A stored face and its distance to each query, in query order.
pub type FaceDistances = (Uuid, Vec<f32>);

/// Why a search could not run; all of these come from the query.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SearchError {
    #[error("Embeddings of {actual} values cannot be compared with the stored faces, which have {expected} values")]
    Length { expected: usize, actual: usize },
    #[error("Embeddings of different lengths cannot be searched together")]
    MixedLengths,
    #[error("Invalid embedding: {0}")]
    Invalid(IndexError),
}

/// The faces and subject names of one service.
#[derive(Default)]
pub struct FaceIndex {
    collections: Vec<Collection>,
    subjects: HashMap<Uuid, SubjectId>,
    /// The database id and name of each subject; the name is unknown for a moment during a load.
    names: HashMap<SubjectId, (Uuid, Option<String>)>,
    next_subject: SubjectId,
}

impl FaceIndex {
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of faces.
    pub fn len(&self) -> usize {
        self.collections.iter().map(Collection::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes the search structures allocate.
    pub fn heap_bytes(&self) -> usize {
        self.collections.iter().map(Collection::heap_bytes).sum()
    }

    /// Adds faces known to be new (a bulk load), their subjects named later by
    /// [`FaceIndex::name_subjects`]. Faces the index cannot hold (an embedding of no values,
    /// NaN or all zeros) are logged and left out. `values` is scratch space kept between calls.
    pub fn extend(&mut self, rows: &[EmbeddingRow], values: &mut Vec<f32>) {
        values.clear();
        let mut by_length: HashMap<usize, Vec<(Uuid, SubjectId, Range<usize>)>> = HashMap::new();
        for row in rows {
            let start = values.len();
            values.extend(row.embedding.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])));
            if !row.embedding.len().is_multiple_of(4) || !usable(row.image_id, &values[start..]) {
                values.truncate(start);
                continue;
            }
            let subject = self.subject_id(row.subject_id, None);
            by_length.entry(values.len() - start).or_default().push((row.image_id, subject, start..values.len()));
        }
        for (length, faces) in by_length {
            let Some(collection) = self.collection_mut(length) else {
                continue;
            };
            let faces: Vec<(Uuid, SubjectId, &[f32])> =
                faces.into_iter().map(|(id, subject, range)| (id, subject, &values[range])).collect();
            if collection.insert_many(&faces).is_err() {
                // Only a duplicate id can get here; insert what can be inserted.
                for (image_id, subject, embedding) in &faces {
                    if let Err(e) = collection.insert(*image_id, *subject, embedding) {
                        tracing::warn!(%image_id, error = %e, "face left out of the search index");
                    }
                }
            }
        }
        self.drop_empty();
    }

    /// Names the subjects after a bulk load. A subject with no name here was deleted since its
    /// faces were read: its faces go too.
    pub fn name_subjects(&mut self, names: Vec<(Uuid, String)>) {
        for (subject, name) in names {
            self.rename_subject(subject, &name);
        }
        let unnamed: Vec<Uuid> = self.names.values().filter(|(_, name)| name.is_none()).map(|(id, _)| *id).collect();
        for subject in unnamed {
            self.remove_subject(subject);
        }
    }

    /// Stores `face` as read from the database, replacing the face with its id if there is one.
    pub fn upsert(&mut self, face: &StoredFace) {
        self.remove(face.image_id);
        if !usable(face.image_id, &face.embedding) {
            return;
        }
        let subject = self.subject_id(face.subject_id, Some(face.subject.clone()));
        if let Some(collection) = self.collection_mut(face.embedding.len()) {
            if let Err(e) = collection.insert(face.image_id, subject, &face.embedding) {
                tracing::warn!(image_id = %face.image_id, error = %e, "face left out of the search index");
            }
        }
        self.drop_empty();
    }

    /// Removes a face; whether it was there.
    pub fn remove(&mut self, image_id: Uuid) -> bool {
        let removed = self.collections.iter_mut().any(|c| c.remove(image_id).is_some());
        if removed {
            self.drop_empty();
        }
        removed
    }

    /// Gives a subject its current name.
    pub fn rename_subject(&mut self, subject: Uuid, name: &str) {
        if let Some(id) = self.subjects.get(&subject) {
            if let Some(entry) = self.names.get_mut(id) {
                entry.1 = Some(name.to_string());
            }
        }
    }

    /// Removes a subject's faces, keeping its name.
    pub fn remove_subject_faces(&mut self, subject: Uuid) {
        if let Some(&id) = self.subjects.get(&subject) {
            for collection in &mut self.collections {
                collection.remove_subject(id);
            }
            self.drop_empty();
        }
    }

    /// Removes a subject with its faces.
    pub fn remove_subject(&mut self, subject: Uuid) {
        self.remove_subject_faces(subject);
        if let Some(id) = self.subjects.remove(&subject) {
            self.names.remove(&id);
        }
    }

    /// The `limit` nearest faces to each query, nearest first; with `guaranteed`, every face at
    /// or above that cosine which belongs among them is found (see
    /// [`Collection::search_guaranteed`]). An empty index answers empty lists to anything.
    pub fn search(
        &self,
        queries: &[Vec<f32>],
        limit: Limit,
        guaranteed: Option<f32>,
    ) -> Result<Vec<Vec<Match>>, SearchError> {
        if self.is_empty() {
            return Ok(vec![Vec::new(); queries.len()]);
        }
        let Some(length) = queries.first().map(Vec::len) else {
            return Ok(Vec::new());
        };
        if queries.iter().any(|q| q.len() != length) {
            return Err(SearchError::MixedLengths);
        }
        let collection = self.collection(length)?;
        let found = match guaranteed {
            Some(cosine) => collection.search_guaranteed(queries, limit, cosine),
            None => collection.search(queries, limit),
        }
        .map_err(SearchError::Invalid)?;
        Ok(found
            .into_iter()
            .map(|neighbors| {
                neighbors
                    .into_iter()
                    .filter_map(|n| {
                        let name = self.names.get(&n.subject)?.1.as_ref()?;
                        Some(Match { image_id: n.face, subject: name.clone(), distance: n.distance })
                    })
                    .collect()
            })
            .collect())
    }

    /// The subject of a stored face and the distance from it to each query; `None` if there is
    /// no such face.
    pub fn verify(&self, image_id: Uuid, queries: &[Vec<f32>]) -> Option<Result<(String, Vec<f32>), SearchError>> {
        let collection = self.collections.iter().find(|c| c.contains(image_id))?;
        let subject = collection.subject_of(image_id)?;
        let name = self.names.get(&subject)?.1.as_ref()?;
        if let Some(q) = queries.iter().find(|q| q.len() != collection.dim()) {
            return Some(Err(SearchError::Length { expected: collection.dim(), actual: q.len() }));
        }
        Some(collection.distances(image_id, queries).map(|d| (name.clone(), d)).map_err(SearchError::Invalid))
    }

    /// The distance from each query to each stored face of subject `subject` (its database id),
    /// as `(image_id, distances in query order)`; `None` if no stored face belongs to it.
    pub fn verify_subject(
        &self,
        subject: Uuid,
        queries: &[Vec<f32>],
    ) -> Option<Result<Vec<FaceDistances>, SearchError>> {
        let subject = *self.subjects.get(&subject)?;
        let mut found = Vec::new();
        for collection in &self.collections {
            let faces = collection.faces_of(subject);
            if faces.is_empty() {
                continue;
            }
            if let Some(q) = queries.iter().find(|q| q.len() != collection.dim()) {
                return Some(Err(SearchError::Length { expected: collection.dim(), actual: q.len() }));
            }
            for face in faces {
                match collection.distances(face, queries) {
                    Ok(d) => found.push((face, d)),
                    Err(e) => return Some(Err(SearchError::Invalid(e))),
                }
            }
        }
        (!found.is_empty()).then_some(Ok(found))
    }

    fn collection(&self, length: usize) -> Result<&Collection, SearchError> {
        self.collections.iter().find(|c| c.dim() == length).ok_or_else(|| SearchError::Length {
            // The largest collection (the oldest of equals): the length clients most likely need.
            expected: self.collections.iter().rev().max_by_key(|c| c.len()).map_or(0, Collection::dim),
            actual: length,
        })
    }

    fn collection_mut(&mut self, length: usize) -> Option<&mut Collection> {
        let at = match self.collections.iter().position(|c| c.dim() == length) {
            Some(at) => at,
            None => match Collection::new(length) {
                Ok(collection) => {
                    self.collections.push(collection);
                    self.collections.len() - 1
                }
                Err(e) => {
                    tracing::warn!(error = %e, "faces with embeddings of {length} values left out of the search index");
                    return None;
                }
            },
        };
        self.collections.get_mut(at)
    }

    /// The index's id of a subject, made on first sight; a name given refreshes the known one.
    fn subject_id(&mut self, subject: Uuid, name: Option<String>) -> SubjectId {
        if let Some(&id) = self.subjects.get(&subject) {
            if let (Some(entry), Some(name)) = (self.names.get_mut(&id), name) {
                entry.1 = Some(name);
            }
            return id;
        }
        let id = self.next_subject;
        self.next_subject = self.next_subject.wrapping_add(1);
        self.subjects.insert(subject, id);
        self.names.insert(id, (subject, name));
        id
    }

    fn drop_empty(&mut self) {
        if self.collections.len() > 1 {
            self.collections.retain(|c| !c.is_empty());
        }
    }
}

/// Whether the index can hold a face's embedding: some values, all finite, not all zero.
fn usable(image_id: Uuid, embedding: &[f32]) -> bool {
    let ok = !embedding.is_empty() && embedding.iter().all(|x| x.is_finite()) && embedding.iter().any(|x| *x != 0.0);
    if !ok {
        tracing::warn!(%image_id, "face with an unusable embedding left out of the search index");
    }
    ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face(image: u128, subject: u128, name: &str, embedding: &[f32]) -> StoredFace {
        StoredFace {
            model_id: Uuid::nil(),
            image_id: Uuid::from_u128(image),
            subject_id: Uuid::from_u128(subject),
            subject: name.to_string(),
            embedding: embedding.to_vec(),
            calculator: "test".to_string(),
        }
    }

    /// A bulk load of these faces.
    fn loaded(faces: &[StoredFace]) -> FaceIndex {
        let rows: Vec<EmbeddingRow> = faces
            .iter()
            .map(|f| EmbeddingRow {
                image_id: f.image_id,
                subject_id: f.subject_id,
                embedding: visage_store::embedding::to_bytes(&f.embedding),
            })
            .collect();
        let mut index = FaceIndex::new();
        let mut scratch = Vec::new();
        index.extend(&rows[..1], &mut scratch);
        index.extend(&rows[1..], &mut scratch);
        index.name_subjects(faces.iter().map(|f| (f.subject_id, f.subject.clone())).collect());
        index
    }

    fn names(index: &FaceIndex, query: &[f32], limit: Limit) -> Vec<String> {
        index.search(&[query.to_vec()], limit, None).unwrap().remove(0).into_iter().map(|m| m.subject).collect()
    }

    #[test]
    fn searches_renames_and_removes() {
        let mut index =
            loaded(&[face(1, 10, "a", &[1.0, 0.0]), face(2, 20, "b", &[0.0, 1.0]), face(3, 10, "a", &[0.9, 0.1])]);
        assert_eq!(index.len(), 3);
        assert_eq!(names(&index, &[1.0, 0.05], Limit::All), ["a", "a", "b"]);
        index.rename_subject(Uuid::from_u128(10), "z");
        assert_eq!(names(&index, &[1.0, 0.05], Limit::Top(1)), ["z"]);
        assert!(index.remove(Uuid::from_u128(1)));
        assert!(!index.remove(Uuid::from_u128(1)));
        index.remove_subject(Uuid::from_u128(10));
        assert_eq!(names(&index, &[1.0, 0.0], Limit::All), ["b"]);
    }

    #[test]
    fn a_load_drops_the_faces_of_subjects_deleted_meanwhile() {
        let rows = [face(1, 10, "a", &[1.0, 0.0]), face(2, 20, "b", &[0.0, 1.0])].map(|f| EmbeddingRow {
            image_id: f.image_id,
            subject_id: f.subject_id,
            embedding: visage_store::embedding::to_bytes(&f.embedding),
        });
        let mut index = FaceIndex::new();
        index.extend(&rows, &mut Vec::new());
        index.name_subjects(vec![(Uuid::from_u128(20), "b".to_string())]);
        assert_eq!(names(&index, &[1.0, 0.0], Limit::All), ["b"]);
        assert_eq!(index.len(), 1);
    }

    #[test]
    fn upsert_moves_a_face_to_its_new_subject_and_embedding() {
        let mut index = loaded(&[face(1, 10, "a", &[1.0, 0.0])]);
        index.upsert(&face(1, 20, "b", &[0.0, 1.0]));
        let found = index.search(&[vec![0.0, 1.0]], Limit::All, Some(0.5)).unwrap();
        assert_eq!(found[0].len(), 1);
        assert_eq!((found[0][0].subject.as_str(), found[0][0].distance), ("b", 0.0));
    }

    #[test]
    fn lengths_are_kept_apart_and_checked() {
        assert_eq!(FaceIndex::new().search(&[vec![1.0; 7]], Limit::All, None).unwrap(), vec![Vec::<Match>::new()]);
        let mut index = loaded(&[
            face(1, 10, "a", &[1.0, 0.0]),
            face(2, 10, "a", &[0.0, 0.0, 1.0]),
            face(3, 10, "a", &[0.0; 2]),
            face(4, 10, "a", &[f32::NAN, 1.0]),
        ]);
        assert_eq!(index.len(), 2, "the zero and NaN vectors are left out");
        assert_eq!(names(&index, &[0.0, 0.0, 2.0], Limit::All), ["a"]);
        assert_eq!(
            index.search(&[vec![1.0; 4]], Limit::All, None),
            Err(SearchError::Length { expected: 2, actual: 4 })
        );
        assert_eq!(index.search(&[vec![1.0; 2], vec![1.0; 3]], Limit::All, None), Err(SearchError::MixedLengths));
        assert!(matches!(index.search(&[vec![0.0; 2]], Limit::All, None), Err(SearchError::Invalid(_))));
        // A length whose faces are all gone no longer counts.
        index.remove(Uuid::from_u128(2));
        assert_eq!(index.collections.len(), 1);
    }

    #[test]
    fn verify_names_the_subject_and_measures_each_query() {
        let index = loaded(&[face(1, 10, "a", &[1.0, 0.0])]);
        let (name, distances) = index.verify(Uuid::from_u128(1), &[vec![2.0, 0.0], vec![0.0, 1.0]]).unwrap().unwrap();
        assert_eq!(name, "a");
        assert!(distances[0].abs() < 1e-3 && (distances[1] - 2f32.sqrt()).abs() < 1e-3, "{distances:?}");
        assert!(index.verify(Uuid::from_u128(9), &[vec![1.0, 0.0]]).is_none());
        assert_eq!(
            index.verify(Uuid::from_u128(1), &[vec![1.0; 3]]),
            Some(Err(SearchError::Length { expected: 2, actual: 3 }))
        );
    }
}
