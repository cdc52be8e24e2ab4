//! The admin API's JSON, camelCase as CompreFace writes it. Absent values are left out.
//!
//! Each answer type carries its OpenAPI schema (`ToSchema`) with an example; [`RoleName`] and
//! [`ServiceTypeName`] are the schemas of the roles and service types, which are written as text.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;
use visage_store::{App, Member, Person, Role, ServiceInfo, ServiceType, User};

/// A role, global or in an application.
#[derive(ToSchema)]
#[schema(as = Role, rename_all = "UPPERCASE", example = "ADMINISTRATOR")]
#[allow(dead_code)]
pub enum RoleName {
    Owner,
    Administrator,
    User,
}

/// A face service's type.
#[derive(ToSchema)]
#[schema(as = ServiceType, rename_all = "UPPERCASE", example = "RECOGNITION")]
#[allow(dead_code)]
pub enum ServiceTypeName {
    Recognition,
    Detection,
    Verify,
}

/// A user: `GET /user/me`, `PUT /user/update`, the results of `GET /user/autocomplete`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = User, example = json!({
    "userId": "7d6b1a6e-3c52-4a0b-9a57-0e6c3e0f2b11", "email": "anna@example.com",
    "firstName": "Anna", "lastName": "Smith"
}))]
pub struct UserDto {
    pub user_id: Uuid,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
}

impl From<&User> for UserDto {
    fn from(u: &User) -> Self {
        Self { user_id: u.id, email: u.email.clone(), first_name: u.first_name.clone(), last_name: u.last_name.clone() }
    }
}

impl From<&Person> for UserDto {
    fn from(p: &Person) -> Self {
        Self { user_id: p.id, email: p.email.clone(), first_name: p.first_name.clone(), last_name: p.last_name.clone() }
    }
}

/// A user with a role: global (`/user/roles`) or in an application (`/app/{id}/roles`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = UserRole, example = json!({
    "userId": "7d6b1a6e-3c52-4a0b-9a57-0e6c3e0f2b11", "firstName": "Anna", "lastName": "Smith",
    "role": "ADMINISTRATOR", "email": "anna@example.com"
}))]
pub struct UserRoleDto {
    pub user_id: Uuid,
    pub first_name: String,
    pub last_name: String,
    #[schema(value_type = RoleName)]
    pub role: Role,
    pub email: String,
}

impl From<&User> for UserRoleDto {
    fn from(u: &User) -> Self {
        Self {
            user_id: u.id,
            first_name: u.first_name.clone(),
            last_name: u.last_name.clone(),
            role: u.global_role,
            email: u.email.clone(),
        }
    }
}

impl From<&Member> for UserRoleDto {
    fn from(m: &Member) -> Self {
        Self {
            user_id: m.person.id,
            first_name: m.person.first_name.clone(),
            last_name: m.person.last_name.clone(),
            role: m.role,
            email: m.person.email.clone(),
        }
    }
}

/// `GET /user/autocomplete`: the users whose e-mail or name starts with the query.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Autocomplete, example = json!({
    "query": "ann", "length": 1,
    "results": [{"userId": "7d6b1a6e-3c52-4a0b-9a57-0e6c3e0f2b11", "email": "anna@example.com",
        "firstName": "Anna", "lastName": "Smith"}]
}))]
pub struct AutocompleteDto {
    pub query: String,
    /// How many results there are (at most 20).
    pub length: usize,
    pub results: Vec<UserDto>,
}

/// An application's owner as the application list shows it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Owner, example = json!({
    "userId": "7d6b1a6e-3c52-4a0b-9a57-0e6c3e0f2b11", "firstName": "Anna", "lastName": "Smith"
}))]
pub struct OwnerDto {
    pub user_id: Uuid,
    pub first_name: String,
    pub last_name: String,
}

/// An application, with the caller's role in it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = App, example = json!({
    "id": "2c1e9f0a-8d4b-4f6e-b1a3-5e7d9c0b2a41", "name": "Front door",
    "apiKey": "9b4e7c2d-1f3a-4d5e-8c6b-0a2f4e6d8b13", "role": "OWNER",
    "owner": {"userId": "7d6b1a6e-3c52-4a0b-9a57-0e6c3e0f2b11", "firstName": "Anna", "lastName": "Smith"}
}))]
pub struct AppDto {
    pub id: Uuid,
    pub name: String,
    /// The application's own key (CompreFace's; no call of the public API takes it).
    pub api_key: Uuid,
    /// The caller's role in the application; left out when the caller is no member (a global
    /// OWNER or ADMINISTRATOR).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<RoleName>)]
    pub role: Option<Role>,
    /// Left out when the application has no owner.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<OwnerDto>,
}

