//! Adding a face is all or nothing: a failure at any step leaves no rows behind, and the
//! in-memory collection never shows what the database does not hold.

use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;

use crate::helpers::*;

/// A "core-service" that accepts a connection, reads the start of the request and closes it:
/// core going away in the middle of an enrolment.
async fn closing_core() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut start = [0u8; 1024];
            let _ = socket.read(&mut start).await;
            drop(socket);
        }
    });
    format!("http://{address}")
}

#[tokio::test]
async fn core_going_away_mid_enrolment_stores_nothing() {
    let core = closing_core().await;
    let app = api_service::testing::TestApp::spawn(&core).await;
    let (status, body) = add_face(&app, "A", "upstream-samples/001_A.jpg").await;
    assert_eq!((status, body["code"].clone()), (500, json!(41)), "{body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(message.starts_with("Error during synchronization between servers: "), "{message}");
    for table in ["subjects", "faces", "images"] {
        assert_eq!(count(&app, table).await, 0, "{table}");
    }
}

#[tokio::test]
async fn a_write_failing_inside_the_transaction_leaves_no_rows_and_no_face_in_memory() {
    let app = spawn().await;
    enrol(&app, "A", "upstream-samples/001_A.jpg").await;
    let (_, before) = recognize(&app, "upstream-samples/008_B.jpg", &[("prediction_count", "-1")]).await;
    assert_eq!(subjects_of(&before), ["A"]);

    // The image row, the last write of the transaction, fails.
    let pool = app.db.pool();
    sqlx::query(
        "CREATE FUNCTION refuse_images() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN RAISE EXCEPTION 'disk full'; END $$",
    )
    .execute(pool)
    .await
    .unwrap();
    sqlx::query("CREATE TRIGGER refuse_images BEFORE INSERT ON images FOR EACH ROW EXECUTE FUNCTION refuse_images()")
        .execute(pool)
        .await
        .unwrap();
    assert_eq!(
        add_face(&app, "B", "upstream-samples/007_B.jpg").await,
        (400, error("Something went wrong, please try again", 0))
    );
    assert_eq!((count(&app, "subjects").await, count(&app, "faces").await, count(&app, "images").await), (1, 1, 1));
    let (_, after) = recognize(&app, "upstream-samples/008_B.jpg", &[("prediction_count", "-1")]).await;
    assert_eq!(subjects_of(&after), ["A"], "the collection holds what the database holds");

    sqlx::query("DROP TRIGGER refuse_images ON images").execute(pool).await.unwrap();
    enrol(&app, "B", "upstream-samples/007_B.jpg").await;
    let (_, fixed) = recognize(&app, "upstream-samples/008_B.jpg", &[("prediction_count", "-1")]).await;
    assert_eq!(subjects_of(&fixed), ["B", "A"]);
}
