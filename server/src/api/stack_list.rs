//! `GET /stacks` and `GET /stacks/detail`: Heat's filters (`name=a&name=b` is either,
//! different keys are all), tags (`tags`, `tags_any`, `not_tags`, `not_tags_any`),
//! `show_deleted`, `show_nested`, `global_tenant`, sorting (`sort_keys`, `sort_dir`, newest
//! first by default), paging (`limit`, `marker` = the last id seen, a `next` link when the
//! page is full) and `with_count`.

use std::cmp::Ordering;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use serde_json::{Value, json};

use super::format::{base_url, stack_summary, status};
use super::query::{Query, sort_descending};
use super::stacks::stack_detail;
use super::{ApiError, ApiState};
use crate::store::StackRow;

/// The filter keys Heat's stack list honours (others are ignored, as in Heat).
const FILTER_KEYS: &[&str] = &[
    "id",
    "name",
    "stack_name",
    "status",
    "stack_status",
    "action",
    "stack_action",
    "tenant",
    "owner_id",
    "parent",
    "stack_status_reason",
    "disable_rollback",
    "timeout_mins",
    "stack_user_project_id",
    "username",
    "stack_owner",
];

/// Whether the stack matches one filter value.
fn matches(stack: &StackRow, key: &str, value: &str) -> bool {
    match key {
        "id" => stack.id == value,
        "name" | "stack_name" => stack.name == value,
        // `status=COMPLETE` as the column, or the full `CREATE_COMPLETE` clients show.
        "status" | "stack_status" => {
            stack.status == value || status(&stack.action, &stack.status) == value
        }
        "action" | "stack_action" => stack.action == value,
        "tenant" | "stack_user_project_id" => stack.project == value,
        "owner_id" | "parent" => stack.owner_id.as_deref() == Some(value),
        "stack_status_reason" => stack.status_reason == value,
        "disable_rollback" => stack.disable_rollback.to_string() == value.to_ascii_lowercase(),
        "timeout_mins" => stack.timeout_mins.map(|t| t.to_string()).as_deref() == Some(value),
        // Stacks have no owning user name here (Heat's `stack_owner` is the creating
        // user, which token-less callers never had).
        _ => false,
    }
}

fn tag_list<'q>(query: &'q Query, key: &str) -> Option<Vec<&'q str>> {
    let values = query.all(key);
    (!values.is_empty()).then(|| {
        values
            .iter()
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .collect()
    })
}

fn tags_match(stack: &StackRow, query: &Query) -> bool {
    let has = |t: &str| stack.tags.iter().flatten().any(|own| own == t);
    if let Some(all) = tag_list(query, "tags")
        && !all.iter().all(|t| has(t))
    {
        return false;
    }
    if let Some(any) = tag_list(query, "tags_any")
        && !any.iter().any(|t| has(t))
    {
        return false;
    }
    if let Some(all) = tag_list(query, "not_tags")
        && all.iter().all(|t| has(t))
    {
        return false;
    }
    if let Some(any) = tag_list(query, "not_tags_any")
        && any.iter().any(|t| has(t))
    {
        return false;
    }
    true
}

fn compare(a: &StackRow, b: &StackRow, key: &str) -> Ordering {
    match key {
        "stack_name" | "name" => a.name.cmp(&b.name),
        "stack_status" | "status" => {
            status(&a.action, &a.status).cmp(&status(&b.action, &b.status))
        }
        "updated_time" | "updated_at" => a.updated_at.cmp(&b.updated_at),
        _ => a.created_at.cmp(&b.created_at),
    }
}

/// The stacks a listing shows, filtered and sorted, before paging.
fn select(mut stacks: Vec<StackRow>, query: &Query) -> Result<Vec<StackRow>, ApiError> {
    stacks.retain(|s| {
        FILTER_KEYS.iter().all(|key| {
            let values = query.all(key);
            values.is_empty() || values.iter().any(|v| matches(s, key, v))
        }) && tags_match(s, query)
    });
    let descending = sort_descending(query, true)?;
    let mut keys: Vec<&str> = query
        .all("sort_keys")
        .iter()
        .flat_map(|k| k.split(','))
        .map(str::trim)
        .filter(|k| {
            [
                "stack_name",
                "name",
                "stack_status",
                "status",
                "creation_time",
                "created_at",
                "updated_time",
                "updated_at",
            ]
            .contains(k)
        })
        .collect();
    if keys.is_empty() {
        keys.push("creation_time");
    }
    stacks.sort_by(|a, b| {
        let order = keys
            .iter()
            .map(|k| compare(a, b, k))
            .find(|o| o.is_ne())
            .unwrap_or_else(|| a.id.cmp(&b.id));
        if descending { order.reverse() } else { order }
    });
    Ok(stacks)
}

