//! Inserts racing deletions, at every isolation level a deleting transaction may run at: no face
//! may outlive its subject, no image its face, no subject its service.
//!
//! The scripted interleavings are deterministic: the deleting transaction takes its snapshot,
//! a child row is committed by another connection, then the parent is deleted. A foreign key
//! sees the child (its checks and cascades look at the latest committed rows) and either deletes
//! it or fails the deletion with a serialization error; a check that reads the transaction's
//! snapshot would miss it and leave it behind. The free-running races repeat a bounded number of
//! times with concurrent writers.

use std::time::Duration;

use sqlx::{Connection, Executor, PgConnection, PgPool};
use uuid::Uuid;
use visage_store::testing::TestDatabase;
use visage_store::ServiceType;

const LEVELS: [&str; 3] = ["READ COMMITTED", "REPEATABLE READ", "SERIALIZABLE"];

/// Rows whose parent is gone: faces without their subject (in their service), images without
/// their face, subjects without their service.
async fn orphans(pool: &PgPool) -> (i64, i64, i64) {
    sqlx::query_as(
        "SELECT \
           (SELECT count(*) FROM faces f WHERE NOT EXISTS \
              (SELECT 1 FROM subjects s WHERE s.id = f.subject_id AND s.model_id = f.model_id)), \
           (SELECT count(*) FROM images i WHERE NOT EXISTS (SELECT 1 FROM faces f WHERE f.id = i.face_id)), \
           (SELECT count(*) FROM subjects s WHERE NOT EXISTS (SELECT 1 FROM models m WHERE m.id = s.model_id))",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

async fn subject(pool: &PgPool, model: Uuid, name: &str) -> Uuid {
    sqlx::query_scalar("INSERT INTO subjects (model_id, name) VALUES ($1, $2) RETURNING id")
        .bind(model)
        .bind(name)
        .fetch_one(pool)
        .await
        .unwrap()
}

/// A face of `subject` (an image with it when `image`) on `conn`.
async fn insert_face(conn: &mut PgConnection, model: Uuid, subject: Uuid, image: bool) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO faces (id, model_id, subject_id, embedding, dimension, calculator) \
         VALUES ($1, $2, $3, '\\x0000803f', 1, 'race')",
    )
    .bind(id)
    .bind(model)
    .bind(subject)
    .execute(&mut *conn)
    .await?;
    if image {
        sqlx::query("INSERT INTO images (face_id, content) VALUES ($1, '\\x01')").bind(id).execute(&mut *conn).await?;
    }
    Ok(id)
}

/// A face (with its image when `image`) committed in a transaction of its own.
async fn commit_face(pool: &PgPool, model: Uuid, subject: Uuid, image: bool) -> Result<Uuid, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let id = insert_face(&mut tx, model, subject, image).await?;
    tx.commit().await?;
    Ok(id)
}

async fn connect(db: &TestDatabase) -> PgConnection {
    PgConnection::connect_with(&db.options).await.unwrap()
}

