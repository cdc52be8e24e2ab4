//! Behaviour of `Collection` through its public API, checked against a naive f64 reference.

use std::collections::HashMap;

use half::f16;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use uuid::Uuid;
use visage_index::{Collection, IndexError, Limit, SubjectId, EXACT_SEARCH_MAX_FACES};

fn random_vector(rng: &mut StdRng, dim: usize) -> Vec<f32> {
    (0..dim).map(|_| rng.gen_range(-1.0f32..1.0)).collect()
}

fn unit(v: &[f32]) -> Vec<f64> {
    let norm = v.iter().map(|&x| f64::from(x) * f64::from(x)).sum::<f64>().sqrt();
    v.iter().map(|&x| f64::from(x) / norm).collect()
}

/// Face id, subject and embedding of every stored face, as the test believes them to be.
#[derive(Default)]
struct Model {
    faces: HashMap<Uuid, (SubjectId, Vec<f32>)>,
}

impl Model {
    /// Every stored face with its distance to `query`, nearest first.
    fn ranking(&self, query: &[f32]) -> Vec<(Uuid, SubjectId, f64)> {
        let q = unit(query);
        let mut all: Vec<_> = self
            .faces
            .iter()
            .map(|(id, (subject, v))| {
                let dot: f64 = unit(v).iter().zip(&q).map(|(a, b)| a * b).sum();
                (*id, *subject, (2.0 - 2.0 * dot).max(0.0).sqrt())
            })
            .collect();
        all.sort_by(|a, b| a.2.total_cmp(&b.2));
        all
    }
}

/// Checks one search result against the reference: same length, ascending, each returned
/// distance exact for its face, and the k-th distance equal to the reference k-th (so ties or
/// f16 rounding may only swap faces at equal distance).
fn assert_matches(got: &[visage_index::Neighbor], model: &Model, query: &[f32], k: usize) {
    let want = model.ranking(query);
    assert_eq!(got.len(), k.min(want.len()));
    let by_id: HashMap<Uuid, (SubjectId, f64)> = want.iter().map(|(id, s, d)| (*id, (*s, *d))).collect();
    for (i, n) in got.iter().enumerate() {
        let (subject, distance) = by_id[&n.face];
        assert_eq!(n.subject, subject);
        assert!(
            (f64::from(n.distance) - distance).abs() < 2e-4,
            "distance of {}: {} vs {distance}",
            n.face,
            n.distance
        );
        assert!((f64::from(n.distance) - want[i].2).abs() < 2e-4, "rank {i}: {} vs {}", n.distance, want[i].2);
        if i > 0 {
            assert!(got[i - 1].distance <= n.distance);
        }
    }
}

fn filled(rng: &mut StdRng, dim: usize, n: usize, subjects: u32) -> (Collection, Model) {
    let mut model = Model::default();
    let faces: Vec<(Uuid, SubjectId, Vec<f32>)> =
        (0..n).map(|i| (Uuid::from_u128(i as u128 + 1), rng.gen_range(0..subjects), random_vector(rng, dim))).collect();
    for (id, s, v) in &faces {
        model.faces.insert(*id, (*s, v.clone()));
    }
    let mut collection = Collection::new(dim).unwrap();
    collection.insert_many(&faces).unwrap();
    (collection, model)
}

#[test]
fn exact_search_matches_naive_reference() {
    let mut rng = StdRng::seed_from_u64(1);
    for dim in [64, 100, 512] {
        let (collection, model) = filled(&mut rng, dim, 700, 50);
        let queries: Vec<Vec<f32>> = (0..4).map(|_| random_vector(&mut rng, dim)).collect();
        let results = collection.search(&queries, Limit::Top(10)).unwrap();
        assert_eq!(results.len(), 4);
        for (got, q) in results.iter().zip(&queries) {
            assert_matches(got, &model, q, 10);
        }
    }
}

