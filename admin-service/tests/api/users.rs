//! Registration, the demo take-over, profile and password, global roles, deletion, password
//! resets without e-mail, the sign-up policy and the demo keys.

use admin_service::config::{DemoKeys, SignUp};
use admin_service::testing::TestAdmin;
use reqwest::Method;
use visage_store::Role;

use crate::helpers::*;

#[tokio::test]
async fn the_first_sign_up_takes_the_demo_over_whatever_the_case_of_its_email() {
    let admin = TestAdmin::spawn().await;
    let (status, body) = call(&admin, Method::GET, "/user/demo/model", None, None).await;
    assert_eq!((status, body), (200, json!({"apiKey": "00000000-0000-0000-0000-000000000002"})));
    admin.register("Olga.Owner@Example.com", PASSWORD, "Olga", "Owner").await;
    assert_eq!(
        call(&admin, Method::GET, "/user/demo/model", None, None).await,
        (404, error("The Demo model is not available any more!", 404))
    );
    // Upstream's first user often cannot log in because of the e-mail's case (#588).
    let token = admin.token("olga.owner@example.com", PASSWORD).await;
    let (status, roles) = get(&admin, "/user/roles", &token).await;
    assert_eq!(status, 200);
    assert_eq!(
        roles,
        json!([{"userId": "00000000-0000-0000-0000-000000000001", "firstName": "Olga", "lastName": "Owner",
                "role": "OWNER", "email": "Olga.Owner@Example.com"}])
    );
    let (_, apps) = get(&admin, "/apps", &token).await;
    assert_eq!(apps[0]["name"], "Demo Application");
    assert_eq!(apps[0]["role"], "OWNER");
    assert_eq!(
        apps[0]["owner"],
        json!({"userId": "00000000-0000-0000-0000-000000000001", "firstName": "Olga", "lastName": "Owner"})
    );
    // The second sign-up is an ordinary user.
    admin.register("bob@example.com", PASSWORD, "", "").await;
    let bob = admin.token("bob@example.com", PASSWORD).await;
    assert_eq!(get(&admin, "/apps", &bob).await, (200, json!([])));
    let (_, roles) = get(&admin, "/user/roles", &bob).await;
    assert_eq!(roles.as_array().map(Vec::len), Some(1), "a plain user sees only themselves: {roles}");
    assert_eq!(roles[0]["email"], "bob@example.com");
    assert_eq!(roles[0]["role"], "USER");
    assert_eq!(roles[0]["firstName"], "");
    let (_, roles) = get(&admin, "/user/roles", &token).await;
    assert_eq!(roles.as_array().map(Vec::len), Some(2), "the owner sees everyone: {roles}");
}

#[tokio::test]
async fn registration_rejects_bad_input_without_storing_anything() {
    let admin = TestAdmin::spawn().await;
    admin.register("taken@example.com", PASSWORD, "T", "T").await;
    let users = count(&admin, "SELECT count(*) FROM users").await;
    let register = |body: serde_json::Value| {
        let admin = &admin;
        async move { call(admin, Method::POST, "/user/register", None, Some(body)).await }
    };
    let cases = [
        (json!({"password": PASSWORD}), error("Field email cannot be empty", 5)),
        (json!({"email": "  ", "password": PASSWORD}), error("Field email cannot be empty", 5)),
        (json!({"email": "not-an-email", "password": PASSWORD}), error("Invalid e-mail format", 22)),
        (json!({"email": "x@example.com", "password": "short"}), error("password size must be between 8 and 255", 26)),
        (json!({"email": "x@example.com"}), error("Field password cannot be empty", 5)),
        (json!({"email": "TAKEN@example.COM", "password": PASSWORD}), error("This e-mail is already registered", 4)),
        (
            json!({"email": "x@example.com", "password": PASSWORD, "firstName": "x".repeat(51)}),
            error("firstName size must be between 0 and 50", 26),
        ),
    ];
    for (body, expected) in cases {
        assert_eq!(register(body.clone()).await, (400, expected), "{body}");
    }
    let (status, body) = register(json!({"email": 5, "password": PASSWORD})).await;
    assert_eq!((status, body["code"].as_u64()), (400, Some(26)));
    let malformed =
        admin.client.post(admin.url("/user/register")).header("content-type", "application/json").body("{\"email\":");
    let (status, body) = admin_service::testing::json_of(malformed.send().await.unwrap()).await;
    assert_eq!((status, body["code"].as_u64()), (400, Some(26)));
    let text = admin.client.post(admin.url("/user/register")).body("email=x@example.com");
    assert_eq!(admin_service::testing::json_of(text.send().await.unwrap()).await.0, 415);
    assert_eq!(count(&admin, "SELECT count(*) FROM users").await, users);
}

