//! The `stacks` table.

use serde_json::{Map, Value};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, StoreError, now_timestamp, object_column, sql};

/// A stored stack.
#[derive(Debug, Clone, Default)]
pub struct StackRow {
    /// UUID.
    pub id: String,
    /// Owning project (tenant).
    pub project: String,
    /// Stack name.
    pub name: String,
    /// Current action (`CREATE`, `UPDATE`, `DELETE`).
    pub action: String,
    /// `IN_PROGRESS`, `COMPLETE` or `FAILED`.
    pub status: String,
    /// Heat's status reason phrase.
    pub status_reason: String,
    /// The template document as submitted.
    pub template: Value,
    /// The environment (5 sections).
    pub environment: Value,
    /// The files map.
    pub files: Value,
    /// Parameters supplied with the request.
    pub parameters: Map<String, Value>,
    /// Whether a failed action is left as is.
    pub disable_rollback: bool,
    /// Action timeout in minutes.
    pub timeout_mins: Option<i64>,
    /// Creation time.
    pub created_at: String,
    /// Last update time.
    pub updated_at: Option<String>,
    /// Deletion time, once deleted.
    pub deleted_at: Option<String>,
    /// The stack owning this nested stack (`None` for a top-level stack).
    pub owner_id: Option<String>,
    /// The owner's resource that this nested stack implements.
    pub owner_resource: Option<String>,
    /// The top-level stack of the tree (`None` for a top-level stack: itself).
    pub root_id: Option<String>,
    /// Levels below the root (0 for a top-level stack).
    pub nested_depth: i64,
    /// The definition before the current update (`template`, `environment`, `files`,
    /// `parameters`), which a rollback returns to; `None` after a create.
    pub previous: Option<Value>,
    /// The stack's tags (`None` when it has none).
    pub tags: Option<Vec<String>>,
}

impl StackRow {
    /// The id of the tree's top-level stack.
    pub fn root(&self) -> &str {
        self.root_id.as_deref().unwrap_or(&self.id)
    }
}

/// A stack row with its documents still as stored (inline JSON or a blob reference).
fn from_row(row: &AnyRow) -> Result<StackRow, StoreError> {
    Ok(StackRow {
        id: row.try_get("id")?,
        project: row.try_get("project")?,
        name: row.try_get("name")?,
        action: row.try_get("action")?,
        status: row.try_get("status")?,
        status_reason: row.try_get("status_reason")?,
        template: Value::String(row.try_get("template")?),
        environment: Value::String(row.try_get("environment")?),
        files: Value::String(row.try_get("files")?),
        parameters: object_column(row, "parameters")?,
        disable_rollback: row.try_get::<i64, _>("disable_rollback")? != 0,
        timeout_mins: row.try_get("timeout_mins")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        deleted_at: row.try_get("deleted_at")?,
        owner_id: row.try_get("owner_id")?,
        owner_resource: row.try_get("owner_resource")?,
        root_id: row.try_get("root_id")?,
        nested_depth: row.try_get("nested_depth")?,
        previous: row
            .try_get::<Option<String>, _>("previous")?
            .map(Value::String),
        tags: row
            .try_get::<Option<String>, _>("tags")?
            .map(|text| serde_json::from_str(&text))
            .transpose()
            .map_err(|source| StoreError::Json {
                column: "tags",
                source,
            })?,
    })
}

fn tags_column(tags: &Option<Vec<String>>) -> Option<String> {
    tags.as_ref().map(|t| Value::from(t.clone()).to_string())
}

const COLUMNS: &str = "id, project, name, action, status, status_reason, template, environment, files, parameters, disable_rollback, timeout_mins, created_at, updated_at, deleted_at, owner_id, owner_resource, root_id, nested_depth, previous, tags";

impl Store {
    /// Resolves a stack's stored documents (blob references) to their JSON.
    async fn hydrate(&self, mut s: StackRow) -> Result<StackRow, StoreError> {
        for (column, doc) in [
            ("template", &mut s.template),
            ("environment", &mut s.environment),
            ("files", &mut s.files),
        ] {
            let Value::String(text) = doc else { continue };
            *doc = self.document(column, text).await?;
        }
        if let Some(Value::String(text)) = &s.previous {
            s.previous = Some(self.document("previous", text).await?);
        }
        Ok(s)
    }