#[test]
fn a_stored_face_is_its_own_nearest_neighbour() {
    let mut rng = StdRng::seed_from_u64(2);
    let (collection, model) = filled(&mut rng, 128, 300, 10);
    for (id, (subject, v)) in model.faces.iter().take(20) {
        let scaled: Vec<f32> = v.iter().map(|x| x * 3.5).collect();
        let best = &collection.search(&[scaled], Limit::Top(1)).unwrap()[0][0];
        assert_eq!((best.face, best.subject), (*id, *subject));
        // f16 storage: the cosine to itself is 1 within f16 rounding (sqrt(2 - 2·cos) magnifies it).
        let cosine = 1.0 - best.distance * best.distance / 2.0;
        assert!(cosine > 1.0 - 1e-4, "distance to itself {}", best.distance);
    }
}

#[test]
fn large_collections_use_the_prefilter_and_still_find_the_true_neighbours() {
    // Clusters of 5 noisy samples, as faces of one person; queries are new samples.
    let mut rng = StdRng::seed_from_u64(3);
    let dim = 512;
    let n = (EXACT_SEARCH_MAX_FACES + 4_000).next_multiple_of(5);
    let centres: Vec<Vec<f32>> = (0..n / 5).map(|_| random_vector(&mut rng, dim)).collect();
    let sample =
        |rng: &mut StdRng, c: &[f32]| -> Vec<f32> { c.iter().map(|x| x + rng.gen_range(-0.8f32..0.8)).collect() };
    let mut model = Model::default();
    let faces: Vec<(Uuid, SubjectId, Vec<f32>)> =
        (0..n).map(|i| (Uuid::from_u128(i as u128 + 1), (i / 5) as u32, sample(&mut rng, &centres[i / 5]))).collect();
    for (id, s, v) in &faces {
        model.faces.insert(*id, (*s, v.clone()));
    }
    let mut collection = Collection::new(dim).unwrap();
    collection.insert_many(&faces).unwrap();

    let queries: Vec<Vec<f32>> = (0..8).map(|i| sample(&mut rng, &centres[i * 97])).collect();
    let results = collection.search(&queries, Limit::Top(5)).unwrap();
    for (got, q) in results.iter().zip(&queries) {
        assert_matches(got, &model, q, 5);
    }
    // Unrelated queries: whatever the prefilter keeps is reported with its exact distance.
    let random: Vec<Vec<f32>> = (0..2).map(|_| random_vector(&mut rng, dim)).collect();
    for (got, q) in collection.search(&random, Limit::Top(3)).unwrap().iter().zip(&random) {
        let want: HashMap<Uuid, f64> = model.ranking(q).into_iter().map(|(id, _, d)| (id, d)).collect();
        assert_eq!(got.len(), 3);
        assert!(got.windows(2).all(|w| w[0].distance <= w[1].distance));
        assert!(got.iter().all(|n| (f64::from(n.distance) - want[&n.face]).abs() < 2e-4));
    }
}

#[test]
fn inserts_removals_and_reassignments_stay_consistent() {
    let mut rng = StdRng::seed_from_u64(4);
    let dim = 32;
    // More than one chunk of rows, so removals move rows across chunks.
    let (mut collection, mut model) = filled(&mut rng, dim, 17_000, 40);
    let mut next = 100_000u128;
    for step in 0..3_000 {
        match rng.gen_range(0..10) {
            0..=4 => {
                let id = Uuid::from_u128(next);
                next += 1;
                let v = random_vector(&mut rng, dim);
                let subject = rng.gen_range(0..40);
                collection.insert(id, subject, &v).unwrap();
                model.faces.insert(id, (subject, v));
            }
            5..=8 => {
                let id = Uuid::from_u128(rng.gen_range(1..next));
                let want = model.faces.remove(&id).map(|(s, _)| s);
                assert_eq!(collection.remove(id), want, "step {step}");
            }
            _ => {
                let (from, to) = (rng.gen_range(0..40), rng.gen_range(0..40));
                let mut moved = 0;
                for (s, _) in model.faces.values_mut().filter(|(s, _)| *s == from) {
                    *s = to;
                    moved += 1;
                }
                assert_eq!(collection.reassign_subject(from, to), moved);
            }
        }
    }
    assert_eq!(collection.len(), model.faces.len());
    for (id, (subject, _)) in &model.faces {
        assert_eq!(collection.subject_of(*id), Some(*subject));
    }

    let doomed = model.faces.values().next().unwrap().0;
    let count = model.faces.values().filter(|(s, _)| *s == doomed).count();
    assert!(count > 0);
    assert_eq!(collection.remove_subject(doomed), count);
    model.faces.retain(|_, (s, _)| *s != doomed);
    assert_eq!(collection.len(), model.faces.len());
    assert_eq!(collection.remove_subject(doomed), 0);

    let query = random_vector(&mut rng, dim);
    let all = collection.search(&[&query], Limit::All).unwrap();
    assert_matches(&all[0], &model, &query, usize::MAX);
    assert!(all[0].iter().all(|n| n.subject != doomed));

    collection.clear();
    assert!(collection.is_empty());
    assert!(collection.heap_bytes() < 4_096);
}