#[tokio::test]
async fn profile_and_password_of_the_caller() {
    let admin = TestAdmin::spawn().await;
    let token = with_owner(&admin).await;
    let (status, body) = call(
        &admin,
        Method::PUT,
        "/user/update",
        Some(&token),
        Some(json!({"firstName": " Olga ", "lastName": "Smith; DROP TABLE users"})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["firstName"], "Olga");
    assert_eq!(body["lastName"], "Smith; DROP TABLE users");
    assert_eq!(get(&admin, "/user/me", &token).await.1["lastName"], "Smith; DROP TABLE users");
    let change = |old: &str, new: &str| json!({"oldPassword": old, "newPassword": new});
    assert_eq!(
        call(&admin, Method::PUT, "/user/me/password", Some(&token), Some(change("wrong-password", "another-pass-1")))
            .await,
        (400, error("The password is incorrect", 18))
    );
    assert_eq!(
        call(&admin, Method::PUT, "/user/me/password", Some(&token), Some(change(PASSWORD, "short"))).await.0,
        400
    );
    assert_eq!(
        call(&admin, Method::PUT, "/user/me/password", Some(&token), Some(change(PASSWORD, "another-pass-1"))).await.0,
        200
    );
    assert_eq!(admin.login("owner@example.com", PASSWORD).await.0, 400);
    assert_eq!(admin.login("owner@example.com", "another-pass-1").await.0, 200);
}

#[tokio::test]
async fn global_roles_follow_compreface_rules() {
    let admin = TestAdmin::spawn().await;
    let owner = with_owner(&admin).await;
    let ada = user_with_role(&admin, "ada@example.com", "Ada", Role::User).await;
    let ben = user_with_role(&admin, "ben@example.com", "Ben", Role::User).await;
    let set = |token: String, user: uuid::Uuid, role: &'static str| {
        let admin = &admin;
        async move {
            call(admin, Method::PUT, "/user/global/role", Some(&token), Some(json!({"userId": user, "role": role})))
                .await
        }
    };
    let (status, body) = set(owner.clone(), ada, "ADMINISTRATOR").await;
    assert_eq!(
        (status, body),
        (
            200,
            json!({"userId": ada, "firstName": "Ada", "lastName": "Test", "role": "ADMINISTRATOR", "email": "ada@example.com"})
        )
    );
    let ada_token = admin.token("ada@example.com", PASSWORD).await;
    let ben_token = admin.token("ben@example.com", PASSWORD).await;
    assert_eq!(get(&admin, "/user/global/assign-roles", &owner).await.1, json!(["OWNER", "ADMINISTRATOR", "USER"]));
    assert_eq!(get(&admin, "/user/global/assign-roles", &ada_token).await.1, json!(["ADMINISTRATOR", "USER"]));
    assert_eq!(get(&admin, "/user/global/assign-roles", &ben_token).await.1, json!([]));
    assert_eq!(get(&admin, "/user/global/roles", &ben_token).await.1, json!(["OWNER", "ADMINISTRATOR", "USER"]));
    let owner_id = uuid::Uuid::from_u128(1);
    assert_eq!(set(ada_token.clone(), ben, "OWNER").await, (400, error("Insufficient privileges", 9)));
    assert_eq!(set(ada_token.clone(), ada, "USER").await, (400, error("Users cannot change their own role", 14)));
    assert_eq!(set(ada_token.clone(), owner_id, "USER").await, (400, error("Insufficient privileges", 9)));
    assert_eq!(set(ben_token.clone(), ada, "USER").await, (400, error("Insufficient privileges", 9)));
    assert_eq!(set(owner.clone(), ben, "KING").await.1["code"], 26);
    assert_eq!(set(owner.clone(), uuid::Uuid::new_v4(), "USER").await, (404, error("User does not exist", 16)));
    // Giving OWNER away makes the giver an ADMINISTRATOR.
    assert_eq!(set(owner.clone(), ben, "OWNER").await.1["role"], "OWNER");
    let (_, roles) = get(&admin, "/user/roles", &owner).await;
    let role_of =
        |id: uuid::Uuid| roles.as_array().unwrap().iter().find(|u| u["userId"] == json!(id)).unwrap()["role"].clone();
    assert_eq!(
        (role_of(ben), role_of(owner_id), role_of(ada)),
        (json!("OWNER"), json!("ADMINISTRATOR"), json!("ADMINISTRATOR"))
    );
    assert_eq!(roles[0]["userId"], json!(ben), "the owner comes first");
}

