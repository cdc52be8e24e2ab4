//! Writing what a CompreFace database holds into ours, under CompreFace's ids: accounts,
//! applications, members, services, subjects and statistics in one transaction with its
//! conflicts checked first, then each re-embedded face in a transaction of its own.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::accounts::{Role, DEMO_USER_ID};
use crate::locks::{Job, SessionLock};
use crate::services::ServiceType;
use crate::{embedding, Store, StoreError};

/// The seeded demo application and its services `(id, API key)`.
const DEMO_APP_ID: Uuid = Uuid::from_u128(1);
const DEMO_SERVICES: [(Uuid, Uuid); 3] = [
    (Uuid::from_u128(1), Uuid::from_u128(2)),
    (Uuid::from_u128(3), Uuid::from_u128(3)),
    (Uuid::from_u128(4), Uuid::from_u128(4)),
];

/// A user to write, under CompreFace's `guid`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportUser {
    pub id: Uuid,
    pub email: String,
    /// CompreFace's bcrypt hash as it is: the user's next login replaces it.
    pub password_hash: String,
    pub first_name: String,
    pub last_name: String,
    pub enabled: bool,
    pub global_role: Role,
    pub allow_statistics: bool,
    pub created_at: Option<DateTime<Utc>>,
}

/// An application to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportApp {
    pub id: Uuid,
    pub name: String,
    pub api_key: Uuid,
}

/// A member to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportRole {
    pub user_id: Uuid,
    pub app_id: Uuid,
    pub role: Role,
}

/// A service to write, with the API key its clients send.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportService {
    pub id: Uuid,
    pub app_id: Uuid,
    pub name: String,
    pub service_type: ServiceType,
    pub api_key: Uuid,
    pub created_at: Option<DateTime<Utc>>,
}

/// A subject to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportSubject {
    pub id: Uuid,
    pub model_id: Uuid,
    pub name: String,
}

/// A service's requests on one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportStatistic {
    pub model_id: Uuid,
    pub day: NaiveDate,
    pub requests: i64,
}

/// What [`Store::import_compreface_accounts`] writes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportAccounts {
    pub users: Vec<ImportUser>,
    pub apps: Vec<ImportApp>,
    /// Members whose user is not in ours (CompreFace's demo user when ours is gone) are left out.
    pub roles: Vec<ImportRole>,
    pub services: Vec<ImportService>,
    pub subjects: Vec<ImportSubject>,
    pub statistics: Vec<ImportStatistic>,
    /// Remove our demo user if nobody took it over (CompreFace's installation has real users:
    /// ours could never be taken over, and it would be a second global OWNER).
    pub remove_untaken_demo: bool,
}

/// Rows written by one upsert: inserted, and existing ones that differed and were updated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Upserted {
    pub new: u64,
    pub changed: u64,
}

impl Upserted {
    fn of(inserted: &[bool]) -> Self {
        let new = inserted.iter().filter(|i| **i).count() as u64;
        Self { new, changed: inserted.len() as u64 - new }
    }
}

/// What [`Store::import_compreface_accounts`] wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportedAccounts {
    pub users: Upserted,
    pub apps: Upserted,
    pub roles: Upserted,
    pub services: Upserted,
    pub subjects: Upserted,
    pub statistics: Upserted,
    /// Parts of our seeded demo that were removed, described.
    pub removed_demo: Vec<String>,
}