/// One page of a listing, with Heat's `links` and `count` additions.
struct Page {
    stacks: Vec<StackRow>,
    next: Option<String>,
    count: Option<usize>,
}

async fn page(state: &ApiState, project: &str, query: &Query) -> Result<Page, ApiError> {
    let global = query.flag("global_tenant", false)?;
    let all = state
        .engine
        .services()
        .store
        .stack_summaries(
            (!global).then_some(project),
            query.flag("show_deleted", false)?,
            query.flag("show_nested", false)?,
        )
        .await?;
    let selected = select(all, query)?;
    let count = query.flag("with_count", false)?.then_some(selected.len());
    let start = query
        .get("marker")
        .and_then(|m| selected.iter().position(|s| s.id == m))
        .map_or(0, |i| i + 1);
    let limit = query.count("limit")?;
    let stacks: Vec<StackRow> = selected
        .into_iter()
        .skip(start)
        .take(limit.unwrap_or(usize::MAX))
        .collect();
    let next = match (limit, stacks.last()) {
        (Some(limit), Some(last)) if limit > 0 && stacks.len() == limit => {
            Some(query.with("marker", &last.id))
        }
        _ => None,
    };
    Ok(Page {
        stacks,
        next,
        count,
    })
}

fn wrap(items: Vec<Value>, page: &Page, base: &str, project: &str, path: &str) -> Value {
    let mut body = json!({"stacks": items});
    if let Some(q) = &page.next {
        body["links"] = json!([{"href": format!("{base}/v1/{project}/{path}?{q}"), "rel": "next"}]);
    }
    if let Some(count) = page.count {
        body["count"] = json!(count);
    }
    body
}

/// `GET /stacks`: summaries.
#[utoipa::path(get, path = "/stacks", tag = "stacks", params(("name" = Option<String>, Query, description = "Filter: stack name (repeat for either)"), ("status" = Option<String>, Query, description = "Filter: status (COMPLETE or CREATE_COMPLETE)"), ("action" = Option<String>, Query, description = "Filter: action"), ("id" = Option<String>, Query, description = "Filter: id"), ("tags" = Option<String>, Query, description = "Comma list: has all"), ("tags_any" = Option<String>, Query, description = "Comma list: has any"), ("not_tags" = Option<String>, Query, description = "Comma list: lacks one"), ("not_tags_any" = Option<String>, Query, description = "Comma list: has none"), ("limit" = Option<u32>, Query, description = "Page size"), ("marker" = Option<String>, Query, description = "Last id of the previous page"), ("sort_keys" = Option<String>, Query, description = "stack_name, stack_status, creation_time, updated_time"), ("sort_dir" = Option<crate::api::openapi::schemas::SortDir>, Query, description = "asc or desc"), ("with_count" = Option<bool>, Query, description = "Add count"), ("show_deleted" = Option<bool>, Query, description = "Deleted stacks too"), ("show_nested" = Option<bool>, Query, description = "Nested stacks too"), ("global_tenant" = Option<bool>, Query, description = "Every project's (admins)")), responses((status = 200, description = "A page of stacks", body = crate::api::openapi::schemas::StackList), (status = 400, description = "Bad request", body = crate::api::openapi::schemas::ErrorBody), (status = 401, description = "Not authenticated", body = crate::api::openapi::schemas::ErrorBody), (status = 403, description = "Not allowed", body = crate::api::openapi::schemas::ErrorBody)))]
pub async fn list(
    State(state): State<ApiState>,
    Path(project): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let query = Query::parse(raw.as_deref());
    let base = base_url(&headers);
    let page = page(&state, &project, &query).await?;
    let global = query.flag("global_tenant", false)?;
    let items = page
        .stacks
        .iter()
        .map(|s| {
            let mut summary = stack_summary(&base, s);
            if global {
                summary["project"] = json!(s.project);
            }
            summary
        })
        .collect();
    Ok(Json(wrap(items, &page, &base, &project, "stacks")))
}