#[tokio::test]
async fn deleting_users_hands_their_applications_over() {
    let admin = TestAdmin::spawn().await;
    let owner = with_owner(&admin).await;
    let ada = user_with_role(&admin, "ada@example.com", "Ada", Role::Administrator).await;
    let ben = user_with_role(&admin, "ben@example.com", "Ben", Role::User).await;
    let cid = user_with_role(&admin, "cid@example.com", "Cid", Role::User).await;
    let ada_token = admin.token("ada@example.com", PASSWORD).await;
    let ben_token = admin.token("ben@example.com", PASSWORD).await;
    let (status, app) = call(&admin, Method::POST, "/app", Some(&ada_token), Some(json!({"name": "Ada's app"}))).await;
    assert_eq!(status, 201);
    assert_eq!(
        call(&admin, Method::DELETE, &format!("/user/{cid}"), Some(&ben_token), None).await,
        (400, error("Insufficient privileges", 9))
    );
    let owner_id = uuid::Uuid::from_u128(1);
    assert_eq!(call(&admin, Method::DELETE, &format!("/user/{owner_id}"), Some(&ada_token), None).await.0, 400);
    assert_eq!(call(&admin, Method::DELETE, "/user/not-a-uuid", Some(&owner), None).await.1["code"], 26);
    assert_eq!(
        call(&admin, Method::DELETE, &format!("/user/{}", uuid::Uuid::new_v4()), Some(&owner), None).await.1["code"],
        16
    );
    // The owner deletes Ada with replacer=deleter: Ada's application passes to the owner.
    assert_eq!(call(&admin, Method::DELETE, &format!("/user/{ada}?replacer=deleter"), Some(&owner), None).await.0, 200);
    let app_id = app["id"].as_str().unwrap();
    let (_, read) = get(&admin, &format!("/app/{app_id}"), &owner).await;
    assert_eq!(read["owner"]["userId"], json!(owner_id));
    assert_eq!(get(&admin, "/user/me", &ada_token).await.0, 401, "a deleted user's session ends");
    // A user deletes itself.
    assert_eq!(call(&admin, Method::DELETE, &format!("/user/{ben}"), Some(&ben_token), None).await.0, 200);
    assert_eq!(count(&admin, "SELECT count(*) FROM users").await, 2);
}

#[tokio::test]
async fn administrators_set_passwords_without_email_and_the_cli_does_too() {
    let admin = TestAdmin::spawn().await;
    let owner = with_owner(&admin).await;
    let ben = user_with_role(&admin, "ben@example.com", "Ben", Role::User).await;
    let ben_token = admin.token("ben@example.com", PASSWORD).await;
    let path = format!("/user/{ben}/password");
    assert_eq!(
        call(&admin, Method::PUT, &path, Some(&ben_token), Some(json!({"password": "new-password-1"}))).await.0,
        400
    );
    assert_eq!(call(&admin, Method::PUT, &path, Some(&owner), Some(json!({"password": "short"}))).await.1["code"], 26);
    assert_eq!(
        call(&admin, Method::PUT, &path, Some(&owner), Some(json!({"password": "new-password-1"}))).await.0,
        200
    );
    assert_eq!(get(&admin, "/user/me", &ben_token).await.0, 401, "the old sessions end");
    assert_eq!(admin.login("ben@example.com", "new-password-1").await.0, 200);

    admin_service::cli::reset_password_in(&admin.db.store, "BEN@example.com", "from-the-cli-1").await.unwrap();
    assert_eq!(admin.login("ben@example.com", "from-the-cli-1").await.0, 200);
    assert!(admin_service::cli::reset_password_in(&admin.db.store, "nobody@example.com", "x-password-1")
        .await
        .is_err());
}

