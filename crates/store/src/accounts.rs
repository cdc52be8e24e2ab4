//! Users, their sessions and one-time tokens, and invitations (admin-service).
//!
//! E-mail addresses are stored as given and compared without regard to letter case everywhere
//! (`users_email_key` is on `lower(email)`). Tokens are never stored, only their SHA-256 hashes:
//! the caller makes a token, hashes it, and passes the hash.

use std::fmt;

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use crate::{Store, StoreError};

/// The demo user every installation starts with; the first sign-up takes it over.
pub const DEMO_USER_ID: Uuid = Uuid::from_u128(1);
/// The demo user's password hash: no valid hash, so nobody can log in as it.
const DEMO_PASSWORD_HASH: &str = "!";

/// A role, global or in an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Role {
    Owner,
    Administrator,
    User,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Owner, Role::Administrator, Role::User];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "OWNER",
            Self::Administrator => "ADMINISTRATOR",
            Self::User => "USER",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn decode_role(text: &str) -> Result<Role, StoreError> {
    Role::parse(text).ok_or_else(|| StoreError::Database(sqlx::Error::Decode(format!("unknown role {text:?}").into())))
}

/// A registered user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub enabled: bool,
    pub global_role: Role,
    /// Argon2 PHC string, or a CompreFace `{bcrypt}` hash not yet rehashed.
    pub password_hash: String,
    pub allow_statistics: bool,
}

impl User {
    /// The seeded demo user, before anybody took it over.
    pub fn is_untaken_demo(&self) -> bool {
        self.id == DEMO_USER_ID && self.password_hash == DEMO_PASSWORD_HASH
    }
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: Uuid,
    email: String,
    first_name: String,
    last_name: String,
    enabled: bool,
    global_role: String,
    password_hash: String,
    allow_statistics: bool,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;

    fn try_from(r: UserRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: r.id,
            email: r.email,
            first_name: r.first_name,
            last_name: r.last_name,
            enabled: r.enabled,
            global_role: decode_role(&r.global_role)?,
            password_hash: r.password_hash,
            allow_statistics: r.allow_statistics,
        })
    }
}

/// `SELECT <user columns> FROM users <rest>` as a literal.
macro_rules! select_users {
    ($rest:literal) => {
        concat!(
            "SELECT id, email, first_name, last_name, enabled, global_role, password_hash, allow_statistics \
             FROM users ",
            $rest
        )
    };
}

/// What registration stores.
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    pub email: &'a str,
    pub password_hash: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub enabled: bool,
    pub allow_statistics: bool,
}

/// What a one-time token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// Registration confirmation (e-mailed link).
    Confirm,
    /// Password reset (e-mailed or logged link).
    Reset,
}

impl TokenKind {
    const fn as_str(self) -> &'static str {
        match self {
            Self::Confirm => "CONFIRM",
            Self::Reset => "RESET",
        }
    }
}

/// A one-time token that was redeemed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redeemed {
    Valid(Uuid),
    Expired(Uuid),
}

fn users(rows: Vec<UserRow>) -> Result<Vec<User>, StoreError> {
    rows.into_iter().map(User::try_from).collect()
}

fn user(row: Option<UserRow>) -> Result<Option<User>, StoreError> {
    row.map(User::try_from).transpose()
}

impl Store {
    pub async fn user_by_id(&self, id: Uuid) -> Result<Option<User>, StoreError> {
        user(sqlx::query_as(select_users!("WHERE id = $1")).bind(id).fetch_optional(&self.pool).await?)
    }

