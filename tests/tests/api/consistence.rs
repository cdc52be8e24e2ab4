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

    let old =
        NewFace { subject: "Old", embedding: &[1.0, 0.0], calculator: "old.Calculator", image: None, face_box: None };
    app.db.store.add_face(app.recognition.id, old).await.unwrap();
    let (code, body) = status(&app).await;
    assert_eq!((code, body["dbIsInconsistent"].clone()), (200, json!(true)));
}

#[tokio::test]
async fn the_demo_collection_is_held_to_compreface_demo_embedder() {
    let app = spawn_with(|s| s.save_images_to_db = false).await;
    let demo = app.db.store.find_service_by_api_key(visage_store::services::DEMO_RECOGNITION_API_KEY).await;
    let demo = demo.unwrap().expect("the demo service");
    let status =
        || async { json_of(app.client.get(app.url("/api/v1/consistence/status")).send().await.unwrap()).await };

    let compreface =
        NewFace { subject: "Demo", embedding: &[1.0, 0.0], calculator: "Facenet2018", image: None, face_box: None };
    app.db.store.add_face(demo.id, compreface).await.unwrap();
    let expected = |demo: bool| json!({ "demoFaceCollectionIsInconsistent": demo, "dbIsInconsistent": false, "saveImagesToDB": false, "status": "OK" });
    assert_eq!(status().await, (200, expected(false)));

    // Core's own embedder is "another" one for the demo collection, and the demo collection
    // does not count for the rest of the database.
    let (_, core_status) =
        json_of(reqwest::get(format!("{}/status", integration_tests::core::url())).await.unwrap()).await;
    let current = core_status["calculator_version"].as_str().expect("calculator_version");
    let ours = NewFace { subject: "Demo", embedding: &[0.0, 1.0], calculator: current, image: None, face_box: None };
    app.db.store.add_face(demo.id, ours).await.unwrap();
    assert_eq!(status().await, (200, expected(true)));
}
