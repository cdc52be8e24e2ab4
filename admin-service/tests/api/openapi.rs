//! The admin API's OpenAPI document (`/admin/openapi.json`): it lists exactly the calls of the
//! admin API, each call it lists is served, its examples validate against its schemas, and the
//! real answers to every call (made with its examples, as the global owner, on a real
//! application, service and user) are as it describes them, the 401 of calls without a session
//! included.

use admin_service::testing::{json_of, TestAdmin, CLIENT_BASIC};
use reqwest::Method;
use serde_json::Value;
use visage_http::docs::check;
use visage_store::Role;

use crate::helpers::*;

/// Every call of `/admin`: CompreFace's (SPEC §3) and ours (invitations, a user's password set by
/// an administrator, deletions in progress).
const CALLS: &[(&str, &str)] = &[
    ("DELETE", "/admin/app/{app_id}"),
    ("GET", "/admin/app/{app_id}"),
    ("PUT", "/admin/app/{app_id}"),
    ("PUT", "/admin/app/{app_id}/apikey"),
    ("GET", "/admin/app/{app_id}/assign-roles"),
    ("GET", "/admin/app/{app_id}/deletions"),
    ("POST", "/admin/app/{app_id}/invite"),
    ("POST", "/admin/app/{app_id}/model"),
    ("DELETE", "/admin/app/{app_id}/model/{model_id}"),
    ("GET", "/admin/app/{app_id}/model/{model_id}"),
    ("POST", "/admin/app/{app_id}/model/{model_id}"),
    ("PUT", "/admin/app/{app_id}/model/{model_id}"),
    ("PUT", "/admin/app/{app_id}/model/{model_id}/apikey"),
    ("GET", "/admin/app/{app_id}/model/{model_id}/statistics"),
    ("GET", "/admin/app/{app_id}/models"),
    ("PUT", "/admin/app/{app_id}/role"),
    ("GET", "/admin/app/{app_id}/roles"),
    ("DELETE", "/admin/app/{app_id}/user/{user_id}"),
    ("POST", "/admin/app"),
    ("GET", "/admin/apps"),
    ("GET", "/admin/config"),
    ("GET", "/admin/deletions"),
    ("DELETE", "/admin/oauth/token"),
    ("POST", "/admin/oauth/token"),
    ("GET", "/admin/status"),
    ("GET", "/admin/user/autocomplete"),
    ("GET", "/admin/user/demo/model"),
    ("POST", "/admin/user/forgot-password"),
    ("GET", "/admin/user/global/assign-roles"),
    ("PUT", "/admin/user/global/role"),
    ("GET", "/admin/user/global/roles"),
    ("POST", "/admin/user/invite"),
    ("GET", "/admin/user/invites"),
    ("GET", "/admin/user/me"),
    ("GET", "/admin/user/me/global-admin"),
    ("PUT", "/admin/user/me/password"),
    ("POST", "/admin/user/register"),
    ("GET", "/admin/user/registration/confirm"),
    ("PUT", "/admin/user/reset-password"),
    ("GET", "/admin/user/roles"),
    ("PUT", "/admin/user/update"),
    ("DELETE", "/admin/user/{user_id}"),
    ("PUT", "/admin/user/{user_id}/password"),
];

/// The calls open to everyone: the rest need a session.
const OPEN: &[(&str, &str)] = &[
    ("DELETE", "/admin/oauth/token"),
    ("GET", "/admin/config"),
    ("GET", "/admin/status"),
    ("GET", "/admin/user/demo/model"),
    ("GET", "/admin/user/registration/confirm"),
    ("POST", "/admin/oauth/token"),
    ("POST", "/admin/user/forgot-password"),
    ("POST", "/admin/user/register"),
    ("PUT", "/admin/user/reset-password"),
];

fn document() -> Value {
    admin_service::routes::openapi()
}

fn sorted(calls: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut calls: Vec<(String, String)> = calls.iter().map(|(m, p)| (m.to_string(), p.to_string())).collect();
    calls.sort();
    calls
}

