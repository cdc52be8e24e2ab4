//! Applications and their members (admin-service).
//!
//! Every application has exactly one OWNER among its members; giving OWNER to another member
//! makes the previous owner an ADMINISTRATOR in the same transaction.

use uuid::Uuid;

use crate::accounts::Role;
use crate::{Store, StoreError};

/// An application with its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    pub id: Uuid,
    pub name: String,
    pub api_key: Uuid,
    pub owner: Option<Person>,
}

/// A user as lists show them.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Person {
    pub id: Uuid,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
}

/// A member of an application with its role there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub person: Person,
    pub role: Role,
}

#[derive(sqlx::FromRow)]
struct AppRow {
    id: Uuid,
    name: String,
    api_key: Uuid,
    owner_id: Option<Uuid>,
    owner_email: Option<String>,
    owner_first_name: Option<String>,
    owner_last_name: Option<String>,
}

impl From<AppRow> for App {
    fn from(r: AppRow) -> Self {
        let owner = r.owner_id.map(|id| Person {
            id,
            email: r.owner_email.unwrap_or_default(),
            first_name: r.owner_first_name.unwrap_or_default(),
            last_name: r.owner_last_name.unwrap_or_default(),
        });
        Self { id: r.id, name: r.name, api_key: r.api_key, owner }
    }
}

macro_rules! select_apps {
    ($rest:literal) => {
        concat!(
            "SELECT a.id, a.name, a.api_key, o.id AS owner_id, o.email AS owner_email, \
             o.first_name AS owner_first_name, o.last_name AS owner_last_name \
             FROM apps a \
             LEFT JOIN app_roles r ON r.app_id = a.id AND r.role = 'OWNER' \
             LEFT JOIN users o ON o.id = r.user_id WHERE a.deleted_at IS NULL ",
            $rest
        )
    };
}

impl Store {
    /// Every application, by name (global OWNER and ADMINISTRATOR see them all).
    pub async fn all_apps(&self) -> Result<Vec<App>, StoreError> {
        let rows: Vec<AppRow> =
            sqlx::query_as(select_apps!("ORDER BY lower(a.name), a.name")).fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(App::from).collect())
    }

    /// The applications `user` is a member of, by name.
    pub async fn apps_of_member(&self, user: Uuid) -> Result<Vec<App>, StoreError> {
        let rows: Vec<AppRow> = sqlx::query_as(select_apps!(
            "AND EXISTS (SELECT 1 FROM app_roles m WHERE m.app_id = a.id AND m.user_id = $1) \
             ORDER BY lower(a.name), a.name"
        ))
        .bind(user)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(App::from).collect())
    }

    pub async fn app(&self, id: Uuid) -> Result<Option<App>, StoreError> {
        let row: Option<AppRow> =
            sqlx::query_as(select_apps!("AND a.id = $1")).bind(id).fetch_optional(&self.pool).await?;
        Ok(row.map(App::from))
    }

    /// `user`'s role in the application, `None` for a non-member.
    pub async fn app_role(&self, app: Uuid, user: Uuid) -> Result<Option<Role>, StoreError> {
        let role: Option<String> = sqlx::query_scalar("SELECT role FROM app_roles WHERE app_id = $1 AND user_id = $2")
            .bind(app)
            .bind(user)
            .fetch_optional(&self.pool)
            .await?;
        Ok(role.as_deref().and_then(Role::parse))
    }

    /// Creates an application owned by `owner`; [`StoreError::NameTaken`] if the name is.
    pub async fn create_app(&self, name: &str, owner: Uuid) -> Result<App, StoreError> {
        let id = Uuid::new_v4();
        let mut tx = self.pool.begin().await?;
        sqlx::query("INSERT INTO apps (id, name, api_key) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(name)
            .bind(Uuid::new_v4())
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO app_roles (user_id, app_id, role) VALUES ($1, $2, 'OWNER')")
            .bind(owner)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.app(id).await?.ok_or(StoreError::Database(sqlx::Error::RowNotFound))
    }

    pub async fn rename_app(&self, id: Uuid, name: &str) -> Result<Option<App>, StoreError> {
        let done = sqlx::query("UPDATE apps SET name = $2 WHERE id = $1 AND deleted_at IS NULL")
            .bind(id)
            .bind(name)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        self.app(id).await
    }

    /// Gives the application a new random API key.
    pub async fn regenerate_app_key(&self, id: Uuid) -> Result<Option<App>, StoreError> {
        sqlx::query("UPDATE apps SET api_key = $2 WHERE id = $1 AND deleted_at IS NULL")
            .bind(id)
            .bind(Uuid::new_v4())
            .execute(&self.pool)
            .await?;
        self.app(id).await
    }

    /// The members of an application: the owner, then administrators, then users, each by name;
    /// only those whose name or e-mail contains `search` (any case) when it is given.
    pub async fn members(&self, app: Uuid, search: Option<&str>) -> Result<Vec<Member>, StoreError> {
        let pattern = search.map(|s| format!("%{}%", crate::accounts::like_escape(&s.to_lowercase())));
        let rows: Vec<(Uuid, String, String, String, String)> = sqlx::query_as(
            "SELECT u.id, u.email, u.first_name, u.last_name, r.role FROM app_roles r JOIN users u ON u.id = r.user_id \
             WHERE r.app_id = $1 AND ($2::text IS NULL OR lower(u.first_name || ' ' || u.last_name) LIKE $2 \
             OR lower(u.email) LIKE $2) \
             ORDER BY CASE r.role WHEN 'OWNER' THEN 0 WHEN 'ADMINISTRATOR' THEN 1 ELSE 2 END, \
             lower(u.first_name), lower(u.last_name), lower(u.email)",
        )
        .bind(app)
        .bind(pattern)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, email, first_name, last_name, role)| {
                Some(Member { person: Person { id, email, first_name, last_name }, role: Role::parse(&role)? })
            })
            .collect())
    }

    /// Sets (or adds) `user`'s role in the application. Making someone OWNER makes the current
    /// owner an ADMINISTRATOR.
    pub async fn set_app_role(&self, app: Uuid, user: Uuid, role: Role) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        // Serialises concurrent changes of one application's roles.
        sqlx::query("SELECT id FROM apps WHERE id = $1 FOR UPDATE").bind(app).execute(&mut *tx).await?;
        if role == Role::Owner {
            sqlx::query(
                "UPDATE app_roles SET role = 'ADMINISTRATOR' WHERE app_id = $1 AND role = 'OWNER' AND user_id <> $2",
            )
            .bind(app)
            .bind(user)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "INSERT INTO app_roles (user_id, app_id, role) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id, app_id) DO UPDATE SET role = EXCLUDED.role",
        )
        .bind(user)
        .bind(app)
        .bind(role.as_str())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn remove_member(&self, app: Uuid, user: Uuid) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM app_roles WHERE app_id = $1 AND user_id = $2")
            .bind(app)
            .bind(user)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
