//! Shortcuts for this binary's tests.

use admin_service::testing::{json_of, TestAdmin};
use reqwest::Method;
use serde_json::Value;
use uuid::Uuid;
use visage_store::accounts::NewUser;
use visage_store::Role;

pub use serde_json::json;

pub const PASSWORD: &str = "correct-horse-battery";

/// `{message, code}`.
pub fn error(message: &str, code: u32) -> Value {
    json!({ "message": message, "code": code })
}

/// Sends `method path` (under `/admin`) with the bearer token and the JSON body, if any.
pub async fn call(
    admin: &TestAdmin,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = admin.client.request(method, admin.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    json_of(request.send().await.expect("request failed")).await
}

pub async fn get(admin: &TestAdmin, path: &str, token: &str) -> (u16, Value) {
    call(admin, Method::GET, path, Some(token), None).await
}

/// An installation taken over by its first user (the global OWNER), whose token is returned.
pub async fn with_owner(admin: &TestAdmin) -> String {
    admin.register("owner@example.com", PASSWORD, "Olga", "Owner").await;
    admin.token("owner@example.com", PASSWORD).await
}

/// A user made straight in the database (enabled, password [`PASSWORD`]), with a global role.
pub async fn user_with_role(admin: &TestAdmin, email: &str, first: &str, role: Role) -> Uuid {
    let hash = admin_service::password::hash_now(PASSWORD);
    let user = admin
        .db
        .store
        .create_user(&NewUser {
            email,
            password_hash: &hash,
            first_name: first,
            last_name: "Test",
            enabled: true,
            allow_statistics: false,
        })
        .await
        .expect("cannot create a user");
    if role != Role::User {
        sqlx::query("UPDATE users SET global_role = $2 WHERE id = $1")
            .bind(user.id)
            .bind(role.as_str())
            .execute(admin.db.pool())
            .await
            .expect("cannot set a role");
    }
    user.id
}

pub async fn count(admin: &TestAdmin, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(admin.db.pool()).await.expect("count")
}

/// A recognition collection of `subjects` × `faces` faces with images, written straight into the
/// database (embeddings of zeros: only their existence matters here).
pub async fn fill_collection(admin: &TestAdmin, model: Uuid, subjects: usize, faces: usize) {
    let pool = admin.db.pool();
    for s in 0..subjects {
        let subject = Uuid::new_v4();
        sqlx::query("INSERT INTO subjects (id, model_id, name) VALUES ($1, $2, $3)")
            .bind(subject)
            .bind(model)
            .bind(format!("person {s}"))
            .execute(pool)
            .await
            .expect("subject");
        for _ in 0..faces {
            let face = Uuid::new_v4();
            sqlx::query(
                "INSERT INTO faces (id, model_id, subject_id, embedding, dimension, calculator) \
                 VALUES ($1, $2, $3, $4, 4, 'test')",
            )
            .bind(face)
            .bind(model)
            .bind(subject)
            .bind(vec![0u8; 16])
            .execute(pool)
            .await
            .expect("face");
            sqlx::query("INSERT INTO images (face_id, content) VALUES ($1, $2)")
                .bind(face)
                .bind(vec![1u8, 2, 3])
                .execute(pool)
                .await
                .expect("image");
        }
    }
}