impl AppDto {
    pub fn new(app: &App, role: Option<Role>) -> Self {
        Self {
            id: app.id,
            name: app.name.clone(),
            api_key: app.api_key,
            role,
            owner: app.owner.as_ref().map(|o| OwnerDto {
                user_id: o.id,
                first_name: o.first_name.clone(),
                last_name: o.last_name.clone(),
            }),
        }
    }
}

/// A service's type as the admin API spells it.
pub fn type_name(t: ServiceType) -> &'static str {
    match t {
        ServiceType::Recognition => "RECOGNITION",
        ServiceType::Detection => "DETECTION",
        ServiceType::Verification => "VERIFY",
    }
}

pub fn parse_type(text: &str) -> Option<ServiceType> {
    match text.trim().to_ascii_uppercase().as_str() {
        "RECOGNITION" => Some(ServiceType::Recognition),
        "DETECTION" => Some(ServiceType::Detection),
        "VERIFY" | "VERIFICATION" => Some(ServiceType::Verification),
        _ => None,
    }
}

/// A face service ("model"); the counts only where asked for, and only for recognition.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Service, example = json!({
    "id": "5a8c3e1f-7b2d-4e9a-a6c4-1d3f5b7e9c20", "name": "Door camera",
    "apiKey": "00000000-0000-0000-0000-000000000002", "type": "RECOGNITION",
    "createdDate": "2026-01-31T09:15:00", "matchThreshold": 0.5, "subjectCount": 12, "imageCount": 40
}))]
pub struct ModelDto {
    pub id: Uuid,
    pub name: String,
    /// The key of the public API's calls (`x-api-key`).
    pub api_key: Uuid,
    #[serde(rename = "type")]
    #[schema(value_type = ServiceTypeName)]
    pub service_type: &'static str,
    /// ISO local date-time (UTC), as CompreFace writes it.
    #[schema(example = "2026-01-31T09:15:00")]
    pub created_date: String,
    /// Recognition services: the similarity below which recognitions leave a stored face out
    /// (`null`: none, CompreFace's answers). Not shown for other services.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>, minimum = 0.0, maximum = 1.0)]
    pub match_threshold: Option<Option<f64>>,
    /// Recognition services, in the answers of one service: the subjects of its collection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject_count: Option<i64>,
    /// Recognition services, in the answers of one service: the faces of its collection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_count: Option<i64>,
}

impl From<&ServiceInfo> for ModelDto {
    fn from(s: &ServiceInfo) -> Self {
        Self {
            id: s.service.id,
            name: s.service.name.clone(),
            api_key: s.service.api_key,
            service_type: type_name(s.service.service_type),
            created_date: local_date_time(s.created_at),
            match_threshold: (s.service.service_type == ServiceType::Recognition).then_some(s.service.match_threshold),
            subject_count: None,
            image_count: None,
        }
    }
}

pub fn local_date_time(t: DateTime<Utc>) -> String {
    t.naive_utc().format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// Requests of one day.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Statistic, example = json!({"requestCount": 154, "createdDate": "2026-01-31"}))]
pub struct StatisticDto {
    pub request_count: i64,
    /// `YYYY-MM-DD`.
    pub created_date: NaiveDate,
}

/// The OAuth2 token answer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Token, example = json!({
    "access_token": "kq3Jd0tF2cVx7mB9nR4sW1yZ6hL8pA5e", "token_type": "bearer",
    "refresh_token": "Xv2Nc7Qm4Tz9Bw1Kr6Hs3Jd8Lf5Pg0Ay", "expires_in": 2399, "scope": "all"
}))]
pub struct TokenDto {
    /// The session: `Authorization: Bearer <token>`, or the `CFSESSION` cookie set with it.
    pub access_token: String,
    #[schema(value_type = String)]
    pub token_type: &'static str,
    /// For `grant_type=refresh_token`; also set as the `REFRESH_TOKEN` cookie.
    pub refresh_token: String,
    /// Seconds the access token has left.
    pub expires_in: i64,
    #[schema(value_type = String)]
    pub scope: &'static str,
}

/// OAuth2's error answer: a failed login or token refresh, and any call without a valid session.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = OAuthError, example = json!({"error": "invalid_grant", "error_description": "Bad credentials"}))]
pub struct OAuthErrorDto {
    /// `invalid_grant`, `unsupported_grant_type` or `unauthorized`.
    #[schema(value_type = String)]
    pub error: &'static str,
    pub error_description: String,
}

/// `POST /user/invite`: the invited address.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Invitation, example = json!({"email": "ben@example.com"}))]
pub struct InvitationDto {
    pub email: String,
}

/// `GET /user/demo/model`: the key of the demo recognition service.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = DemoModel, example = json!({"apiKey": "00000000-0000-0000-0000-000000000002"}))]
pub struct DemoModelDto {
    pub api_key: Uuid,
}