/// A row of ours that an imported row collides with. Nothing is written while there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conflict {
    /// The e-mail address (in any letter case) belongs to another user of ours.
    Email { id: Uuid, email: String, holder: Uuid },
    /// Ours has a global OWNER who is not one of the imported users.
    Owner { email: String },
    /// The application name belongs to another application of ours.
    AppName { id: Uuid, name: String, holder: Uuid },
    /// The application's key belongs to another application of ours.
    AppKey { id: Uuid, name: String, holder: Uuid },
    /// The service's API key belongs to another service of ours.
    ServiceKey { id: Uuid, name: String, api_key: Uuid, holder: Uuid, holder_name: String },
    /// Another service of ours in the same application has the name.
    ServiceName { id: Uuid, name: String, holder: Uuid },
    /// Another subject of ours in the same service has the name, in some letter case.
    Subject { id: Uuid, name: String, service: String, holder: Uuid, holder_name: String },
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Email { id, email, holder } => write!(
                f,
                "the e-mail address {email} of CompreFace's user {id} belongs to another Visage user ({holder}); \
                 e-mail addresses are compared without regard to letter case"
            ),
            Self::Owner { email } => write!(
                f,
                "Visage already has a global OWNER, {email}, who is not a CompreFace user, and there is one \
                 global OWNER: import into a fresh database, or delete that user first"
            ),
            Self::AppName { id, name, holder } => {
                write!(f, "the name \"{name}\" of CompreFace's application {id} is taken by Visage's application {holder}")
            }
            Self::AppKey { id, name, holder } => write!(
                f,
                "the key of CompreFace's application \"{name}\" ({id}) is the key of Visage's application {holder}"
            ),
            Self::ServiceKey { id, name, api_key, holder, holder_name } => write!(
                f,
                "the API key {api_key} of CompreFace's service \"{name}\" ({id}) is the key of Visage's service \
                 \"{holder_name}\" ({holder})"
            ),
            Self::ServiceName { id, name, holder } => write!(
                f,
                "the name \"{name}\" of CompreFace's service {id} is taken in its application by Visage's service {holder}"
            ),
            Self::Subject { id, name, service, holder, holder_name } => write!(
                f,
                "the subject \"{name}\" ({id}) of service \"{service}\" collides with Visage's subject \
                 \"{holder_name}\" ({holder}); subject names are compared without regard to letter case"
            ),
        }
    }
}

/// A re-embedded face to write.
#[derive(Debug, Clone, Copy)]
pub struct ImportFace<'a> {
    /// CompreFace's embedding id: the `image_id` its clients know.
    pub id: Uuid,
    pub subject_id: Uuid,
    pub embedding: &'a [f32],
    pub calculator: &'a str,
    pub image: &'a [u8],
    /// Where core-service found the face in the image.
    pub face_box: Option<crate::FaceBox>,
}

/// Held while an import runs: one import at a time per database. Released by
/// [`SessionLock::release`], or when the process ends.
pub type ImportLock = SessionLock;

type Tx<'t> = sqlx::Transaction<'t, sqlx::Postgres>;

impl Store {
    /// Takes the import's lock on a connection of its own; `None` while another import holds it.
    pub async fn try_lock_compreface_import(&self) -> Result<Option<ImportLock>, StoreError> {
        self.try_lock(Job::CompreFaceImport).await
    }

    /// Writes CompreFace's accounts, applications, members, services, subjects and statistics
    /// in one transaction, upserting each row on its id; `Err(conflicts)` (and nothing written)
    /// when rows of ours collide with them.
    ///
    /// First, what is left of our untouched seeded demo goes: the demo user when
    /// `remove_untaken_demo` says so; the demo application when CompreFace has none under its id
    /// and it has no members left and no faces; the demo services CompreFace has not (in the
    /// demo application CompreFace has) while they hold their demo keys and no faces.
    ///
    /// Updates keep what Visage alone has: creation dates, match thresholds, and passwords once
    /// replaced at a login (a bcrypt hash is refreshed from CompreFace, an argon2 one is kept).
    /// Request counts only grow (the larger of ours and CompreFace's). An imported application
    /// OWNER makes any other OWNER of ours of that application an ADMINISTRATOR.
    pub async fn import_compreface_accounts(
        &self,
        accounts: &ImportAccounts,
    ) -> Result<Result<ImportedAccounts, Vec<Conflict>>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let removed_demo = remove_demo(&mut tx, accounts).await?;
        let conflicts = conflicts(&mut tx, accounts).await?;
        if !conflicts.is_empty() {
            tx.rollback().await?;
            return Ok(Err(conflicts));
        }
        let users = upsert_users(&mut tx, &accounts.users).await?;
        let apps = upsert_apps(&mut tx, &accounts.apps).await?;
        let services = upsert_services(&mut tx, &accounts.services).await?;
        let roles = upsert_roles(&mut tx, &accounts.roles).await?;
        let subjects = upsert_subjects(&mut tx, &accounts.subjects).await?;
        let statistics = upsert_statistics(&mut tx, &accounts.statistics).await?;
        tx.commit().await?;
        Ok(Ok(ImportedAccounts { users, apps, roles, services, subjects, statistics, removed_demo }))
    }

    /// Those of these face ids that are stored (in any service).
    pub async fn existing_face_ids(&self, ids: &[Uuid]) -> Result<Vec<Uuid>, StoreError> {
        Ok(sqlx::query_scalar("SELECT id FROM faces WHERE id = ANY($1)").bind(ids).fetch_all(&self.pool).await?)
    }

    /// Stores a face with its image under its CompreFace id, in its subject's service, in one
    /// transaction. `false` when nothing was written: a face with this id exists, or the subject
    /// does not.
    pub async fn import_compreface_face(&self, face: ImportFace<'_>) -> Result<bool, StoreError> {
        let dimension = i32::try_from(face.embedding.len())
            .map_err(|_| StoreError::Database(sqlx::Error::Protocol("embedding too long".into())))?;
        let [x_min, y_min, x_max, y_max] = crate::FaceBox::columns(face.face_box);
        let mut tx = self.pool.begin().await?;
        let inserted: Option<Uuid> = sqlx::query_scalar(
            "INSERT INTO faces (id, model_id, subject_id, embedding, dimension, calculator, \
                                box_x_min, box_y_min, box_x_max, box_y_max) \
             SELECT $1, s.model_id, s.id, $3, $4, $5, $6, $7, $8, $9 FROM subjects s \
             WHERE s.id = $2 AND s.deleted_at IS NULL \
             ON CONFLICT (id) DO NOTHING RETURNING id",
        )
        .bind(face.id)
        .bind(face.subject_id)
        .bind(embedding::to_bytes(face.embedding))
        .bind(dimension)
        .bind(face.calculator)
        .bind(x_min)
        .bind(y_min)
        .bind(x_max)
        .bind(y_max)
        .fetch_optional(&mut *tx)
        .await?;
        if inserted.is_none() {
            return Ok(false);
        }
        sqlx::query("INSERT INTO images (face_id, content) VALUES ($1, $2)")
            .bind(face.id)
            .bind(face.image)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }
}