/// `GET /stacks/detail`: full stack objects (as `show`, outputs unresolved).
#[utoipa::path(get, path = "/stacks/detail", tag = "stacks", params(("name" = Option<String>, Query, description = "Filter: stack name (repeat for either)"), ("status" = Option<String>, Query, description = "Filter: status (COMPLETE or CREATE_COMPLETE)"), ("action" = Option<String>, Query, description = "Filter: action"), ("id" = Option<String>, Query, description = "Filter: id"), ("tags" = Option<String>, Query, description = "Comma list: has all"), ("tags_any" = Option<String>, Query, description = "Comma list: has any"), ("not_tags" = Option<String>, Query, description = "Comma list: lacks one"), ("not_tags_any" = Option<String>, Query, description = "Comma list: has none"), ("limit" = Option<u32>, Query, description = "Page size"), ("marker" = Option<String>, Query, description = "Last id of the previous page"), ("sort_keys" = Option<String>, Query, description = "stack_name, stack_status, creation_time, updated_time"), ("sort_dir" = Option<crate::api::openapi::schemas::SortDir>, Query, description = "asc or desc"), ("with_count" = Option<bool>, Query, description = "Add count"), ("show_deleted" = Option<bool>, Query, description = "Deleted stacks too"), ("show_nested" = Option<bool>, Query, description = "Nested stacks too"), ("global_tenant" = Option<bool>, Query, description = "Every project's (admins)")), responses((status = 200, description = "Full stacks", body = crate::api::openapi::schemas::StackDetailList), (status = 400, description = "Bad request", body = crate::api::openapi::schemas::ErrorBody), (status = 401, description = "Not authenticated", body = crate::api::openapi::schemas::ErrorBody), (status = 403, description = "Not allowed", body = crate::api::openapi::schemas::ErrorBody)))]
pub async fn detail(
    State(state): State<ApiState>,
    Path(project): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let query = Query::parse(raw.as_deref());
    let base = base_url(&headers);
    let page = page(&state, &project, &query).await?;
    let store = &state.engine.services().store;
    let mut items = Vec::with_capacity(page.stacks.len());
    for summary in &page.stacks {
        if let Some(stack) = store.stack(&summary.id).await? {
            items.push(stack_detail(&state, &base, &stack, false).await);
        }
    }
    Ok(Json(wrap(items, &page, &base, &project, "stacks/detail")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stack(name: &str, created: &str, status: &str, tags: &[&str]) -> StackRow {
        StackRow {
            id: format!("id-{name}"),
            name: name.into(),
            action: "CREATE".into(),
            status: status.into(),
            created_at: created.into(),
            tags: (!tags.is_empty()).then(|| tags.iter().map(|t| t.to_string()).collect()),
            ..Default::default()
        }
    }

    fn names(stacks: &[StackRow]) -> Vec<&str> {
        stacks.iter().map(|s| s.name.as_str()).collect()
    }

    fn run(query: &str) -> Vec<String> {
        let stacks = vec![
            stack("a", "2026-01-01T00:00:01Z", "COMPLETE", &["web", "prod"]),
            stack("b", "2026-01-01T00:00:02Z", "FAILED", &["web"]),
            stack("c", "2026-01-01T00:00:03Z", "COMPLETE", &[]),
        ];
        let selected = select(stacks, &Query::parse(Some(query))).unwrap();
        names(&selected).iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn filters_tags_and_sorting_as_heat() {
        assert_eq!(run(""), ["c", "b", "a"]);
        assert_eq!(run("sort_dir=asc"), ["a", "b", "c"]);
        assert_eq!(run("sort_keys=stack_name&sort_dir=desc"), ["c", "b", "a"]);
        assert_eq!(run("status=COMPLETE"), ["c", "a"]);
        assert_eq!(run("stack_status=CREATE_FAILED"), ["b"]);
        assert_eq!(run("name=a&name=b&sort_dir=asc"), ["a", "b"]);
        assert_eq!(run("name=a&status=FAILED"), Vec::<String>::new());
        assert_eq!(run("tags=web,prod"), ["a"]);
        assert_eq!(run("tags_any=prod,web"), ["b", "a"]);
        assert_eq!(run("not_tags=web,prod"), ["c", "b"]);
        assert_eq!(run("not_tags_any=web"), ["c"]);
        assert_eq!(run("unknown_key=x"), ["c", "b", "a"]);
        assert!(select(vec![], &Query::parse(Some("sort_dir=up"))).is_err());
    }
}
