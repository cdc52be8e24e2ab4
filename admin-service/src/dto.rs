//! The admin API's JSON, camelCase as CompreFace writes it. Absent values are left out.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use uuid::Uuid;
use visage_store::{App, Member, Person, Role, ServiceInfo, ServiceType, User};

/// `GET /user/me`, `PUT /user/update`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
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
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserRoleDto {
    pub user_id: Uuid,
    pub first_name: String,
    pub last_name: String,
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

/// `GET /user/autocomplete`.
#[derive(Debug, Serialize)]
pub struct AutocompleteDto {
    pub query: String,
    pub length: usize,
    pub results: Vec<UserDto>,
}

/// An application's owner as the application list shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OwnerDto {
    pub user_id: Uuid,
    pub first_name: String,
    pub last_name: String,
}

/// An application, with the caller's role in it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppDto {
    pub id: Uuid,
    pub name: String,
    pub api_key: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
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
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelDto {
    pub id: Uuid,
    pub name: String,
    pub api_key: Uuid,
    #[serde(rename = "type")]
    pub service_type: &'static str,
    /// ISO local date-time (UTC), as CompreFace writes it.
    pub created_date: String,
    /// Recognition services: the similarity below which recognitions leave a stored face out
    /// (`null`: none, CompreFace's answers). Not shown for other services.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub match_threshold: Option<Option<f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject_count: Option<i64>,
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
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatisticDto {
    pub request_count: i64,
    /// `YYYY-MM-DD`.
    pub created_date: NaiveDate,
}

/// The OAuth2 token answer.
#[derive(Debug, Serialize)]
pub struct TokenDto {
    pub access_token: String,
    pub token_type: &'static str,
    pub refresh_token: String,
    pub expires_in: i64,
    pub scope: &'static str,
}