#[test]
fn removing_a_face_reindexes_the_moved_row() {
    let mut c = Collection::new(4).unwrap();
    let ids: Vec<Uuid> = (1..=3).map(Uuid::from_u128).collect();
    for (i, id) in ids.iter().enumerate() {
        let mut v = [0.0f32; 4];
        v[i] = 1.0;
        c.insert(*id, i as u32, &v).unwrap();
    }
    assert_eq!(c.remove(ids[0]), Some(0));
    assert_eq!(c.remove(ids[0]), None);
    // The last face moved into row 0; it must still be found by id and by search.
    assert_eq!(c.subject_of(ids[2]), Some(2));
    let hit = &c.search(&[[0.0f32, 0.0, 1.0, 0.0]], Limit::Top(1)).unwrap()[0][0];
    assert_eq!((hit.face, hit.subject, hit.distance), (ids[2], 2, 0.0));
    assert_eq!(c.remove(ids[2]), Some(2));
    assert_eq!(c.len(), 1);
    assert!(c.contains(ids[1]));
}

#[test]
fn limits_and_empty_collections() {
    let mut rng = StdRng::seed_from_u64(5);
    let empty = Collection::new(16).unwrap();
    let q = random_vector(&mut rng, 16);
    assert_eq!(empty.search(&[&q, &q], Limit::Top(3)).unwrap(), vec![vec![], vec![]]);
    assert_eq!(empty.search(&[&q], Limit::All).unwrap(), vec![vec![]]);
    assert!(empty.search::<Vec<f32>>(&[], Limit::Top(1)).unwrap().is_empty());

    let (c, model) = filled(&mut rng, 16, 7, 3);
    assert_eq!(c.search(&[&q], Limit::Top(0)).unwrap(), vec![vec![]]);
    let more = c.search(&[&q], Limit::Top(50)).unwrap();
    assert_matches(&more[0], &model, &q, 7);
    assert_eq!(c.search(&[&q], Limit::All).unwrap(), more);

    assert_eq!(Limit::from_prediction_count(-1), Some(Limit::All));
    assert_eq!(Limit::from_prediction_count(3), Some(Limit::Top(3)));
    assert_eq!(Limit::from_prediction_count(0), None);
    assert_eq!(Limit::from_prediction_count(-2), None);
}