#[tokio::test]
async fn sign_up_closed_admits_only_the_first_user() {
    let admin = TestAdmin::spawn_with(|s| s.sign_up = SignUp::Closed).await;
    admin.register("owner@example.com", PASSWORD, "O", "O").await;
    let body = json!({"email": "late@example.com", "password": PASSWORD});
    let (status, answer) = call(&admin, Method::POST, "/user/register", None, Some(body)).await;
    assert_eq!((status, answer["code"].as_u64()), (403, Some(48)));
    assert_eq!(count(&admin, "SELECT count(*) FROM users").await, 1);
    assert_eq!(
        call(&admin, Method::GET, "/config", None, None).await.1,
        json!({"mailServiceEnabled": false, "signUp": "closed"})
    );
}

#[tokio::test]
async fn sign_up_by_invitation() {
    let admin = TestAdmin::spawn_with(|s| s.sign_up = SignUp::Invite).await;
    let owner = with_owner(&admin).await;
    let body = json!({"email": "Guest@Example.com", "password": PASSWORD});
    assert_eq!(call(&admin, Method::POST, "/user/register", None, Some(body.clone())).await.0, 403);
    let (status, invited) =
        call(&admin, Method::POST, "/user/invite", Some(&owner), Some(json!({"email": "guest@example.com"}))).await;
    assert_eq!((status, invited), (201, json!({"email": "guest@example.com"})));
    assert_eq!(get(&admin, "/user/invites", &owner).await.1, json!(["guest@example.com"]));
    assert_eq!(call(&admin, Method::POST, "/user/register", None, Some(body)).await.0, 201);
    assert_eq!(get(&admin, "/user/invites", &owner).await.1, json!([]));
}

#[tokio::test]
async fn demo_keys_can_be_retired_at_start_up() {
    let admin = TestAdmin::spawn().await;
    assert_eq!(
        call(&admin, Method::GET, "/status", None, None).await,
        (200, json!({"status": "OK", "demoKeysActive": true}))
    );
    let retired = TestAdmin::spawn_with(|s| s.demo_keys = DemoKeys::Retire).await;
    assert_eq!(
        call(&retired, Method::GET, "/status", None, None).await,
        (200, json!({"status": "OK", "demoKeysActive": false}))
    );
    let demo =
        count(&retired, "SELECT count(*) FROM models WHERE api_key::text LIKE '00000000-0000-0000-0000-00000000000%'")
            .await;
    assert_eq!(demo, 0);
    assert_eq!(
        count(&retired, "SELECT count(*) FROM models WHERE app_id = '00000000-0000-0000-0000-000000000001'").await,
        3
    );
}

#[tokio::test]
async fn autocomplete_finds_users_by_prefix() {
    let admin = TestAdmin::spawn().await;
    let owner = with_owner(&admin).await;
    user_with_role(&admin, "zoe@example.com", "Zoe", Role::User).await;
    user_with_role(&admin, "zack@example.com", "Zack", Role::User).await;
    user_with_role(&admin, "amy@example.com", "Amy_%", Role::User).await;
    let (status, body) = get(&admin, "/user/autocomplete?query=Z", &owner).await;
    assert_eq!(status, 200);
    assert_eq!(body["query"], "Z");
    assert_eq!(body["length"], 2);
    let emails: Vec<&str> = body["results"].as_array().unwrap().iter().map(|u| u["email"].as_str().unwrap()).collect();
    assert_eq!(emails, ["zack@example.com", "zoe@example.com"]);
    assert_eq!(get(&admin, "/user/autocomplete?query=%25", &owner).await.1["length"], 0, "LIKE wildcards are literal");

    // A plain user finds nobody by a prefix, and a user by the whole address (any case).
    user_with_role(&admin, "ulla@example.com", "Ulla", Role::User).await;
    let ulla = admin.token("ulla@example.com", PASSWORD).await;
    assert_eq!(get(&admin, "/user/autocomplete?query=Z", &ulla).await.1["length"], 0);
    assert_eq!(get(&admin, "/user/autocomplete?query=zoe", &ulla).await.1["length"], 0);
    let (status, body) = get(&admin, "/user/autocomplete?query=Zoe@Example.com", &ulla).await;
    assert_eq!(status, 200);
    assert_eq!(body["length"], 1);
    assert_eq!(body["results"][0]["email"], "zoe@example.com");
}

