//! Measures how fast a large collection loads from Postgres, as the search index loads it at
//! start-up: `Store::stream_faces` over every face, decoding each embedding.
//!
//! ```sh
//! cargo run --release -p visage-store --example load_faces -- 1000000 512
//! ```
//!
//! Uses `DATABASE_URL` when set, else a throwaway cluster (see `visage_store::testing`); the
//! faces are written with one SQL statement (pseudo-random embedding bytes), vacuumed, then
//! streamed three times.

use std::time::Instant;

use futures::TryStreamExt;
use visage_store::testing::TestDatabase;
use visage_store::ServiceType;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let faces: i64 = args.next().map_or(1_000_000, |a| a.parse().expect("faces: a number"));
    let dimension: i32 = args.next().map_or(512, |a| a.parse().expect("dimension: a number"));
    assert!(dimension % 4 == 0, "the dimension must be a multiple of 4");

    let db = TestDatabase::create().await;
    let model = db.create_service(ServiceType::Recognition).await.id;
    let pool = db.pool();
    let started = Instant::now();
    // 100 faces per subject; each embedding is md5 bytes repeated to 4 · dimension bytes.
    sqlx::query(
        "INSERT INTO subjects (model_id, name) SELECT $1, 'subject ' || g FROM generate_series(1, ($2 + 99) / 100) g",
    )
    .bind(model)
    .bind(faces)
    .execute(pool)
    .await
    .expect("subjects");
    sqlx::query(
        "INSERT INTO faces (model_id, subject_id, embedding, dimension, calculator) \
         SELECT $1, s.id, decode(repeat(md5(g::text), $3 / 4), 'hex'), $3, 'bench' \
         FROM generate_series(0, $2 - 1) g \
         JOIN (SELECT id, row_number() OVER () - 1 AS n FROM subjects WHERE model_id = $1) s ON s.n = g / 100",
    )
    .bind(model)
    .bind(faces)
    .bind(dimension)
    .execute(pool)
    .await
    .expect("faces");
    sqlx::query("VACUUM ANALYZE faces").execute(pool).await.expect("vacuum");
    let size: String = sqlx::query_scalar("SELECT pg_size_pretty(pg_total_relation_size('faces'))")
        .fetch_one(pool)
        .await
        .expect("size");
    println!("wrote {faces} faces of dimension {dimension} ({size}) in {:.1?}", started.elapsed());

    for run in 1..=3 {
        let started = Instant::now();
        let (count, checksum) = db
            .store
            .stream_faces(Some(model))
            .try_fold((0u64, 0u32), |(n, bits), face| async move { Ok((n + 1, bits ^ face.embedding[0].to_bits())) })
            .await
            .expect("stream");
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "run {run}: streamed {count} faces in {seconds:.2} s ({:.0} faces/s, checksum {checksum:08x})",
            count as f64 / seconds
        );
    }
}