    /// The user with this e-mail, in any letter case.
    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        user(
            sqlx::query_as(select_users!("WHERE lower(email) = lower($1)"))
                .bind(email)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Every user: the global owner first, then administrators, then users, each by name.
    pub async fn list_users(&self) -> Result<Vec<User>, StoreError> {
        users(
            sqlx::query_as(select_users!(
                "ORDER BY CASE global_role WHEN 'OWNER' THEN 0 WHEN 'ADMINISTRATOR' THEN 1 ELSE 2 END, \
                 lower(first_name), lower(last_name), lower(email)"
            ))
            .fetch_all(&self.pool)
            .await?,
        )
    }

    /// Users whose e-mail, first or last name starts with `prefix` (any case), at most `limit`.
    pub async fn search_users(&self, prefix: &str, limit: i64) -> Result<Vec<User>, StoreError> {
        let pattern = format!("{}%", like_escape(&prefix.to_lowercase()));
        users(
            sqlx::query_as(select_users!(
                "WHERE password_hash <> '!' AND (lower(email) LIKE $1 OR lower(first_name) LIKE $1 \
                 OR lower(last_name) LIKE $1 OR lower(first_name || ' ' || last_name) LIKE $1) \
                 ORDER BY lower(email) LIMIT $2"
            ))
            .bind(pattern)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?,
        )
    }

    /// Registers a user with the global role USER; [`StoreError::EmailTaken`] if the e-mail is.
    pub async fn create_user(&self, new: &NewUser<'_>) -> Result<User, StoreError> {
        let mut tx = self.pool.begin().await?;
        let created = insert_user(&mut tx, new).await?;
        tx.commit().await?;
        Ok(created)
    }

    /// The demo user, while nobody has taken it over.
    pub async fn untaken_demo_user(&self) -> Result<Option<User>, StoreError> {
        user(
            sqlx::query_as(select_users!("WHERE id = $1 AND password_hash = '!'"))
                .bind(DEMO_USER_ID)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Whether any user besides the untaken demo user exists.
    pub async fn has_real_users(&self) -> Result<bool, StoreError> {
        Ok(sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users WHERE password_hash <> '!')")
            .fetch_one(&self.pool)
            .await?)
    }

    pub async fn update_user_names(&self, id: Uuid, first: &str, last: &str) -> Result<Option<User>, StoreError> {
        user(
            sqlx::query_as(
                "UPDATE users SET first_name = $2, last_name = $3 WHERE id = $1 \
                 RETURNING id, email, first_name, last_name, enabled, global_role, password_hash, allow_statistics",
            )
            .bind(id)
            .bind(first)
            .bind(last)
            .fetch_optional(&self.pool)
            .await?,
        )
    }

    /// Replaces the password hash (a rehash, a change or a reset); `enable` also enables the user.
    pub async fn set_password_hash(&self, id: Uuid, hash: &str, enable: bool) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE users SET password_hash = $2, enabled = enabled OR $3 WHERE id = $1")
            .bind(id)
            .bind(hash)
            .bind(enable)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn set_enabled(&self, id: Uuid, enabled: bool) -> Result<(), StoreError> {
        sqlx::query("UPDATE users SET enabled = $2 WHERE id = $1").bind(id).bind(enabled).execute(&self.pool).await?;
        Ok(())
    }

    /// Gives `user` the global role `role`. Giving OWNER makes `giver` an ADMINISTRATOR in the
    /// same transaction: there is one global owner.
    pub async fn set_global_role(&self, user_id: Uuid, role: Role, giver: Uuid) -> Result<Option<User>, StoreError> {
        let mut tx = self.pool.begin().await?;
        if role == Role::Owner {
            sqlx::query("UPDATE users SET global_role = 'ADMINISTRATOR' WHERE global_role = 'OWNER' AND id = $1")
                .bind(giver)
                .execute(&mut *tx)
                .await?;
        }
        let updated = user(
            sqlx::query_as(
                "UPDATE users SET global_role = $2 WHERE id = $1 \
                 RETURNING id, email, first_name, last_name, enabled, global_role, password_hash, allow_statistics",
            )
            .bind(user_id)
            .bind(role.as_str())
            .fetch_optional(&mut *tx)
            .await?,
        )?;
        tx.commit().await?;
        Ok(updated)
    }

    /// Deletes a user. The applications it owns pass to `heir` (who becomes their OWNER); its
    /// sessions and tokens go with it.
    pub async fn delete_user(&self, id: Uuid, heir: Uuid) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO app_roles (user_id, app_id, role) \
             SELECT $2, app_id, 'OWNER' FROM app_roles WHERE user_id = $1 AND role = 'OWNER' \
             ON CONFLICT (user_id, app_id) DO UPDATE SET role = 'OWNER'",
        )
        .bind(id)
        .bind(heir)
        .execute(&mut *tx)
        .await?;
        let done = sqlx::query("DELETE FROM users WHERE id = $1").bind(id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// The global OWNER.
    pub async fn global_owner(&self) -> Result<Option<User>, StoreError> {
        user(
            sqlx::query_as(select_users!("WHERE global_role = 'OWNER' ORDER BY created_at LIMIT 1"))
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    // One-time tokens.

    /// Stores a one-time token of `kind` for the user, valid for `ttl`; earlier tokens of the
    /// same kind for the user are dropped.
    pub async fn create_user_token(
        &self,
        user_id: Uuid,
        kind: TokenKind,
        hash: &[u8],
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        insert_user_token(&mut tx, user_id, kind, hash, ttl).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Redeems a one-time token: it is deleted whether it is still valid or not.
    pub async fn redeem_user_token(&self, kind: TokenKind, hash: &[u8]) -> Result<Option<Redeemed>, StoreError> {
        let row: Option<(Uuid, DateTime<Utc>)> =
            sqlx::query_as("DELETE FROM user_tokens WHERE token_hash = $1 AND kind = $2 RETURNING user_id, expires_at")
                .bind(hash)
                .bind(kind.as_str())
                .fetch_optional(&self.pool)
                .await?;
        Ok(row
            .map(|(user, expires)| if expires > Utc::now() { Redeemed::Valid(user) } else { Redeemed::Expired(user) }))
    }

    // Sessions.

    /// Records a login: an access token and its refresh token.
    pub async fn create_session(&self, user_id: Uuid, tokens: &SessionTokens<'_>) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        insert_session(&mut tx, user_id, Uuid::new_v4(), tokens).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The enabled user an unexpired access token belongs to.
    pub async fn session_user(&self, access_hash: &[u8]) -> Result<Option<User>, StoreError> {
        user(
            sqlx::query_as(
                "SELECT u.id, u.email, u.first_name, u.last_name, u.enabled, u.global_role, u.password_hash, \
                 u.allow_statistics FROM access_tokens t JOIN users u ON u.id = t.user_id \
                 WHERE t.token_hash = $1 AND t.expires_at > now() AND u.enabled",
            )
            .bind(access_hash)
            .fetch_optional(&self.pool)
            .await?,
        )
    }

    /// Trades an unexpired refresh token for new tokens of the same session (the old refresh
    /// token is marked used and its access tokens end); the user, or `None` when the refresh
    /// token is unknown, expired, or was used already. A used token presented again means two
    /// holders of one session (a stolen token, or a replay): the whole session ends.
    pub async fn refresh_session(
        &self,
        refresh_hash: &[u8],
        new: &SessionTokens<'_>,
    ) -> Result<Option<User>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let found: Option<RefreshRow> = sqlx::query_as(
            "SELECT user_id, expires_at, session_id, used_at FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE",
        )
        .bind(refresh_hash)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((user_id, expires, session, used)) = found else {
            tx.commit().await?;
            return Ok(None);
        };
        if used.is_some() {
            tracing::warn!(user = %user_id, %session, "a used refresh token came back: the session ends");
            end_session_family(&mut tx, session).await?;
            tx.commit().await?;
            return Ok(None);
        }
        sqlx::query("UPDATE refresh_tokens SET used_at = now() WHERE token_hash = $1")
            .bind(refresh_hash)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM access_tokens WHERE refresh_hash = $1").bind(refresh_hash).execute(&mut *tx).await?;
        if expires <= Utc::now() {
            tx.commit().await?;
            return Ok(None);
        }
        let found = user(
            sqlx::query_as(select_users!("WHERE id = $1 AND enabled")).bind(user_id).fetch_optional(&mut *tx).await?,
        )?;
        if found.is_some() {
            insert_session(&mut tx, user_id, session, new).await?;
        }
        tx.commit().await?;
        Ok(found)
    }

    /// Ends a session, known by its access token, its refresh token, or both.
    pub async fn end_session(&self, access_hash: Option<&[u8]>, refresh_hash: Option<&[u8]>) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut refresh = refresh_hash.map(<[u8]>::to_vec);
        if let Some(access) = access_hash {
            let tied: Option<Option<Vec<u8>>> =
                sqlx::query_scalar("DELETE FROM access_tokens WHERE token_hash = $1 RETURNING refresh_hash")
                    .bind(access)
                    .fetch_optional(&mut *tx)
                    .await?;
            refresh = refresh.or(tied.flatten());
        }
        if let Some(refresh) = refresh {
            let session: Option<Uuid> =
                sqlx::query_scalar("SELECT session_id FROM refresh_tokens WHERE token_hash = $1")
                    .bind(&refresh)
                    .fetch_optional(&mut *tx)
                    .await?;
            sqlx::query("DELETE FROM access_tokens WHERE refresh_hash = $1").bind(&refresh).execute(&mut *tx).await?;
            match session {
                Some(session) => end_session_family(&mut tx, session).await?,
                None => {
                    sqlx::query("DELETE FROM refresh_tokens WHERE token_hash = $1")
                        .bind(&refresh)
                        .execute(&mut *tx)
                        .await?;
                }
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Ends every session of the user but the one `access_hash` belongs to (after the user
    /// changed their password: whoever else was logged in with the old one is out).
    pub async fn end_other_sessions(&self, user_id: Uuid, access_hash: &[u8]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let keep: Option<Uuid> = sqlx::query_scalar(
            "SELECT r.session_id FROM access_tokens a JOIN refresh_tokens r ON r.token_hash = a.refresh_hash \
             WHERE a.token_hash = $1 AND a.user_id = $2",
        )
        .bind(access_hash)
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await?;
        sqlx::query(
            "DELETE FROM access_tokens WHERE user_id = $1 AND token_hash <> $2 AND (refresh_hash IS NULL OR refresh_hash \
             NOT IN (SELECT token_hash FROM refresh_tokens WHERE session_id IS NOT DISTINCT FROM $3))",
        )
        .bind(user_id)
        .bind(access_hash)
        .bind(keep)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM refresh_tokens WHERE user_id = $1 AND session_id IS DISTINCT FROM $2")
            .bind(user_id)
            .bind(keep)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Ends every session of the user (after a password reset).
    pub async fn end_user_sessions(&self, user_id: Uuid) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM access_tokens WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM refresh_tokens WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    // Invitations.

    /// Invites an e-mail address to register (SIGN_UP=invite); inviting twice is harmless.
    pub async fn invite(&self, email: &str, by: Uuid) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO invitations (email, invited_by) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(email)
            .bind(by)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn is_invited(&self, email: &str) -> Result<bool, StoreError> {
        Ok(sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM invitations WHERE lower(email) = lower($1))")
            .bind(email)
            .fetch_one(&self.pool)
            .await?)
    }

    /// The invited e-mail addresses that have not registered yet, oldest first.
    pub async fn pending_invitations(&self) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT i.email FROM invitations i WHERE NOT EXISTS \
             (SELECT 1 FROM users u WHERE lower(u.email) = lower(i.email)) ORDER BY i.created_at",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// Registers a user and stores a one-time token for it in one transaction, then runs `send`
    /// (the e-mail); when `send` fails, nothing is stored. With `take_over_demo` the user takes
    /// the demo account's place (the installation's first owner) if it is still untaken; then,
    /// with `retire_demo_keys`, the demo services get random API keys in the same transaction, so
    /// the well-known keys stop working exactly when the installation gets its owner.
    pub async fn create_user_with_token<E>(
        &self,
        new: &NewUser<'_>,
        take_over_demo: bool,
        retire_demo_keys: bool,
        token: Option<(TokenKind, &[u8], Duration)>,
        send: impl std::future::Future<Output = Result<(), E>>,
    ) -> Result<Result<User, E>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let created = if take_over_demo {
            let taken = user(
                sqlx::query_as(
                    "UPDATE users SET email = $2, password_hash = $3, first_name = $4, last_name = $5, \
                     enabled = $6, allow_statistics = $7, global_role = 'OWNER', created_at = now() \
                     WHERE id = $1 AND password_hash = '!' \
                     RETURNING id, email, first_name, last_name, enabled, global_role, password_hash, allow_statistics",
                )
                .bind(DEMO_USER_ID)
                .bind(new.email)
                .bind(new.password_hash)
                .bind(new.first_name)
                .bind(new.last_name)
                .bind(new.enabled)
                .bind(new.allow_statistics)
                .fetch_optional(&mut *tx)
                .await?,
            )?;
            match taken {
                Some(u) => {
                    if retire_demo_keys {
                        crate::services::retire_demo_keys_in(&mut tx).await?;
                    }
                    u
                }
                None => insert_user(&mut tx, new).await?,
            }
        } else {
            insert_user(&mut tx, new).await?
        };
        if let Some((kind, hash, ttl)) = token {
            insert_user_token(&mut tx, created.id, kind, hash, ttl).await?;
        }
        if let Err(e) = send.await {
            tx.rollback().await?;
            return Ok(Err(e));
        }
        tx.commit().await?;
        Ok(Ok(created))
    }
}

/// The hashes of a new session's tokens and how long each lives.
#[derive(Debug, Clone, Copy)]
pub struct SessionTokens<'a> {
    pub access_hash: &'a [u8],
    pub access_ttl: Duration,
    pub refresh_hash: &'a [u8],
    pub refresh_ttl: Duration,
}

type Tx<'t> = sqlx::Transaction<'t, sqlx::Postgres>;

async fn insert_user(tx: &mut Tx<'_>, new: &NewUser<'_>) -> Result<User, StoreError> {
    User::try_from(
        sqlx::query_as::<_, UserRow>(
            "INSERT INTO users (id, email, password_hash, first_name, last_name, enabled, allow_statistics) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             RETURNING id, email, first_name, last_name, enabled, global_role, password_hash, allow_statistics",
        )
        .bind(Uuid::new_v4())
        .bind(new.email)
        .bind(new.password_hash)
        .bind(new.first_name)
        .bind(new.last_name)
        .bind(new.enabled)
        .bind(new.allow_statistics)
        .fetch_one(&mut **tx)
        .await?,
    )
}

async fn insert_user_token(
    tx: &mut Tx<'_>,
    user_id: Uuid,
    kind: TokenKind,
    hash: &[u8],
    ttl: Duration,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM user_tokens WHERE user_id = $1 AND kind = $2")
        .bind(user_id)
        .bind(kind.as_str())
        .execute(&mut **tx)
        .await?;
    sqlx::query("INSERT INTO user_tokens (token_hash, user_id, kind, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(hash)
        .bind(user_id)
        .bind(kind.as_str())
        .bind(Utc::now() + ttl)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A refresh token: its user, expiry, session, and when it was used (if it was).
type RefreshRow = (Uuid, DateTime<Utc>, Uuid, Option<DateTime<Utc>>);

/// Every token of one session (a login and its refreshes) ends.
async fn end_session_family(tx: &mut Tx<'_>, session: Uuid) -> Result<(), StoreError> {
    sqlx::query(
        "DELETE FROM access_tokens WHERE refresh_hash IN (SELECT token_hash FROM refresh_tokens WHERE session_id = $1)",
    )
    .bind(session)
    .execute(&mut **tx)
    .await?;
    sqlx::query("DELETE FROM refresh_tokens WHERE session_id = $1").bind(session).execute(&mut **tx).await?;
    Ok(())
}

async fn insert_session(
    tx: &mut Tx<'_>,
    user_id: Uuid,
    session: Uuid,
    t: &SessionTokens<'_>,
) -> Result<(), StoreError> {
    let now = Utc::now();
    sqlx::query("INSERT INTO refresh_tokens (token_hash, user_id, expires_at, session_id) VALUES ($1, $2, $3, $4)")
        .bind(t.refresh_hash)
        .bind(user_id)
        .bind(now + t.refresh_ttl)
        .bind(session)
        .execute(&mut **tx)
        .await?;
    sqlx::query("INSERT INTO access_tokens (token_hash, user_id, refresh_hash, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(t.access_hash)
        .bind(user_id)
        .bind(t.refresh_hash)
        .bind(now + t.access_ttl)
        .execute(&mut **tx)
        .await?;
    // Expired tokens of this user go now, so the tables do not grow with every login.
    sqlx::query("DELETE FROM access_tokens WHERE user_id = $1 AND expires_at < $2")
        .bind(user_id)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM refresh_tokens WHERE user_id = $1 AND expires_at < $2")
        .bind(user_id)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// `text` with LIKE's wildcards escaped (the default escape character is `\`).
pub(crate) fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
