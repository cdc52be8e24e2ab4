//! Applications and their members.

use admin_service::testing::TestAdmin;
use reqwest::Method;
use visage_store::Role;

use crate::helpers::*;

#[tokio::test]
async fn applications_are_created_renamed_rekeyed_and_deleted() {
    let admin = TestAdmin::spawn().await;
    let owner = with_owner(&admin).await;
    let (status, app) = call(&admin, Method::POST, "/app", Some(&owner), Some(json!({"name": "Front door"}))).await;
    assert_eq!(status, 201);
    let id = app["id"].as_str().unwrap().to_string();
    assert_eq!(
        app,
        json!({"id": id, "name": "Front door", "apiKey": app["apiKey"], "role": "OWNER",
               "owner": {"userId": "00000000-0000-0000-0000-000000000001", "firstName": "Olga", "lastName": "Owner"}})
    );
    let create = |name: serde_json::Value| {
        let (admin, owner) = (&admin, &owner);
        async move { call(admin, Method::POST, "/app", Some(owner), Some(json!({"name": name}))).await }
    };
    assert_eq!(create(json!("Front door")).await, (400, error("The name is not unique", 17)));
    assert_eq!(create(json!("")).await, (400, error("Field name cannot be empty", 5)));
    assert_eq!(
        create(json!("a/b")).await,
        (400, error("The name cannot contain the following special characters: ';', '/', '\\'", 26))
    );
    assert_eq!(create(json!("x".repeat(51))).await, (400, error("Application name size must be between 1 and 50", 26)));
    assert_eq!(create(json!(42)).await.1["code"], 26);
    let (status, renamed) =
        call(&admin, Method::PUT, &format!("/app/{id}"), Some(&owner), Some(json!({"name": "Back door"}))).await;
    assert_eq!((status, renamed["name"].as_str()), (200, Some("Back door")));
    let (_, rekeyed) = call(&admin, Method::PUT, &format!("/app/{id}/apikey"), Some(&owner), None).await;
    assert_ne!(rekeyed["apiKey"], app["apiKey"]);
    let (_, apps) = get(&admin, "/apps", &owner).await;
    let names: Vec<&str> = apps.as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Back door", "Demo Application"]);
    assert_eq!(
        call(&admin, Method::DELETE, &format!("/app/{id}"), Some(&owner), None).await,
        (200, serde_json::Value::Null)
    );
    assert_eq!(get(&admin, &format!("/app/{id}"), &owner).await, (404, error("Application not found", 2)));
    assert_eq!(get(&admin, "/app/123", &owner).await.1["code"], 26);
}

#[tokio::test]
async fn members_are_invited_promoted_and_removed() {
    let admin = TestAdmin::spawn().await;
    let owner = with_owner(&admin).await;
    let ada = user_with_role(&admin, "ada@example.com", "Ada", Role::User).await;
    let ben = user_with_role(&admin, "ben@example.com", "Ben", Role::User).await;
    let (_, app) = call(&admin, Method::POST, "/app", Some(&owner), Some(json!({"name": "Team"}))).await;
    let id = app["id"].as_str().unwrap().to_string();
    let invite = |email: &str, role: &str| json!({"userEmail": email, "role": role});
    let path = format!("/app/{id}/invite");
    assert_eq!(
        call(&admin, Method::POST, &path, Some(&owner), Some(invite("nobody@example.com", "USER"))).await,
        (404, error("User does not exist", 16))
    );
    let (status, added) =
        call(&admin, Method::POST, &path, Some(&owner), Some(invite("ADA@example.com", "USER"))).await;
    assert_eq!(
        (status, added),
        (
            201,
            json!({"userId": ada, "firstName": "Ada", "lastName": "Test", "role": "USER", "email": "ada@example.com"})
        )
    );
    assert_eq!(
        call(&admin, Method::POST, &path, Some(&owner), Some(invite("ada@example.com", "ADMINISTRATOR"))).await,
        (400, error("The user already has access to the application", 19))
    );
    call(&admin, Method::POST, &path, Some(&owner), Some(invite("ben@example.com", "ADMINISTRATOR"))).await;
    let (_, members) = get(&admin, &format!("/app/{id}/roles"), &owner).await;
    let order: Vec<&str> = members.as_array().unwrap().iter().map(|m| m["role"].as_str().unwrap()).collect();
    assert_eq!(order, ["OWNER", "ADMINISTRATOR", "USER"]);
    assert_eq!(get(&admin, &format!("/app/{id}/roles?search=ad"), &owner).await.1.as_array().unwrap().len(), 1);

    // Ada (app USER) sees the app, may only leave it; Ben (app ADMINISTRATOR) may not change roles.
    let ada_token = admin.token("ada@example.com", PASSWORD).await;
    let ben_token = admin.token("ben@example.com", PASSWORD).await;
    assert_eq!(get(&admin, &format!("/app/{id}/assign-roles"), &ada_token).await.1, json!([]));
    assert_eq!(
        get(&admin, &format!("/app/{id}/assign-roles"), &owner).await.1,
        json!(["OWNER", "ADMINISTRATOR", "USER"])
    );
    let role = |user: uuid::Uuid, role: &str| json!({"userId": user, "role": role});
    let role_path = format!("/app/{id}/role");
    assert_eq!(
        call(&admin, Method::PUT, &role_path, Some(&ben_token), Some(role(ada, "ADMINISTRATOR"))).await.1["code"],
        9
    );
    // The owner hands the application to Ada and becomes its ADMINISTRATOR.
    let owner_id = uuid::Uuid::from_u128(1);
    assert_eq!(call(&admin, Method::PUT, &role_path, Some(&owner), Some(role(ada, "OWNER"))).await.1["role"], "OWNER");
    assert_eq!(admin.db.store.app_role(id.parse().unwrap(), owner_id).await.unwrap(), Some(Role::Administrator));
    assert_eq!(
        call(&admin, Method::PUT, &role_path, Some(&ada_token), Some(role(ada, "USER"))).await.1["code"],
        9,
        "the owner's role"
    );
    assert_eq!(
        call(&admin, Method::DELETE, &format!("/app/{id}/user/{ada}"), Some(&owner), None).await.1["code"],
        9,
        "not the owner"
    );
    assert_eq!(
        call(&admin, Method::DELETE, &format!("/app/{id}/user/{ben}"), Some(&ben_token), None).await.0,
        200,
        "leaving"
    );
    assert_eq!(
        get(&admin, &format!("/app/{id}"), &ben_token).await,
        (403, error("Access to the application is denied", 1))
    );
}