    async fn hydrate_all(&self, rows: Vec<AnyRow>) -> Result<Vec<StackRow>, StoreError> {
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            out.push(self.hydrate(from_row(row)?).await?);
        }
        Ok(out)
    }

    /// Inserts a new stack.
    pub async fn insert_stack(&self, s: &StackRow) -> Result<(), StoreError> {
        let template = self.put_blob(&s.template).await?;
        let environment = self.put_blob(&s.environment).await?;
        let files = self.put_blob(&s.files).await?;
        let previous = match &s.previous {
            Some(doc) => Some(self.put_blob(doc).await?),
            None => None,
        };
        sqlx::query(sql(format!(
            "INSERT INTO stacks ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)"
        )))
        .bind(&s.id)
        .bind(&s.project)
        .bind(&s.name)
        .bind(&s.action)
        .bind(&s.status)
        .bind(&s.status_reason)
        .bind(template)
        .bind(environment)
        .bind(files)
        .bind(Value::Object(s.parameters.clone()).to_string())
        .bind(i64::from(s.disable_rollback))
        .bind(s.timeout_mins)
        .bind(&s.created_at)
        .bind(&s.updated_at)
        .bind(&s.deleted_at)
        .bind(&s.owner_id)
        .bind(&s.owner_resource)
        .bind(&s.root_id)
        .bind(s.nested_depth)
        .bind(previous)
        .bind(tags_column(&s.tags))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A stack by id, deleted ones included.
    pub async fn stack(&self, id: &str) -> Result<Option<StackRow>, StoreError> {
        let row = sqlx::query(sql(format!("SELECT {COLUMNS} FROM stacks WHERE id = $1")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(row) => Ok(Some(self.hydrate(from_row(&row)?).await?)),
            None => Ok(None),
        }
    }

    /// The live (not deleted) stack of `project` named `name`.
    pub async fn stack_by_name(
        &self,
        project: &str,
        name: &str,
    ) -> Result<Option<StackRow>, StoreError> {
        let row = sqlx::query(sql(format!(
            "SELECT {COLUMNS} FROM stacks WHERE project = $1 AND name = $2 AND deleted_at IS NULL"
        )))
        .bind(project)
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(row) => Ok(Some(self.hydrate(from_row(&row)?).await?)),
            None => Ok(None),
        }
    }

    /// Live stacks of a project, newest first.
    pub async fn list_stacks(&self, project: &str) -> Result<Vec<StackRow>, StoreError> {
        let rows = sqlx::query(sql(format!(
            "SELECT {COLUMNS} FROM stacks WHERE project = $1 AND deleted_at IS NULL AND owner_id IS NULL ORDER BY created_at DESC"
        )))
        .bind(project)
        .fetch_all(&self.pool)
        .await?;
        self.hydrate_all(rows).await
    }

    /// Stacks for a listing, their documents not loaded (a summary shows none): those of
    /// `project` (every project's when `None`), deleted ones too when `deleted`, nested ones
    /// too when `nested`; newest first.
    pub async fn stack_summaries(
        &self,
        project: Option<&str>,
        deleted: bool,
        nested: bool,
    ) -> Result<Vec<StackRow>, StoreError> {
        let mut conditions = vec!["($1 = '' OR project = $1)"];
        if !deleted {
            conditions.push("deleted_at IS NULL");
        }
        if !nested {
            conditions.push("owner_id IS NULL");
        }
        let rows = sqlx::query(sql(format!(
            "SELECT {COLUMNS} FROM stacks WHERE {} ORDER BY created_at DESC, id",
            conditions.join(" AND ")
        )))
        .bind(project.unwrap_or_default())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// Sets the stack's action, status and reason.
    pub async fn set_stack_state(
        &self,
        id: &str,
        action: &str,
        status: &str,
        reason: &str,
    ) -> Result<(), StoreError> {
        let now = now_timestamp();
        let deleted = (action == "DELETE" && status == "COMPLETE").then(|| now.clone());
        sqlx::query(
            "UPDATE stacks SET action = $1, status = $2, status_reason = $3, updated_at = CASE WHEN $4 = 'CREATE' THEN updated_at ELSE $5 END, deleted_at = $6 WHERE id = $7",
        )
        .bind(action)
        .bind(status)
        .bind(reason)
        .bind(action)
        .bind(&now)
        .bind(deleted)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Sets the stack's state and records its event in the same transaction.
    pub async fn set_stack_state_logged(
        &self,
        id: &str,
        action: &str,
        status: &str,
        reason: &str,
        event: super::EventRow,
    ) -> Result<(), StoreError> {
        let now = now_timestamp();
        let deleted = (action == "DELETE" && status == "COMPLETE").then(|| now.clone());
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE stacks SET action = $1, status = $2, status_reason = $3, updated_at = CASE WHEN $4 = 'CREATE' THEN updated_at ELSE $5 END, deleted_at = $6 WHERE id = $7",
        )
        .bind(action)
        .bind(status)
        .bind(reason)
        .bind(action)
        .bind(&now)
        .bind(deleted)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        super::events::insert_event(&mut tx, event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Stores a new template, environment, files, parameters, timeout, rollback flag and
    /// previous definition (update, rollback).
    pub async fn set_stack_definition(&self, s: &StackRow) -> Result<(), StoreError> {
        let template = self.put_blob(&s.template).await?;
        let environment = self.put_blob(&s.environment).await?;
        let files = self.put_blob(&s.files).await?;
        let previous = match &s.previous {
            Some(doc) => Some(self.put_blob(doc).await?),
            None => None,
        };
        sqlx::query(
            "UPDATE stacks SET template = $1, environment = $2, files = $3, parameters = $4, timeout_mins = $5, disable_rollback = $6, previous = $7, tags = $8 WHERE id = $9",
        )
        .bind(template)
        .bind(environment)
        .bind(files)
        .bind(Value::Object(s.parameters.clone()).to_string())
        .bind(s.timeout_mins)
        .bind(i64::from(s.disable_rollback))
        .bind(previous)
        .bind(tags_column(&s.tags))
        .bind(&s.id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

impl Store {
    /// Live stacks nested directly in `owner_id`.
    pub async fn nested_stacks(&self, owner_id: &str) -> Result<Vec<StackRow>, StoreError> {
        let rows = sqlx::query(sql(format!(
            "SELECT {COLUMNS} FROM stacks WHERE owner_id = $1 AND deleted_at IS NULL ORDER BY created_at"
        )))
        .bind(owner_id)
        .fetch_all(&self.pool)
        .await?;
        self.hydrate_all(rows).await
    }

    /// Adds `delta` to the resource count of the tree rooted at `root_id` and returns the
    /// new total (one statement, so concurrent nested creates cannot both slip under a limit).
    pub async fn add_resource_total(&self, root_id: &str, delta: i64) -> Result<i64, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE stacks SET resource_total = resource_total + $1 WHERE id = $2")
            .bind(delta)
            .bind(root_id)
            .execute(&mut *tx)
            .await?;
        let total: i64 = sqlx::query_scalar("SELECT resource_total FROM stacks WHERE id = $1")
            .bind(root_id)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(total)
    }
}