/// Removes what is left of our untouched seeded demo (see [`Store::import_compreface_accounts`]);
/// describes what went.
async fn remove_demo(tx: &mut Tx<'_>, accounts: &ImportAccounts) -> Result<Vec<String>, StoreError> {
    let mut removed = Vec::new();
    if accounts.remove_untaken_demo {
        let done = sqlx::query("DELETE FROM users WHERE id = $1 AND password_hash = '!'")
            .bind(DEMO_USER_ID)
            .execute(&mut **tx)
            .await?;
        if done.rows_affected() > 0 {
            removed.push("the demo user nobody had taken over".to_string());
        }
    }
    let no_faces = "NOT EXISTS (SELECT 1 FROM faces f WHERE f.model_id = m.id)";
    if !accounts.apps.iter().any(|a| a.id == DEMO_APP_ID) {
        let name: Option<String> = sqlx::query_scalar(&format!(
            "DELETE FROM apps a WHERE a.id = $1 AND NOT EXISTS (SELECT 1 FROM app_roles r WHERE r.app_id = a.id) \
             AND NOT EXISTS (SELECT 1 FROM models m WHERE m.app_id = a.id AND NOT ({no_faces})) RETURNING name"
        ))
        .bind(DEMO_APP_ID)
        .fetch_optional(&mut **tx)
        .await?;
        if let Some(name) = name {
            removed.push(format!("the demo application \"{name}\" with its services"));
        }
    } else {
        let (ids, keys): (Vec<Uuid>, Vec<Uuid>) =
            DEMO_SERVICES.iter().filter(|(id, _)| !accounts.services.iter().any(|s| s.id == *id)).copied().unzip();
        let names: Vec<String> = sqlx::query_scalar(&format!(
            "DELETE FROM models m USING unnest($2::uuid[], $3::uuid[]) d(id, api_key) \
             WHERE m.id = d.id AND m.api_key = d.api_key AND m.app_id = $1 AND {no_faces} RETURNING m.name"
        ))
        .bind(DEMO_APP_ID)
        .bind(&ids)
        .bind(&keys)
        .fetch_all(&mut **tx)
        .await?;
        removed.extend(names.into_iter().map(|name| format!("the demo service \"{name}\"")));
    }
    Ok(removed)
}

