//! The role matrix: every admin call made by a caller of each global role (OWNER, ADMINISTRATOR,
//! USER) holding each application role (OWNER, ADMINISTRATOR, USER, none), each on fresh
//! fixtures, against the expected status of each cell from one table.

use admin_service::testing::TestAdmin;
use reqwest::Method;
use uuid::Uuid;
use visage_store::{Role, ServiceType};

use crate::helpers::*;

/// The cells, in the order of the table's columns.
const GLOBAL: [Role; 3] = [Role::Owner, Role::Administrator, Role::User];
const APP: [Option<Role>; 4] = [Some(Role::Owner), Some(Role::Administrator), Some(Role::User), None];

/// Call, then the expected status for each cell: global OWNER × (app OWNER, ADMINISTRATOR, USER,
/// none), global ADMINISTRATOR × the same, global USER × the same. `{app}`, `{model}` and
/// `{member}` are the fixture's application, its recognition service, and another member (an app
/// USER, global USER).
#[rustfmt::skip]
const TABLE: &[(&str, [u16; 12])] = &[
    ("GET /apps",                               [200, 200, 200, 200,  200, 200, 200, 200,  200, 200, 200, 200]),
    ("POST /app",                               [201, 201, 201, 201,  201, 201, 201, 201,  400, 400, 400, 400]),
    ("GET /app/{app}",                          [200, 200, 200, 200,  200, 200, 200, 200,  200, 200, 200, 403]),
    ("PUT /app/{app}",                          [200, 200, 200, 200,  200, 200, 200, 200,  200, 400, 400, 403]),
    ("PUT /app/{app}/apikey",                   [200, 200, 200, 200,  200, 200, 200, 200,  200, 400, 400, 403]),
    ("DELETE /app/{app}",                       [200, 200, 200, 200,  200, 200, 200, 200,  200, 400, 400, 403]),
    ("GET /app/{app}/roles",                    [200, 200, 200, 200,  200, 200, 200, 200,  200, 200, 200, 403]),
    ("GET /app/{app}/assign-roles",             [200, 200, 200, 200,  200, 200, 200, 200,  200, 200, 200, 403]),
    ("POST /app/{app}/invite",                  [201, 201, 201, 201,  201, 201, 201, 201,  201, 400, 400, 403]),
    ("PUT /app/{app}/role",                     [200, 200, 200, 200,  200, 200, 200, 200,  200, 400, 400, 403]),
    ("DELETE /app/{app}/user/{member}",         [200, 200, 200, 200,  200, 200, 200, 200,  200, 400, 400, 403]),
    ("GET /app/{app}/models",                   [200, 200, 200, 200,  200, 200, 200, 200,  200, 200, 200, 403]),
    ("POST /app/{app}/model",                   [201, 201, 201, 201,  201, 201, 201, 201,  201, 201, 400, 403]),
    ("GET /app/{app}/model/{model}",            [200, 200, 200, 200,  200, 200, 200, 200,  200, 200, 200, 403]),
    ("PUT /app/{app}/model/{model}",            [200, 200, 200, 200,  200, 200, 200, 200,  200, 200, 400, 403]),
    ("POST /app/{app}/model/{model}",           [201, 201, 201, 201,  201, 201, 201, 201,  201, 201, 400, 403]),
    ("PUT /app/{app}/model/{model}/apikey",     [200, 200, 200, 200,  200, 200, 200, 200,  200, 200, 400, 403]),
    ("DELETE /app/{app}/model/{model}",         [200, 200, 200, 200,  200, 200, 200, 200,  200, 200, 400, 403]),
    ("GET /app/{app}/model/{model}/statistics", [200, 200, 200, 200,  200, 200, 200, 200,  200, 200, 200, 403]),
    ("GET /user/roles",                         [200, 200, 200, 200,  200, 200, 200, 200,  200, 200, 200, 200]),
    ("PUT /user/global/role",                   [200, 200, 200, 200,  200, 200, 200, 200,  400, 400, 400, 400]),
    ("PUT /user/{member}/password",             [200, 200, 200, 200,  200, 200, 200, 200,  400, 400, 400, 400]),
    ("DELETE /user/{member}",                   [200, 200, 200, 200,  200, 200, 200, 200,  400, 400, 400, 400]),
    ("GET /user/global/assign-roles",           [200, 200, 200, 200,  200, 200, 200, 200,  200, 200, 200, 200]),
];

