//! `GET /template_versions` and `GET /template_versions/{version}/functions`: the HOT dates
//! (with their release-name aliases) and the two CFN formats, and which intrinsic functions
//! each has — read off the one function table (`template/functions/table.rs`).

use axum::Json;
use axum::extract::{Path, RawQuery};
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::ApiError;
use super::query::Query;
use crate::template::functions::table::{Context, function_names};
use crate::template::version::{CfnVersion, HOT_VERSIONS, TemplateVersion};

/// Every version as `<key>.<value>`, its type and its aliases.
fn versions() -> Vec<(String, &'static str, Vec<String>, TemplateVersion)> {
    let mut out: Vec<_> = HOT_VERSIONS
        .iter()
        .map(|(v, date, alias)| {
            (
                format!("heat_template_version.{date}"),
                "hot",
                alias
                    .iter()
                    .map(|a| format!("heat_template_version.{a}"))
                    .collect(),
                TemplateVersion::Hot(*v),
            )
        })
        .collect();
    for cfn in [CfnVersion::Heat2012_12_12, CfnVersion::Aws2010_09_09] {
        let v = TemplateVersion::Cfn(cfn);
        out.push((format!("{}.{}", v.key(), v.value()), "cfn", Vec::new(), v));
    }
    out
}

/// `GET /template_versions`.
#[utoipa::path(get, path = "/template_versions", tag = "templates", responses((status = 200, description = "Versions", body = crate::api::openapi::schemas::TemplateVersionList), (status = 401, description = "Not authenticated", body = crate::api::openapi::schemas::ErrorBody)))]
pub async fn list() -> Json<Value> {
    let list: Vec<Value> = versions()
        .into_iter()
        .map(|(version, kind, aliases, _)| {
            json!({"version": version, "type": kind, "aliases": aliases})
        })
        .collect();
    Json(json!({"template_versions": list}))
}

/// One line saying what a function does (Heat shows its class's first docstring line).
fn describe(name: &str) -> &'static str {
    match name {
        "get_param" | "Ref" => "A function for resolving parameter references.",
        "get_resource" => "A function for resolving resource references.",
        "get_attr" | "Fn::GetAtt" => "A function for resolving resource attributes.",
        "get_file" => "A function for including a file inline.",
        "resource_facade" | "Fn::ResourceFacade" => {
            "A function for retrieving data in a parent provider template."
        }
        "list_join" | "Fn::Join" => "A function for joining strings.",
        "str_replace" | "str_replace_strict" | "str_replace_vstrict" | "Fn::Replace" => {
            "A function for performing string substitutions."
        }
        "repeat" => "A function for iterating over a list of items.",
        "digest" => "A function for performing digest operations.",
        "str_split" | "Fn::Split" => "A function for splitting strings.",
        "map_merge" => "A function for merging maps.",
        "map_replace" => "A function for performing substitutions on maps.",
        "yaql" => "A function for executing a yaql expression.",
        "if" | "Fn::If" => {
            "A function to return corresponding value based on condition evaluation."
        }
        "filter" => "A function for filtering out values from lists.",
        "make_url" => "A function for constructing a URL from its parts.",
        "list_concat" => "A function for extending lists.",
        "list_concat_unique" => "A function for extending lists with unique items.",
        "contains" => "A function for checking whether specific value is in sequence.",
        "equals" | "Fn::Equals" => "A function for comparing whether two values are equal.",
        "not" | "Fn::Not" => "A function that acts as a NOT operator on a condition.",
        "and" | "Fn::And" => "A function that acts as an AND operator on conditions.",
        "or" | "Fn::Or" => "A function that acts as an OR operator on conditions.",
        "Fn::Select" => "A function for selecting an item from a list or map.",
        "Fn::Base64" => "A placeholder function for converting to base64.",
        "Fn::GetAZs" => "A function for retrieving the availability zones.",
        "Fn::MemberListToMap" => {
            "A function to convert lists with enumerated keys and values to mapping."
        }
        "Fn::FindInMap" => "A function for resolving keys in the template mappings.",
        _ => "",
    }
}

/// `GET /template_versions/{version}/functions[?with_condition_func=true]`.
#[utoipa::path(get, path = "/template_versions/{version}/functions", tag = "templates", params(("with_condition_func" = Option<bool>, Query, description = "Condition functions instead")), responses((status = 200, description = "Functions", body = crate::api::openapi::schemas::TemplateFunctionList), (status = 400, description = "Bad request", body = crate::api::openapi::schemas::ErrorBody), (status = 401, description = "Not authenticated", body = crate::api::openapi::schemas::ErrorBody), (status = 404, description = "Not found", body = crate::api::openapi::schemas::ErrorBody)))]
pub async fn functions(
    Path((_project, version)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let query = Query::parse(raw.as_deref());
    let conditions = query.flag("with_condition_func", false)?;
    let found = versions()
        .into_iter()
        .find(|(name, _, aliases, _)| *name == version || aliases.contains(&version))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "NotFound",
                format!("Template with version {version} not found"),
            )
        })?;
    let context = if conditions {
        Context::Condition
    } else {
        Context::Value
    };
    let list: Vec<Value> = function_names(found.3, context)
        .into_iter()
        .map(|name| json!({"functions": name, "description": describe(name)}))
        .collect();
    Ok(Json(json!({"template_functions": list})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn versions_and_functions_as_heat_lists_them() {
        let Json(listed) = list().await;
        let versions = listed["template_versions"].as_array().unwrap();
        assert_eq!(versions.len(), 13);
        assert!(
            versions
                .iter()
                .any(|v| v["version"] == "heat_template_version.2016-10-14"
                    && v["aliases"][0] == "heat_template_version.newton")
        );
        assert!(
            versions.iter().any(
                |v| v["version"] == "AWSTemplateFormatVersion.2010-09-09" && v["type"] == "cfn"
            )
        );
        let Json(f) = functions(
            Path(("p".into(), "heat_template_version.newton".into())),
            RawQuery(None),
        )
        .await
        .unwrap();
        let names: Vec<&str> = f["template_functions"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|f| f["functions"].as_str())
            .collect();
        assert!(names.contains(&"yaql") && names.contains(&"get_param"));
        assert!(!names.contains(&"make_url"));
        assert!(
            functions(Path(("p".into(), "nope".into())), RawQuery(None))
                .await
                .is_err()
        );
    }
}
