//! The identity tables: projects, users and user tokens (`0006_identity.sql`).

use sqlx::Row;

use super::{Store, StoreError, now_timestamp};

/// A project (tenant).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectRow {
    /// Its id (uuid, hex).
    pub id: String,
    /// Its unique name.
    pub name: String,
    /// When it was created.
    pub created_at: String,
}

/// A user of a project.
#[derive(Clone, PartialEq, Eq)]
pub struct UserRow {
    /// Its id (uuid, hex).
    pub id: String,
    /// Its name, unique within its project.
    pub name: String,
    /// Its project's id.
    pub project_id: String,
    /// `admin`, `member` or `reader`.
    pub role: String,
    /// The argon2 PHC string of its password.
    pub password_hash: String,
    /// When it was created.
    pub created_at: String,
}

impl std::fmt::Debug for UserRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The hash stays out of logs too.
        f.debug_struct("UserRow")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("project_id", &self.project_id)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// An issued user token, found by the sha256 of the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRow {
    /// sha256 (hex) of the token.
    pub id: String,
    /// Its user.
    pub user_id: String,
    /// The project it is scoped to.
    pub project_id: String,
    /// Unix seconds after which it is invalid.
    pub expires_at: i64,
    /// Revoked by `DELETE /v3/auth/tokens`.
    pub revoked: bool,
}

const USER_COLUMNS: &str = "id, name, project_id, role, password_hash, created_at";

fn project_row(row: &sqlx::any::AnyRow) -> Result<ProjectRow, StoreError> {
    Ok(ProjectRow {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        created_at: row.try_get("created_at")?,
    })
}

fn user_row(row: &sqlx::any::AnyRow) -> Result<UserRow, StoreError> {
    Ok(UserRow {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        project_id: row.try_get("project_id")?,
        role: row.try_get("role")?,
        password_hash: row.try_get("password_hash")?,
        created_at: row.try_get("created_at")?,
    })
}

impl Store {
    /// Creates project `name`; `None` when the name is taken.
    pub async fn create_project(&self, name: &str) -> Result<Option<ProjectRow>, StoreError> {
        if self.project_by_name(name).await?.is_some() {
            return Ok(None);
        }
        let row = ProjectRow {
            id: uuid::Uuid::new_v4().simple().to_string(),
            name: name.to_string(),
            created_at: now_timestamp(),
        };
        sqlx::query("INSERT INTO projects (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(&row.id)
            .bind(&row.name)
            .bind(&row.created_at)
            .execute(&self.pool)
            .await?;
        Ok(Some(row))
    }

    /// Every project, by name.
    pub async fn projects(&self) -> Result<Vec<ProjectRow>, StoreError> {
        let rows = sqlx::query("SELECT id, name, created_at FROM projects ORDER BY name")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(project_row).collect()
    }

    /// The project named `name`.
    pub async fn project_by_name(&self, name: &str) -> Result<Option<ProjectRow>, StoreError> {
        let row = sqlx::query("SELECT id, name, created_at FROM projects WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(project_row).transpose()
    }

    /// The project with id `id`.
    pub async fn project_by_id(&self, id: &str) -> Result<Option<ProjectRow>, StoreError> {
        let row = sqlx::query("SELECT id, name, created_at FROM projects WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(project_row).transpose()
    }

    /// Deletes a project with its users and their tokens; whether it existed.
    pub async fn delete_project(&self, id: &str) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM tokens WHERE project_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM users WHERE project_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query("DELETE FROM projects WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    /// Creates a user; `None` when its project already has a user of that name.
    pub async fn create_user(
        &self,
        name: &str,
        project_id: &str,
        role: &str,
        password_hash: &str,
    ) -> Result<Option<UserRow>, StoreError> {
        if self.user_by_name(project_id, name).await?.is_some() {
            return Ok(None);
        }
        let row = UserRow {
            id: uuid::Uuid::new_v4().simple().to_string(),
            name: name.to_string(),
            project_id: project_id.to_string(),
            role: role.to_string(),
            password_hash: password_hash.to_string(),
            created_at: now_timestamp(),
        };
        sqlx::query(
            "INSERT INTO users (id, name, project_id, role, password_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&row.id)
        .bind(&row.name)
        .bind(&row.project_id)
        .bind(&row.role)
        .bind(&row.password_hash)
        .bind(&row.created_at)
        .execute(&self.pool)
        .await?;
        Ok(Some(row))
    }

    /// The users of `project_id` (every project's when `None`), by name.
    pub async fn users(&self, project_id: Option<&str>) -> Result<Vec<UserRow>, StoreError> {
        let rows = sqlx::query(super::sql(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE ($1 = '' OR project_id = $2) ORDER BY name, project_id"
        )))
        .bind(project_id.unwrap_or_default())
        .bind(project_id.unwrap_or_default())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(user_row).collect()
    }

    /// The user `name` of project `project_id`.
    pub async fn user_by_name(
        &self,
        project_id: &str,
        name: &str,
    ) -> Result<Option<UserRow>, StoreError> {
        let row = sqlx::query(super::sql(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE project_id = $1 AND name = $2"
        )))
        .bind(project_id)
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(user_row).transpose()
    }

    /// Every user named `name`, in any project.
    pub async fn users_named(&self, name: &str) -> Result<Vec<UserRow>, StoreError> {
        let rows = sqlx::query(super::sql(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE name = $1 ORDER BY created_at, id"
        )))
        .bind(name)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(user_row).collect()
    }

    /// The user with id `id`.
    pub async fn user_by_id(&self, id: &str) -> Result<Option<UserRow>, StoreError> {
        let row = sqlx::query(super::sql(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(user_row).transpose()
    }

    /// Deletes a user and its tokens; whether it existed.
    pub async fn delete_user(&self, id: &str) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM tokens WHERE user_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    /// Records an issued token by its hash.
    pub async fn insert_token(&self, t: &TokenRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO tokens (id, user_id, project_id, expires_at, revoked) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&t.id)
        .bind(&t.user_id)
        .bind(&t.project_id)
        .bind(t.expires_at)
        .bind(i64::from(t.revoked))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The token whose hash is `id`.
    pub async fn token(&self, id: &str) -> Result<Option<TokenRow>, StoreError> {
        let row = sqlx::query(
            "SELECT id, user_id, project_id, expires_at, revoked FROM tokens WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(TokenRow {
                id: r.try_get("id")?,
                user_id: r.try_get("user_id")?,
                project_id: r.try_get("project_id")?,
                expires_at: r.try_get("expires_at")?,
                revoked: r.try_get::<i64, _>("revoked")? != 0,
            })
        })
        .transpose()
    }

    /// Deletes the tokens that expired at or before `now` (seconds); how many went.
    pub async fn purge_expired_tokens(&self, now: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM tokens WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    /// Records a failed password attempt for `key` at `at_millis`, and forgets every
    /// attempt before `forget_before` (milliseconds; older than the lockout window).
    pub async fn record_auth_failure(
        &self,
        key: &str,
        at_millis: i64,
        forget_before: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM auth_failures WHERE at_millis < $1")
            .bind(forget_before)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO auth_failures (user_key, at_millis) VALUES ($1, $2)")
            .bind(key)
            .bind(at_millis)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// How many failed attempts for `key` were recorded at or after `since_millis`.
    pub async fn auth_failures_since(
        &self,
        key: &str,
        since_millis: i64,
    ) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM auth_failures WHERE user_key = $1 AND at_millis >= $2",
        )
        .bind(key)
        .bind(since_millis)
        .fetch_one(&self.pool)
        .await?)
    }