#[test]
fn the_document_lists_every_call_of_the_admin_api_and_nothing_else() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["title"], "Visage admin API");
    let listed = check::operations(&doc);
    assert_eq!(listed, sorted(CALLS));
    let mut open = Vec::new();
    for (method, path) in &listed {
        let op = check::operation(&doc, method, path).unwrap();
        assert!(op["summary"].as_str().is_some_and(|s| !s.is_empty()), "{method} {path} has no summary");
        assert!(op["tags"].as_array().is_some_and(|t| !t.is_empty()), "{method} {path} has no tag");
        // A success: 2xx, or the redirect of the registration's confirmation.
        let success = |s: &String| s.starts_with('2') || (s == "302" && path.ends_with("/registration/confirm"));
        assert!(op["responses"].as_object().is_some_and(|r| r.keys().any(success)), "{method} {path}");
        if op["responses"]["401"]["content"]["application/json"]["example"]["error"] != "unauthorized"
            || op["responses"]["401"]["description"].as_str().is_some_and(|d| d.contains("client"))
        {
            open.push((method.clone(), path.clone()));
        }
    }
    assert_eq!(open, sorted(OPEN), "the calls without a 401 for a missing session");
    let mut ids: Vec<&str> = listed
        .iter()
        .map(|(m, p)| check::operation(&doc, m, p).unwrap()["operationId"].as_str().expect("an operationId"))
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), listed.len(), "operationIds are unique");
}

#[test]
fn the_login_schemes_are_the_password_grant_the_bearer_token_and_the_session_cookie() {
    let doc = document();
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["oauth2"]["type"], "oauth2");
    assert_eq!(schemes["oauth2"]["flows"]["password"]["tokenUrl"], "/admin/oauth/token");
    assert_eq!(
        schemes["bearer"],
        json!({"type": "http", "scheme": "bearer", "description": schemes["bearer"]["description"]})
    );
    assert_eq!((&schemes["session"]["in"], &schemes["session"]["name"]), (&json!("cookie"), &json!("CFSESSION")));
    assert_eq!(schemes["client"]["scheme"], "basic");
    assert_eq!(doc["security"], json!([{"oauth2": []}, {"bearer": []}, {"session": []}]));
    let token = check::operation(&doc, "POST", "/admin/oauth/token").unwrap();
    assert_eq!(token["security"], json!([{"client": []}]));
    let forms: Vec<&String> = token["requestBody"]["content"].as_object().unwrap().keys().collect();
    assert_eq!(forms, ["application/x-www-form-urlencoded", "multipart/form-data"]);
    assert!(token["responses"].get("415").is_none(), "the token call reads any body");
    assert_eq!(token["requestBody"]["required"], false);
    let confirm = check::operation(&doc, "GET", "/admin/user/registration/confirm").unwrap();
    assert!(confirm["responses"]["302"]["headers"].get("location").is_some(), "{confirm}");
}

#[test]
fn the_examples_validate_against_their_schemas() {
    let doc = document();
    let errors = check::example_errors(&doc);
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    // The error codes are examples too: 2 under 404 for an application's deletion.
    let op = check::operation(&doc, "DELETE", "/admin/app/{app_id}").unwrap();
    assert_eq!(
        op["responses"]["404"]["content"]["application/json"]["examples"]["code 2"]["value"],
        json!({"message": "Application not found", "code": 2})
    );
    assert_eq!(op["x-error-codes"], json!([26, 2, 1, 9]));
    assert_eq!(
        op["responses"]["401"]["content"]["application/json"]["example"],
        json!({"error": "unauthorized", "error_description": "Full authentication is required to access this resource"})
    );
    let register = check::operation(&doc, "POST", "/admin/user/register").unwrap();
    assert_eq!(register["responses"]["403"]["content"]["application/json"]["examples"]["code 48"]["value"]["code"], 48);
}