/// A fresh application where `caller` has `role` (someone else owns it unless the caller does),
/// with a recognition service and another member.
struct Fixture {
    app: Uuid,
    model: Uuid,
    member: Uuid,
}

async fn fixture(admin: &TestAdmin, caller: Uuid, role: Option<Role>, owner_other: Uuid, n: usize) -> Fixture {
    let store = &admin.db.store;
    let owner = if role == Some(Role::Owner) { caller } else { owner_other };
    let app = store.create_app(&format!("app {n}"), owner).await.unwrap();
    if let Some(role @ (Role::Administrator | Role::User)) = role {
        store.set_app_role(app.id, caller, role).await.unwrap();
    }
    let member = user_with_role(admin, &format!("member{n}@example.com"), "Member", Role::User).await;
    store.set_app_role(app.id, member, Role::User).await.unwrap();
    let model = store.create_service(app.id, "faces", ServiceType::Recognition, None).await.unwrap();
    Fixture { app: app.id, model: model.service.id, member }
}

fn body_of(method: &Method, path: &str, f: &Fixture, n: usize) -> Option<serde_json::Value> {
    Some(match (method.as_str(), path) {
        ("POST", "/app") => json!({"name": format!("new app {n}")}),
        ("PUT", "/app/{app}") => json!({"name": format!("renamed {n}")}),
        ("POST", "/app/{app}/invite") => json!({"userEmail": format!("outsider{n}@example.com"), "role": "USER"}),
        ("PUT", "/app/{app}/role") => json!({"userId": f.member, "role": "ADMINISTRATOR"}),
        ("POST", "/app/{app}/model") => json!({"name": "new service", "type": "DETECTION"}),
        ("PUT", "/app/{app}/model/{model}") => json!({"name": "renamed service"}),
        ("POST", "/app/{app}/model/{model}") => json!({"name": "cloned service"}),
        ("PUT", "/user/global/role") => json!({"userId": f.member, "role": "ADMINISTRATOR"}),
        ("PUT", "/user/{member}/password") => json!({"password": "a-new-password"}),
        _ => return None,
    })
}

#[tokio::test]
async fn every_call_for_every_global_and_application_role() {
    let admin = TestAdmin::spawn().await;
    let owner_token = with_owner(&admin).await;
    let owner = Uuid::from_u128(1);
    let administrator = user_with_role(&admin, "administrator@example.com", "Adm", Role::Administrator).await;
    let user = user_with_role(&admin, "user@example.com", "Usr", Role::User).await;
    let other = user_with_role(&admin, "other@example.com", "Oth", Role::User).await;
    let tokens = [
        (owner, owner_token),
        (administrator, admin.token("administrator@example.com", PASSWORD).await),
        (user, admin.token("user@example.com", PASSWORD).await),
    ];
    let mut n = 0;
    let mut failures = Vec::new();
    for (row, (call_text, expected)) in TABLE.iter().enumerate() {
        let (method, template) = call_text.split_once(' ').unwrap();
        let method: Method = method.parse().unwrap();
        for (g, (caller, token)) in tokens.iter().enumerate() {
            for (a, role) in APP.iter().enumerate() {
                n += 1;
                let f = fixture(&admin, *caller, *role, other, n).await;
                let path = template
                    .replace("{app}", &f.app.to_string())
                    .replace("{model}", &f.model.to_string())
                    .replace("{member}", &f.member.to_string());
                if template.contains("invite") {
                    user_with_role(&admin, &format!("outsider{n}@example.com"), "Out", Role::User).await;
                }
                let body = body_of(&method, template, &f, n);
                let (status, answer) = call(&admin, method.clone(), &path, Some(token), body).await;
                let want = expected[g * 4 + a];
                if status != want {
                    failures.push(format!(
                        "row {row} {call_text} as {:?}/{:?}: {status} {answer}, expected {want}",
                        GLOBAL[g], role
                    ));
                }
                // Denials carry the documented codes: 403 code 1 for a non-member, 400 code 9 for a
                // role too low.
                let code = answer["code"].as_u64();
                match want {
                    403 if code != Some(1) => failures.push(format!("{call_text}: code {code:?}, expected 1")),
                    400 if code != Some(9) => failures.push(format!("{call_text}: code {code:?}, expected 9")),
                    _ => {}
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} cells differ:\n{}", failures.len(), failures.join("\n"));
}