/// Runs `statement` in a transaction at `level` whose snapshot was taken before `meanwhile` ran
/// on another connection; a failure (a serialization error) rolls it back.
async fn delete_after_snapshot<F>(db: &TestDatabase, level: &str, statement: &str, meanwhile: F) -> Result<(), String>
where
    F: std::future::Future<Output = ()>,
{
    let mut deleter = connect(db).await;
    deleter.execute(format!("BEGIN ISOLATION LEVEL {level}").as_str()).await.unwrap();
    // The snapshot (at REPEATABLE READ and SERIALIZABLE, for the whole transaction).
    deleter.execute("SELECT count(*) FROM faces").await.unwrap();
    meanwhile.await;
    let done = match deleter.execute(statement).await {
        Ok(_) => deleter.execute("COMMIT").await.map(|_| ()).map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    if done.is_err() {
        deleter.execute("ROLLBACK").await.ok();
    }
    done
}

#[tokio::test]
async fn a_face_committed_after_the_deleters_snapshot_does_not_outlive_its_subject() {
    let db = TestDatabase::create().await;
    let pool = db.pool();
    let model = db.create_service(ServiceType::Recognition).await.id;
    for level in LEVELS {
        let subject = subject(pool, model, &format!("deleted at {level}")).await;
        commit_face(pool, model, subject, true).await.unwrap();
        let late = async {
            commit_face(pool, model, subject, true).await.unwrap();
        };
        let deleted =
            delete_after_snapshot(&db, level, &format!("DELETE FROM subjects WHERE id = '{subject}'"), late).await;
        assert_eq!(orphans(pool).await, (0, 0, 0), "{level}: deleting the subject answered {deleted:?}");
        if level == "READ COMMITTED" {
            assert_eq!(deleted, Ok(()), "{level}");
        }
    }
}

#[tokio::test]
async fn an_image_committed_after_the_deleters_snapshot_does_not_outlive_its_face() {
    let db = TestDatabase::create().await;
    let pool = db.pool();
    let model = db.create_service(ServiceType::Recognition).await.id;
    let subject = subject(pool, model, "S").await;
    for level in LEVELS {
        let face = commit_face(pool, model, subject, false).await.unwrap();
        let late = async {
            sqlx::query("INSERT INTO images (face_id, content) VALUES ($1, '\\x02')")
                .bind(face)
                .execute(pool)
                .await
                .unwrap();
        };
        let deleted = delete_after_snapshot(&db, level, &format!("DELETE FROM faces WHERE id = '{face}'"), late).await;
        assert_eq!(orphans(pool).await, (0, 0, 0), "{level}: deleting the face answered {deleted:?}");
    }
}

#[tokio::test]
async fn a_subject_committed_after_the_deleters_snapshot_does_not_outlive_its_service() {
    let db = TestDatabase::create().await;
    let pool = db.pool();
    for level in LEVELS {
        let model = db.create_service(ServiceType::Recognition).await.id;
        let late = async {
            let s = subject(pool, model, "late").await;
            commit_face(pool, model, s, true).await.unwrap();
        };
        let deleted =
            delete_after_snapshot(&db, level, &format!("DELETE FROM models WHERE id = '{model}'"), late).await;
        assert_eq!(orphans(pool).await, (0, 0, 0), "{level}: deleting the service answered {deleted:?}");
    }
}

/// A face whose insert waits on the subject's row lock while the deleting transaction, at
/// `level`, deletes the subject: the insert fails or its face goes with the subject.
#[tokio::test]
async fn a_face_insert_waiting_on_the_deleted_subject_leaves_nothing_behind() {
    let db = TestDatabase::create().await;
    let pool = db.pool();
    let model = db.create_service(ServiceType::Recognition).await.id;
    for level in LEVELS {
        let subject = subject(pool, model, &format!("locked at {level}")).await;
        commit_face(pool, model, subject, true).await.unwrap();
        let mut deleter = connect(&db).await;
        deleter.execute(format!("BEGIN ISOLATION LEVEL {level}").as_str()).await.unwrap();
        deleter.execute("SELECT count(*) FROM faces").await.unwrap();
        // The inserter starts first and holds its transaction open until the deleter has
        // asked for the subject's row.
        let mut inserter = connect(&db).await;
        inserter.execute("BEGIN").await.unwrap();
        let face = insert_face(&mut inserter, model, subject, true).await.unwrap();
        let delete = format!("DELETE FROM subjects WHERE id = '{subject}'");
        let deleting = tokio::spawn(async move {
            let done = deleter.execute(delete.as_str()).await.map(|_| ());
            let done = match done {
                Ok(()) => deleter.execute("COMMIT").await.map(|_| ()),
                Err(e) => {
                    deleter.execute("ROLLBACK").await.ok();
                    Err(e)
                }
            };
            done.map_err(|e| e.to_string())
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
        inserter.execute("COMMIT").await.unwrap();
        let deleted = deleting.await.unwrap();
        let face_left: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM faces WHERE id = $1)")
            .bind(face)
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(orphans(pool).await, (0, 0, 0), "{level}: {deleted:?}, face left: {face_left}");
    }
}

/// Free-running: writers keep adding faces (with images) to subjects that a deleter at `level`
/// deletes; a bounded number of rounds, then no orphan may exist.
#[tokio::test]
async fn free_running_inserts_against_deletions_leave_no_orphans() {
    let db = TestDatabase::create().await;
    let pool = db.pool().clone();
    let model = db.create_service(ServiceType::Recognition).await.id;
    for level in LEVELS {
        for round in 0..8 {
            let subjects: Vec<Uuid> = {
                let mut ids = Vec::new();
                for i in 0..4 {
                    ids.push(subject(&pool, model, &format!("{level} {round} {i}")).await);
                }
                ids
            };
            let writers: Vec<_> = (0..3)
                .map(|w| {
                    let pool = pool.clone();
                    let subjects = subjects.clone();
                    tokio::spawn(async move {
                        for i in 0..40 {
                            let s = subjects[(i + w) % subjects.len()];
                            let _ = commit_face(&pool, model, s, true).await;
                        }
                    })
                })
                .collect();
            let mut deleter = connect(&db).await;
            for s in &subjects {
                deleter.execute(format!("BEGIN ISOLATION LEVEL {level}").as_str()).await.unwrap();
                deleter.execute("SELECT count(*) FROM faces").await.unwrap();
                tokio::time::sleep(Duration::from_millis(3)).await;
                match deleter.execute(format!("DELETE FROM subjects WHERE id = '{s}'").as_str()).await {
                    Ok(_) => {
                        let _ = deleter.execute("COMMIT").await;
                    }
                    Err(_) => {
                        deleter.execute("ROLLBACK").await.ok();
                    }
                }
            }
            for writer in writers {
                writer.await.unwrap();
            }
            assert_eq!(orphans(&pool).await, (0, 0, 0), "{level}, round {round}");
        }
    }
}