#[tokio::test]
async fn the_takeover_retires_the_demo_keys_in_its_transaction_unless_they_are_kept() {
    let demo_keys = "SELECT count(*) FROM models WHERE api_key::text LIKE '00000000-0000-0000-0000-00000000000%'";
    let demo_services = "SELECT count(*) FROM models WHERE app_id = '00000000-0000-0000-0000-000000000001'";
    let admin = TestAdmin::spawn().await;
    assert_eq!(call(&admin, Method::GET, "/status", None, None).await.1["demoKeysActive"], true);
    assert_eq!(count(&admin, demo_keys).await, 3);
    admin.register("owner@example.com", PASSWORD, "Olga", "Owner").await;
    assert_eq!(call(&admin, Method::GET, "/status", None, None).await.1["demoKeysActive"], false);
    assert_eq!(count(&admin, demo_keys).await, 0);
    // The services and their collections stay, in the owner's demo application, with new keys.
    assert_eq!(count(&admin, demo_services).await, 3);
    // A second user changes nothing more.
    admin.register("second@example.com", PASSWORD, "Sam", "Second").await;
    assert_eq!(count(&admin, demo_services).await, 3);

    let kept = TestAdmin::spawn_with(|s| s.demo_keys = DemoKeys::Keep).await;
    kept.register("owner@example.com", PASSWORD, "Olga", "Owner").await;
    assert_eq!(call(&kept, Method::GET, "/status", None, None).await.1["demoKeysActive"], true);
    assert_eq!(count(&kept, demo_keys).await, 3);
}

/// `SIGN_UP=closed` on an empty installation: the owner comes from the command line
/// (`admin-service create-owner EMAIL`), nobody through the network.
#[tokio::test]
async fn create_owner_makes_the_first_account_of_a_closed_installation_once() {
    let admin = TestAdmin::spawn_with(|s| s.sign_up = SignUp::Closed).await;
    let settings = admin_service::Settings::with_database(admin.db.options.clone());
    let store = &admin.db.store;
    let refused = admin_service::cli::create_owner_in(store, &settings, "not an address", PASSWORD).await;
    assert!(refused.unwrap_err().to_string().contains("e-mail"));
    admin_service::cli::create_owner_in(store, &settings, "Root@Example.com", PASSWORD).await.unwrap();
    let token = admin.token("root@example.com", PASSWORD).await;
    let (status, me) = get(&admin, "/user/me", &token).await;
    assert_eq!((status, me["email"].as_str()), (200, Some("Root@Example.com")), "{me}");
    let (_, roles) = get(&admin, "/user/roles", &token).await;
    assert_eq!(roles[0]["role"], "OWNER");
    assert_eq!(call(&admin, Method::GET, "/status", None, None).await.1["demoKeysActive"], false);
    let (_, apps) = get(&admin, "/apps", &token).await;
    assert_eq!(apps[0]["name"], "Demo Application");
    // Once: then the installation has its owner.
    let again = admin_service::cli::create_owner_in(store, &settings, "other@example.com", PASSWORD).await;
    assert!(again.unwrap_err().to_string().contains("has an owner already"));
    // And the network registers nobody.
    let body = json!({"email": "guest@example.com", "password": PASSWORD});
    let (status, answer) = call(&admin, Method::POST, "/user/register", None, Some(body)).await;
    assert_eq!((status, answer["code"].as_u64()), (403, Some(48)));
}