    /// Revokes the token whose hash is `id`; whether it was live.
    pub async fn revoke_token(&self, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE tokens SET revoked = 1 WHERE id = $1 AND revoked = 0")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn projects_users_and_tokens_round_trip() {
        let (store, _dir) = super::super::test_store().await;
        let p = store.create_project("alpha").await.unwrap().unwrap();
        assert!(store.create_project("alpha").await.unwrap().is_none());
        let u = store
            .create_user("ann", &p.id, "member", "hash")
            .await
            .unwrap()
            .unwrap();
        assert!(
            store
                .create_user("ann", &p.id, "reader", "h")
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(store.users(Some(&p.id)).await.unwrap(), vec![u.clone()]);
        assert_eq!(store.users_named("ann").await.unwrap().len(), 1);
        let t = TokenRow {
            id: "t".into(),
            user_id: u.id.clone(),
            project_id: p.id.clone(),
            expires_at: 5,
            revoked: false,
        };
        store.insert_token(&t).await.unwrap();
        assert!(store.revoke_token("t").await.unwrap());
        assert!(store.token("t").await.unwrap().unwrap().revoked);
        let later = TokenRow {
            id: "later".into(),
            expires_at: 50,
            ..t.clone()
        };
        store.insert_token(&later).await.unwrap();
        assert_eq!(store.purge_expired_tokens(5).await.unwrap(), 1);
        assert!(store.token("t").await.unwrap().is_none());
        assert!(store.token("later").await.unwrap().is_some());
        store.insert_token(&t).await.unwrap();
        assert!(store.delete_project(&p.id).await.unwrap());
        assert!(store.user_by_id(&u.id).await.unwrap().is_none());
        assert!(store.token("t").await.unwrap().is_none());
        assert!(store.token("later").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn auth_failures_are_counted_in_the_window_and_forgotten_after_it() {
        let (store, _dir) = super::super::test_store().await;
        for at in [100, 200, 300] {
            store.record_auth_failure("name:ann", at, 0).await.unwrap();
        }
        store.record_auth_failure("name:bob", 300, 0).await.unwrap();
        assert_eq!(store.auth_failures_since("name:ann", 150).await.unwrap(), 2);
        assert_eq!(store.auth_failures_since("name:bob", 0).await.unwrap(), 1);
        // A later failure forgets what is older than its window.
        store
            .record_auth_failure("name:cy", 1000, 250)
            .await
            .unwrap();
        assert_eq!(store.auth_failures_since("name:ann", 0).await.unwrap(), 1);
        assert_eq!(store.auth_failures_since("name:bob", 0).await.unwrap(), 1);
    }
}
