//! `GET /consistence/status` with a real core-service.

use visage_store::NewFace;

use crate::helpers::*;

#[tokio::test]
async fn stored_embeddings_of_another_embedder_make_the_database_inconsistent() {
    let app = spawn().await;
    let status = |app: &api_service::testing::TestApp| {
        let request = app.client.get(app.url("/api/v1/consistence/status"));
        async move { json_of(request.send().await.unwrap()).await }
    };
    let consistent = json!({
        "demoFaceCollectionIsInconsistent": false, "dbIsInconsistent": false, "saveImagesToDB": true, "status": "OK"
    });
    assert_eq!(status(&app).await, (200, consistent.clone()));
    add_face(&app, "B", "upstream-samples/007_B.jpg").await;
    assert_eq!(status(&app).await, (200, consistent));

    let old = NewFace { subject: "Old", embedding: &[1.0, 0.0], calculator: "old.Calculator", image: None };
    app.db.store.add_face(app.recognition.id, old).await.unwrap();
    let (code, body) = status(&app).await;
    assert_eq!((code, body["dbIsInconsistent"].clone()), (200, json!(true)));
}