/// The status and JSON body (`None` for another type or no body) of an answer.
async fn answer(response: reqwest::Response) -> (u16, Option<Value>) {
    let status = response.status().as_u16();
    let is_json = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let bytes = response.bytes().await.expect("body");
    (status, if is_json { serde_json::from_slice(&bytes).ok() } else { None })
}

fn assert_served(method: &str, path: &str, body: Option<&Value>) {
    if let Some(message) = check::fallback_message(body) {
        panic!("{method} {path} is documented but not served: {message}");
    }
}

#[tokio::test]
async fn every_documented_call_is_served_and_answers_as_documented() {
    let admin = TestAdmin::spawn().await;
    let doc = document();
    let owner = with_owner(&admin).await;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();

    // An application with a recognition service, and a user who is a member of it.
    let (status, app) = call(&admin, Method::POST, "/app", Some(&owner), Some(json!({"name": "Lobby"}))).await;
    assert_eq!(status, 201, "{app}");
    let app_id = app["id"].as_str().unwrap().to_string();
    let body = json!({"name": "Lobby camera", "type": "RECOGNITION"});
    let (status, service) = call(&admin, Method::POST, &format!("/app/{app_id}/model"), Some(&owner), Some(body)).await;
    assert_eq!(status, 201, "{service}");
    let model_id = service["id"].as_str().unwrap().to_string();
    let member = user_with_role(&admin, "carl@example.com", "Carl", Role::User).await.to_string();
    let body = json!({"userEmail": "carl@example.com", "role": "USER"});
    let (status, _) = call(&admin, Method::POST, &format!("/app/{app_id}/invite"), Some(&owner), Some(body)).await;
    assert_eq!(status, 201);

    // Deletions last, the deepest resource first; the logout at the very end.
    let mut calls = check::operations(&doc);
    calls.sort_by_key(|(method, path)| {
        let logout = method == "DELETE" && path == "/admin/oauth/token";
        let delete = method == "DELETE";
        (logout, delete, std::cmp::Reverse(if delete { path.len() } else { 0 }))
    });
    let mut problems = Vec::new();
    let mut answered = Vec::new();
    for (method, path) in &calls {
        let op = check::operation(&doc, method, path).unwrap();
        let ids = path.replace("{app_id}", &app_id).replace("{model_id}", &model_id).replace("{user_id}", &member);
        let filled = check::fill_path(op, &ids);
        let url = format!("{}{filled}", admin.address);
        let mut request = client.request(method.parse().unwrap(), url).bearer_auth(&owner);
        if (method.as_str(), path.as_str()) == ("POST", "/admin/oauth/token") {
            request = client.post(format!("{}{filled}", admin.address)).header("authorization", CLIENT_BASIC).form(&[
                ("grant_type", "password"),
                ("username", "owner@example.com"),
                ("password", PASSWORD),
            ]);
        } else if let Some(mut example) = check::json_example(&doc, op) {
            // The role changes are made to the member.
            if example.get("userId").is_some() {
                example["userId"] = json!(member);
            }
            request = request.json(&example);
        }
        let (status, body) = answer(request.send().await.expect("request")).await;
        assert_served(method, path, body.as_ref());
        answered.push(format!("{method} {path} {status}"));
        problems.extend(check::answer_errors(&doc, method, path, status, body.as_ref()));
    }
    assert!(problems.is_empty(), "{}\n\nanswers:\n{}", problems.join("\n"), answered.join("\n"));
    // The examples and the ids make real calls, not only refusals.
    let succeeded = answered.iter().filter(|a| a.ends_with(" 200") || a.ends_with(" 201")).count();
    assert!(succeeded >= 34, "{}", answered.join("\n"));

    // The session ended with the logout.
    let (status, body) = get(&admin, "/user/me", &owner).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("unauthorized")));
}