/// Rows of ours that the import would collide with.
async fn conflicts(tx: &mut Tx<'_>, accounts: &ImportAccounts) -> Result<Vec<Conflict>, StoreError> {
    let mut found = Vec::new();

    let user_ids: Vec<Uuid> = accounts.users.iter().map(|u| u.id).collect();
    let emails: Vec<&str> = accounts.users.iter().map(|u| u.email.as_str()).collect();
    let rows: Vec<(Uuid, String, Uuid)> = sqlx::query_as(
        "SELECT t.id, t.email, u.id FROM unnest($1::uuid[], $2::text[]) t(id, email) \
         JOIN users u ON lower(u.email) = lower(t.email) AND u.id <> t.id ORDER BY t.email",
    )
    .bind(&user_ids)
    .bind(&emails)
    .fetch_all(&mut **tx)
    .await?;
    found.extend(rows.into_iter().map(|(id, email, holder)| Conflict::Email { id, email, holder }));

    if accounts.users.iter().any(|u| u.global_role == Role::Owner) {
        let owners: Vec<String> = sqlx::query_scalar(
            "SELECT email FROM users WHERE global_role = 'OWNER' AND id <> ALL($1) \
             AND NOT (id = $2 AND password_hash = '!') ORDER BY email",
        )
        .bind(&user_ids)
        .bind(DEMO_USER_ID)
        .fetch_all(&mut **tx)
        .await?;
        found.extend(owners.into_iter().map(|email| Conflict::Owner { email }));
    }

    let app_ids: Vec<Uuid> = accounts.apps.iter().map(|a| a.id).collect();
    let app_names: Vec<&str> = accounts.apps.iter().map(|a| a.name.as_str()).collect();
    let app_keys: Vec<Uuid> = accounts.apps.iter().map(|a| a.api_key).collect();
    let rows: Vec<(Uuid, String, Uuid, bool)> = sqlx::query_as(
        "SELECT t.id, t.name, a.id, a.name = t.name FROM unnest($1::uuid[], $2::text[], $3::uuid[]) t(id, name, api_key) \
         JOIN apps a ON a.id <> t.id AND a.deleted_at IS NULL AND (a.name = t.name OR a.api_key = t.api_key) ORDER BY t.name",
    )
    .bind(&app_ids)
    .bind(&app_names)
    .bind(&app_keys)
    .fetch_all(&mut **tx)
    .await?;
    found.extend(rows.into_iter().map(|(id, name, holder, same_name)| {
        if same_name {
            Conflict::AppName { id, name, holder }
        } else {
            Conflict::AppKey { id, name, holder }
        }
    }));

    let service_ids: Vec<Uuid> = accounts.services.iter().map(|s| s.id).collect();
    let service_apps: Vec<Uuid> = accounts.services.iter().map(|s| s.app_id).collect();
    let service_names: Vec<&str> = accounts.services.iter().map(|s| s.name.as_str()).collect();
    let service_keys: Vec<Uuid> = accounts.services.iter().map(|s| s.api_key).collect();
    let rows: Vec<(Uuid, String, Uuid, Uuid, String, bool)> = sqlx::query_as(
        "SELECT t.id, t.name, t.api_key, m.id, m.name, m.api_key = t.api_key \
         FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::uuid[]) t(id, app_id, name, api_key) \
         JOIN models m ON m.id <> t.id AND m.deleted_at IS NULL AND (m.api_key = t.api_key OR (m.app_id = t.app_id AND m.name = t.name)) \
         ORDER BY t.name",
    )
    .bind(&service_ids)
    .bind(&service_apps)
    .bind(&service_names)
    .bind(&service_keys)
    .fetch_all(&mut **tx)
    .await?;
    found.extend(rows.into_iter().map(|(id, name, api_key, holder, holder_name, same_key)| {
        if same_key {
            Conflict::ServiceKey { id, name, api_key, holder, holder_name }
        } else {
            Conflict::ServiceName { id, name, holder }
        }
    }));

    let subject_ids: Vec<Uuid> = accounts.subjects.iter().map(|s| s.id).collect();
    let subject_models: Vec<Uuid> = accounts.subjects.iter().map(|s| s.model_id).collect();
    let subject_names: Vec<&str> = accounts.subjects.iter().map(|s| s.name.as_str()).collect();
    let rows: Vec<(Uuid, String, Uuid, Uuid, String)> = sqlx::query_as(
        "SELECT t.id, t.name, t.model_id, s.id, s.name FROM unnest($1::uuid[], $2::uuid[], $3::text[]) t(id, model_id, name) \
         JOIN subjects s ON s.model_id = t.model_id AND lower(s.name) = lower(t.name) AND s.id <> t.id \
         AND s.deleted_at IS NULL ORDER BY t.name",
    )
    .bind(&subject_ids)
    .bind(&subject_models)
    .bind(&subject_names)
    .fetch_all(&mut **tx)
    .await?;
    found.extend(rows.into_iter().map(|(id, name, model_id, holder, holder_name)| {
        let service = accounts
            .services
            .iter()
            .find(|s| s.id == model_id)
            .map_or_else(|| model_id.to_string(), |s| s.name.clone());
        Conflict::Subject { id, name, service, holder, holder_name }
    }));
    Ok(found)
}

