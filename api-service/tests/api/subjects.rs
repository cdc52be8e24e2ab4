//! `/recognition/subjects`.

use crate::helpers::*;

const SUBJECTS: &str = "/api/v1/recognition/subjects";

#[tokio::test]
async fn create_list_and_refuse_a_taken_name_in_any_case() {
    let app = spawn().await;
    let key = &app.recognition;
    let names = [r#"O'Brien "Bob" -- %_*"#, "Zoë 王", "Anna", "<img src=x onerror=alert(1)>", "tab\there"];
    for name in names {
        let created = call(app.client.post(app.url(SUBJECTS)).json(&json!({ "subject": name })), key).await;
        assert_eq!(created, (201, json!({ "subject": name })));
    }
    let taken = call(app.client.post(app.url(SUBJECTS)).json(&json!({ "subject": "ZOË 王" })), key).await;
    assert_eq!(taken, (400, error("Subject already exists", 43)));
    let listed = call(app.client.get(app.url(SUBJECTS)), key).await;
    assert_eq!(listed, (200, json!({ "subjects": names })));

    // Another service's collection is separate.
    let mine_only = app.db.create_service(visage_store::ServiceType::Recognition).await;
    assert_eq!(call(app.client.get(app.url(SUBJECTS)), &mine_only).await, (200, json!({ "subjects": [] })));
}

#[tokio::test]
async fn names_are_validated() {
    let app = spawn().await;
    let key = &app.recognition;
    let empty = error("Subject name cannot be empty", 26);
    let cases = [
        (json!({ "subject": "" }), empty.clone()),
        (json!({ "subject": "   " }), empty.clone()),
        (json!({ "name": "x", "subject": null }), empty.clone()),
        (json!({}), empty),
        (json!({ "subject": "x".repeat(51) }), error("Subject name size must be between 1 and 50", 26)),
    ];
    for (body, expected) in cases {
        assert_eq!(call(app.client.post(app.url(SUBJECTS)).json(&body), key).await, (400, expected), "{body}");
    }
    let special = error(r"The name cannot contain the following special characters: ';', '/', '\'", 36);
    for name in ["a;b", "a/b", r"a\b", "x'); DROP TABLE subjects;--"] {
        let body = json!({ "subject": name });
        assert_eq!(call(app.client.post(app.url(SUBJECTS)).json(&body), key).await, (400, special.clone()));
    }
    let nul = call(app.client.post(app.url(SUBJECTS)).json(&json!({ "subject": "a\u{0}b" })), key).await;
    assert_eq!(nul, (400, error("Text values cannot contain the NUL character", 26)));
    // Unknown fields are ignored; 50 characters are fine.
    let body = json!({ "subject": "y".repeat(50), "extra": [1, 2] });
    assert_eq!(call(app.client.post(app.url(SUBJECTS)).json(&body), key).await.0, 201);
    assert_eq!(count(&app, "subjects").await, 1);
}

#[tokio::test]
async fn bodies_that_are_not_json_are_400_or_415() {
    let app = spawn().await;
    let key = &app.recognition;
    let malformed = app.client.post(app.url(SUBJECTS)).header("content-type", "application/json").body("{\"subject\":");
    let (status, body) = call(malformed, key).await;
    assert_eq!((status, body["code"].as_u64()), (400, Some(26)));
    assert!(body["message"].as_str().unwrap().starts_with("The request body is not valid JSON"), "{body}");
    let wrong_type = app.client.post(app.url(SUBJECTS)).json(&json!({ "subject": 5 }));
    assert_eq!(call(wrong_type, key).await.0, 400);
    let text = app.client.post(app.url(SUBJECTS)).header("content-type", "text/plain").body("subject=x");
    assert_eq!(call(text, key).await, (415, error("Content type 'text/plain' not supported", 0)));
}

#[tokio::test]
async fn concurrent_creates_of_one_name_give_one_201_and_the_rest_43() {
    let app = spawn().await;
    let requests = (0..10).map(|i| {
        let name = if i % 2 == 0 { "Same" } else { "SAME" };
        call(app.client.post(app.url(SUBJECTS)).json(&json!({ "subject": name })), &app.recognition)
    });
    let answers = futures::future::join_all(requests).await;
    let created = answers.iter().filter(|(s, _)| *s == 201).count();
    let taken = answers.iter().filter(|a| **a == (400, error("Subject already exists", 43))).count();
    assert_eq!((created, taken), (1, 9));
    assert_eq!(count(&app, "subjects").await, 1);
}

#[tokio::test]
async fn rename_renames_merges_and_reports_unknown_subjects() {
    let app = spawn().await;
    let key = &app.recognition;
    let put = |from: &str, to: &str| {
        let path = format!("{SUBJECTS}/{}", urlencode(from));
        call(app.client.put(app.url(&path)).json(&json!({ "subject": to })), key)
    };
    let a = seed_face(&app, "Anna", None).await;
    let b = seed_face(&app, "Bob", None).await;

    assert_eq!(put("Anna", "Anna").await, (200, json!({ "updated": false })));
    // The same name does not even look the subject up.
    assert_eq!(put("Nobody", "Nobody").await, (200, json!({ "updated": false })));
    assert_eq!(put("anna", "Anne Marie").await, (200, json!({ "updated": true })));
    // Into an existing name: Bob's face joins Anne Marie, Bob is gone.
    assert_eq!(put("Bob", "ANNE MARIE").await, (200, json!({ "updated": true })));
    assert_eq!(call(app.client.get(app.url(SUBJECTS)), key).await, (200, json!({ "subjects": ["Anne Marie"] })));
    let faces = call(app.client.get(app.url("/api/v1/recognition/faces")), key).await.1;
    assert_eq!(
        faces["faces"],
        json!([{ "image_id": a.image_id, "subject": "Anne Marie" }, { "image_id": b.image_id, "subject": "Anne Marie" }])
    );

    assert_eq!(put("Nobody", "X").await, (404, error("Subject Nobody not found", 42)));
    assert_eq!(put("Anne Marie", "a/b").await.1["code"], 36);
    assert_eq!(put(" ", "X").await, (400, error("Subject name is empty; ", 26)));
}

#[tokio::test]
async fn delete_one_with_its_faces_and_delete_all() {
    let app = spawn().await;
    let key = &app.recognition;
    seed_face(&app, "Zoë 王", Some(b"img")).await;
    seed_face(&app, "Zoë 王", None).await;
    seed_face(&app, "Other", None).await;
    let path = format!("{SUBJECTS}/{}", urlencode("ZOË 王"));
    assert_eq!(call(app.client.delete(app.url(&path)), key).await, (200, json!({ "subject": "Zoë 王" })));
    assert_eq!(call(app.client.delete(app.url(&path)), key).await, (404, error("Subject ZOË 王 not found", 42)));
    assert_eq!((count(&app, "faces").await, count(&app, "images").await), (1, 0));

    call(app.client.post(app.url(SUBJECTS)).json(&json!({ "subject": "Empty" })), key).await;
    assert_eq!(call(app.client.delete(app.url(SUBJECTS)), key).await, (200, json!({ "deleted": 2 })));
    assert_eq!(count(&app, "faces").await, 0);
    assert_eq!(call(app.client.delete(app.url(SUBJECTS)), key).await, (200, json!({ "deleted": 0 })));
}

/// Percent-encodes a path segment.
fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn large_collections_are_searched_and_paged_on_the_server() {
    let app = spawn().await;
    let key = &app.recognition;
    for name in ["delta", "Alpha", "charlie", "bravo", "Alphonse", "100%_real"] {
        app.db.store.create_subject(key.id, name).await.unwrap();
    }
    let page = |query: &'static str| {
        let app = &app;
        async move { call(app.client.get(app.url(&format!("{SUBJECTS}?{query}"))), &app.recognition).await }
    };
    assert_eq!(
        page("page=0&size=4").await,
        (
            200,
            json!({"subjects": ["100%_real", "Alpha", "Alphonse", "bravo"], "page_number": 0, "page_size": 4,
                   "total_pages": 2, "total_elements": 6})
        )
    );
    assert_eq!(page("page=1&size=4").await.1["subjects"], json!(["charlie", "delta"]));
    assert_eq!(
        page("search=ALPH").await.1,
        json!({"subjects": ["Alpha", "Alphonse"], "page_number": 0, "page_size": 20, "total_pages": 1, "total_elements": 2})
    );
    assert_eq!(page("search=%25_").await.1["subjects"], json!(["100%_real"]), "wildcards are literal");
    assert_eq!(page("page=9&size=4").await.1["subjects"], json!([]));
    // Without the new parameters the answer is CompreFace's, oldest first.
    assert_eq!(page("").await.1, json!({"subjects": ["delta", "Alpha", "charlie", "bravo", "Alphonse", "100%_real"]}));
}