#[test]
fn bad_input_is_an_error_and_changes_nothing() {
    assert_eq!(Collection::new(0).err(), Some(IndexError::InvalidDimension(0)));
    assert_eq!(Collection::new(100_000).err(), Some(IndexError::InvalidDimension(100_000)));

    let mut c = Collection::new(4).unwrap();
    let a = Uuid::from_u128(1);
    c.insert(a, 1, &[1.0f32, 0.0, 0.0, 0.0]).unwrap();

    let mismatch = IndexError::DimensionMismatch { expected: 4, actual: 3 };
    assert_eq!(c.insert(Uuid::from_u128(2), 1, &[1.0f32, 2.0, 3.0]), Err(mismatch.clone()));
    assert_eq!(c.search(&[[1.0f32, 2.0, 3.0]], Limit::Top(1)), Err(mismatch.clone()));
    assert_eq!(c.distances(a, &[[1.0f32, 2.0, 3.0]]), Err(mismatch));
    assert_eq!(c.insert(Uuid::from_u128(2), 1, &[1.0f32, f32::NAN, 0.0, 0.0]), Err(IndexError::NonFinite));
    assert_eq!(c.insert(Uuid::from_u128(2), 1, &[f32::INFINITY, 0.0, 0.0, 0.0]), Err(IndexError::NonFinite));
    assert_eq!(
        c.insert(Uuid::from_u128(2), 1, &[f16::NAN, f16::ZERO, f16::ZERO, f16::ZERO]),
        Err(IndexError::NonFinite)
    );
    assert_eq!(c.search(&[[0.0f32, f32::NEG_INFINITY, 0.0, 0.0]], Limit::All), Err(IndexError::NonFinite));
    assert_eq!(c.insert(Uuid::from_u128(2), 1, &[0.0f32; 4]), Err(IndexError::ZeroVector));
    assert_eq!(c.search(&[[0.0f32; 4]], Limit::Top(1)), Err(IndexError::ZeroVector));
    assert_eq!(c.insert(a, 2, &[0.0f32, 1.0, 0.0, 0.0]), Err(IndexError::DuplicateFace(a)));
    let unknown = Uuid::from_u128(99);
    assert_eq!(c.distances(unknown, &[[1.0f32, 0.0, 0.0, 0.0]]), Err(IndexError::UnknownFace(unknown)));

    // A batch with a bad face anywhere is refused as a whole, even when encoded in parallel.
    let mut batch: Vec<(Uuid, SubjectId, Vec<f32>)> =
        (10..20_010).map(|i| (Uuid::from_u128(i), 3, vec![1.0, 2.0, 3.0, i as f32])).collect();
    batch[15_000].2[1] = f32::NAN;
    assert_eq!(c.insert_many(&batch), Err(IndexError::NonFinite));
    batch[15_000].2[1] = 2.0;
    batch[19_999].0 = Uuid::from_u128(10);
    assert_eq!(c.insert_many(&batch), Err(IndexError::DuplicateFace(Uuid::from_u128(10))));
    batch[19_999].0 = a;
    assert_eq!(c.insert_many(&batch), Err(IndexError::DuplicateFace(a)));

    assert_eq!(c.len(), 1);
    assert_eq!(c.subject_of(a), Some(1));
    assert!(!c.contains(Uuid::from_u128(10)));
    let hit = &c.search(&[[2.0f32, 0.0, 0.0, 0.0]], Limit::All).unwrap()[0];
    assert_eq!(hit.len(), 1);
    assert_eq!((hit[0].face, hit[0].distance), (a, 0.0));

    // Tiny but non-zero values still have a direction.
    c.insert(Uuid::from_u128(3), 4, &[0.0f32, 1e-40, 0.0, 0.0]).unwrap();
    assert_eq!(c.distances(Uuid::from_u128(3), &[[0.0f32, 5.0, 0.0, 0.0]]), Ok(vec![0.0]));
}

#[test]
fn distances_to_one_face_match_search() {
    let mut rng = StdRng::seed_from_u64(6);
    let (c, model) = filled(&mut rng, 512, 50, 5);
    let queries: Vec<Vec<f32>> = (0..3).map(|_| random_vector(&mut rng, 512)).collect();
    let (&id, _) = model.faces.iter().next().unwrap();
    let distances = c.distances(id, &queries).unwrap();
    let all = c.search(&queries, Limit::All).unwrap();
    for (d, results) in distances.iter().zip(&all) {
        let found = results.iter().find(|n| n.face == id).unwrap();
        assert_eq!(found.distance, *d);
    }
}

#[test]
fn f16_rows_load_like_f32_rows() {
    let mut rng = StdRng::seed_from_u64(7);
    let dim = 128;
    let rows: Vec<Vec<f32>> = (0..200).map(|_| random_vector(&mut rng, dim)).collect();
    let halves: Vec<(Uuid, SubjectId, Vec<f16>)> = rows
        .iter()
        .enumerate()
        .map(|(i, v)| (Uuid::from_u128(i as u128), 0, v.iter().map(|&x| f16::from_f32(x)).collect()))
        .collect();
    let singles: Vec<(Uuid, SubjectId, Vec<f32>)> =
        halves.iter().map(|(id, s, v)| (*id, *s, v.iter().map(|x| x.to_f32()).collect())).collect();
    let (mut a, mut b) = (Collection::new(dim).unwrap(), Collection::new(dim).unwrap());
    a.insert_many(&halves).unwrap();
    b.insert_many(&singles).unwrap();
    let q = random_vector(&mut rng, dim);
    assert_eq!(a.search(&[&q], Limit::All).unwrap(), b.search(&[&q], Limit::All).unwrap());
}