async fn upsert_users(tx: &mut Tx<'_>, users: &[ImportUser]) -> Result<Upserted, StoreError> {
    let inserted: Vec<bool> = sqlx::query_scalar(
        "INSERT INTO users AS u (id, email, password_hash, first_name, last_name, enabled, global_role, \
                                 allow_statistics, created_at) \
         SELECT id, email, password_hash, first_name, last_name, enabled, global_role, allow_statistics, \
                coalesce(created_at, now()) \
         FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bool[], $7::text[], $8::bool[], \
                     $9::timestamptz[]) \
              t(id, email, password_hash, first_name, last_name, enabled, global_role, allow_statistics, created_at) \
         ON CONFLICT (id) DO UPDATE SET email = EXCLUDED.email, first_name = EXCLUDED.first_name, \
             last_name = EXCLUDED.last_name, enabled = EXCLUDED.enabled, global_role = EXCLUDED.global_role, \
             allow_statistics = EXCLUDED.allow_statistics, \
             password_hash = CASE WHEN u.password_hash LIKE '{bcrypt}%' OR u.password_hash LIKE '$2%' \
                                  THEN EXCLUDED.password_hash ELSE u.password_hash END \
         WHERE (u.email, u.first_name, u.last_name, u.enabled, u.global_role, u.allow_statistics) \
               IS DISTINCT FROM (EXCLUDED.email, EXCLUDED.first_name, EXCLUDED.last_name, EXCLUDED.enabled, \
                                 EXCLUDED.global_role, EXCLUDED.allow_statistics) \
            OR ((u.password_hash LIKE '{bcrypt}%' OR u.password_hash LIKE '$2%') \
                AND u.password_hash <> EXCLUDED.password_hash) \
         RETURNING xmax = 0",
    )
    .bind(users.iter().map(|u| u.id).collect::<Vec<_>>())
    .bind(users.iter().map(|u| u.email.as_str()).collect::<Vec<_>>())
    .bind(users.iter().map(|u| u.password_hash.as_str()).collect::<Vec<_>>())
    .bind(users.iter().map(|u| u.first_name.as_str()).collect::<Vec<_>>())
    .bind(users.iter().map(|u| u.last_name.as_str()).collect::<Vec<_>>())
    .bind(users.iter().map(|u| u.enabled).collect::<Vec<_>>())
    .bind(users.iter().map(|u| u.global_role.as_str()).collect::<Vec<_>>())
    .bind(users.iter().map(|u| u.allow_statistics).collect::<Vec<_>>())
    .bind(users.iter().map(|u| u.created_at).collect::<Vec<_>>())
    .fetch_all(&mut **tx)
    .await?;
    Ok(Upserted::of(&inserted))
}

async fn upsert_apps(tx: &mut Tx<'_>, apps: &[ImportApp]) -> Result<Upserted, StoreError> {
    let inserted: Vec<bool> = sqlx::query_scalar(
        "INSERT INTO apps AS a (id, name, api_key) SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[]) \
         ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, api_key = EXCLUDED.api_key \
         WHERE (a.name, a.api_key) IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.api_key) \
         RETURNING xmax = 0",
    )
    .bind(apps.iter().map(|a| a.id).collect::<Vec<_>>())
    .bind(apps.iter().map(|a| a.name.as_str()).collect::<Vec<_>>())
    .bind(apps.iter().map(|a| a.api_key).collect::<Vec<_>>())
    .fetch_all(&mut **tx)
    .await?;
    Ok(Upserted::of(&inserted))
}

async fn upsert_services(tx: &mut Tx<'_>, services: &[ImportService]) -> Result<Upserted, StoreError> {
    // New services get no match threshold: they answer as they did in CompreFace.
    let inserted: Vec<bool> = sqlx::query_scalar(
        "INSERT INTO models AS m (id, app_id, name, type, api_key, created_at) \
         SELECT id, app_id, name, type, api_key, coalesce(created_at, now()) \
         FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::uuid[], $6::timestamptz[]) \
              t(id, app_id, name, type, api_key, created_at) \
         ON CONFLICT (id) DO UPDATE SET app_id = EXCLUDED.app_id, name = EXCLUDED.name, type = EXCLUDED.type, \
             api_key = EXCLUDED.api_key \
         WHERE (m.app_id, m.name, m.type, m.api_key) \
               IS DISTINCT FROM (EXCLUDED.app_id, EXCLUDED.name, EXCLUDED.type, EXCLUDED.api_key) \
         RETURNING xmax = 0",
    )
    .bind(services.iter().map(|s| s.id).collect::<Vec<_>>())
    .bind(services.iter().map(|s| s.app_id).collect::<Vec<_>>())
    .bind(services.iter().map(|s| s.name.as_str()).collect::<Vec<_>>())
    .bind(services.iter().map(|s| s.service_type.letter()).collect::<Vec<_>>())
    .bind(services.iter().map(|s| s.api_key).collect::<Vec<_>>())
    .bind(services.iter().map(|s| s.created_at).collect::<Vec<_>>())
    .fetch_all(&mut **tx)
    .await?;
    Ok(Upserted::of(&inserted))
}