#[tokio::test]
async fn calls_without_a_session_answer_the_documented_401() {
    let admin = TestAdmin::spawn().await;
    let doc = document();
    let mut problems = Vec::new();
    for (method, path) in check::operations(&doc) {
        let op = check::operation(&doc, &method, &path).unwrap();
        if OPEN.contains(&(method.as_str(), path.as_str())) {
            continue;
        }
        let filled = check::fill_path(op, &path);
        for token in [None, Some("expired-or-unknown")] {
            let mut request = admin.client.request(method.parse().unwrap(), format!("{}{filled}", admin.address));
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            if let Some(example) = check::json_example(&doc, op) {
                request = request.json(&example);
            }
            let (status, body) = answer(request.send().await.expect("request")).await;
            assert_served(&method, &path, body.as_ref());
            assert_eq!(status, 401, "{method} {path} with {token:?}: {body:?}");
            problems.extend(check::answer_errors(&doc, &method, &path, status, body.as_ref()));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[tokio::test]
async fn the_token_call_answers_as_documented_with_either_form() {
    let admin = TestAdmin::spawn().await;
    admin.register("owner@example.com", PASSWORD, "Olga", "Owner").await;
    let doc = document();
    let url = admin.url("/oauth/token");
    let path = "/admin/oauth/token";
    let login = |password: &str| {
        reqwest::multipart::Form::new()
            .text("grant_type", "password")
            .text("username", "owner@example.com")
            .text("password", password.to_string())
    };
    let cases = [
        (admin.client.post(&url).header("authorization", CLIENT_BASIC).multipart(login(PASSWORD)), 200),
        (admin.client.post(&url).header("authorization", CLIENT_BASIC).multipart(login("wrong password")), 400),
        (admin.client.post(&url).multipart(login(PASSWORD)), 401),
        (
            admin.client.post(&url).header("authorization", CLIENT_BASIC).form(&[("grant_type", "client_credentials")]),
            400,
        ),
        (
            admin
                .client
                .post(format!("{url}?grant_type=refresh_token&scope=all"))
                .header("authorization", CLIENT_BASIC),
            400,
        ),
        (
            admin
                .client
                .post(&url)
                .header("authorization", CLIENT_BASIC)
                .header("content-type", "multipart/form-data; boundary=x")
                .body("not multipart"),
            400,
        ),
    ];
    let mut problems = Vec::new();
    for (request, expected) in cases {
        let (status, body) = answer(request.send().await.expect("request")).await;
        assert_eq!(status, expected, "{body:?}");
        problems.extend(check::answer_errors(&doc, "POST", path, status, body.as_ref()));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[tokio::test]
async fn the_document_and_swagger_ui_are_served() {
    let admin = TestAdmin::spawn().await;
    let (status, served) = json_of(reqwest::get(admin.url("/openapi.json")).await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(served, document());

    let page = reqwest::get(admin.url("/docs")).await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"<script src="docs/swagger-ui-bundle.js"></script>"#), "{html}");
    assert!(html.contains("<title>Visage admin API</title>"), "{html}");
    for (asset, kind) in [
        ("swagger-ui-bundle.js", "text/javascript"),
        ("swagger-ui.css", "text/css"),
        ("init.js", "text/javascript"),
        ("favicon-32x32.png", "image/png"),
    ] {
        let answer = reqwest::get(admin.url(&format!("/docs/{asset}"))).await.unwrap();
        assert_eq!(
            (answer.status().as_u16(), answer.headers()["content-type"].to_str().unwrap()),
            (200, kind),
            "{asset}"
        );
        assert!(answer.bytes().await.unwrap().len() > 100, "{asset}");
    }
    let (status, body) = json_of(reqwest::get(admin.url("/docs/nothing.js")).await.unwrap()).await;
    assert_eq!((status, body["code"].as_u64()), (404, Some(0)));
    // The rest of /admin is as before: unknown paths and methods are JSON 404s.
    let (status, body) = json_of(reqwest::get(admin.url("/nothing")).await.unwrap()).await;
    assert_eq!((status, body), (404, error("No handler found for GET /admin/nothing", 0)));
    let response = admin.client.patch(admin.url("/apps")).send().await.unwrap();
    let (status, body) = json_of(response).await;
    assert_eq!((status, body), (404, error("Request method 'PATCH' not supported", 0)));
}