async fn upsert_roles(tx: &mut Tx<'_>, roles: &[ImportRole]) -> Result<Upserted, StoreError> {
    // Members whose user we do not have are left out.
    let known = "EXISTS (SELECT 1 FROM users u WHERE u.id = t.user_id)";
    let owners: Vec<&ImportRole> = roles.iter().filter(|r| r.role == Role::Owner).collect();
    sqlx::query(&format!(
        "UPDATE app_roles r SET role = 'ADMINISTRATOR' FROM unnest($1::uuid[], $2::uuid[]) t(user_id, app_id) \
         WHERE r.app_id = t.app_id AND r.user_id <> t.user_id AND r.role = 'OWNER' AND {known}"
    ))
    .bind(owners.iter().map(|r| r.user_id).collect::<Vec<_>>())
    .bind(owners.iter().map(|r| r.app_id).collect::<Vec<_>>())
    .execute(&mut **tx)
    .await?;
    let inserted: Vec<bool> = sqlx::query_scalar(&format!(
        "INSERT INTO app_roles AS r (user_id, app_id, role) \
         SELECT user_id, app_id, role FROM unnest($1::uuid[], $2::uuid[], $3::text[]) t(user_id, app_id, role) \
         WHERE {known} \
         ON CONFLICT (user_id, app_id) DO UPDATE SET role = EXCLUDED.role WHERE r.role <> EXCLUDED.role \
         RETURNING xmax = 0"
    ))
    .bind(roles.iter().map(|r| r.user_id).collect::<Vec<_>>())
    .bind(roles.iter().map(|r| r.app_id).collect::<Vec<_>>())
    .bind(roles.iter().map(|r| r.role.as_str()).collect::<Vec<_>>())
    .fetch_all(&mut **tx)
    .await?;
    Ok(Upserted::of(&inserted))
}

async fn upsert_subjects(tx: &mut Tx<'_>, subjects: &[ImportSubject]) -> Result<Upserted, StoreError> {
    let inserted: Vec<bool> = sqlx::query_scalar(
        "INSERT INTO subjects AS s (id, model_id, name) SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[]) \
         ON CONFLICT (id) DO UPDATE SET model_id = EXCLUDED.model_id, name = EXCLUDED.name \
         WHERE (s.model_id, s.name) IS DISTINCT FROM (EXCLUDED.model_id, EXCLUDED.name) \
         RETURNING xmax = 0",
    )
    .bind(subjects.iter().map(|s| s.id).collect::<Vec<_>>())
    .bind(subjects.iter().map(|s| s.model_id).collect::<Vec<_>>())
    .bind(subjects.iter().map(|s| s.name.as_str()).collect::<Vec<_>>())
    .fetch_all(&mut **tx)
    .await?;
    Ok(Upserted::of(&inserted))
}

async fn upsert_statistics(tx: &mut Tx<'_>, statistics: &[ImportStatistic]) -> Result<Upserted, StoreError> {
    let inserted: Vec<bool> = sqlx::query_scalar(
        "INSERT INTO model_statistics AS st (model_id, day, request_count) \
         SELECT * FROM unnest($1::uuid[], $2::date[], $3::int8[]) \
         ON CONFLICT (model_id, day) DO UPDATE SET request_count = EXCLUDED.request_count \
         WHERE st.request_count < EXCLUDED.request_count \
         RETURNING xmax = 0",
    )
    .bind(statistics.iter().map(|s| s.model_id).collect::<Vec<_>>())
    .bind(statistics.iter().map(|s| s.day).collect::<Vec<_>>())
    .bind(statistics.iter().map(|s| s.requests).collect::<Vec<_>>())
    .fetch_all(&mut **tx)
    .await?;
    Ok(Upserted::of(&inserted))
}
