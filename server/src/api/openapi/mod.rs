//! The OpenAPI document of the native API, made from the handlers' `#[utoipa::path]`
//! annotations by the router itself (`api::v1_routes`: a route and its description are one
//! declaration), served at `/openapi.json` and committed as `server/openapi.json`
//! (`openapi_document_is_current` fails when the two differ).

pub mod schemas;

use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::openapi::{ObjectBuilder, RefOr, Required, Type};
use utoipa::{Modify, OpenApi};

/// The document's fixed parts; the paths come from the router.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Updraft orchestration API",
        description = "Heat's native orchestration API v1 (stacks, resources, events, snapshots, software configs and deployments), as Updraft serves it. Every path is under /v1/{project}; authenticate with X-Auth-Token (a /v3 token or the admin token).",
        license(name = "Apache-2.0"),
    ),
    modifiers(&TokenAuth),
    security(("token" = [])),
    tags(
        (name = "stacks", description = "Stacks: create, show, update, delete, actions, outputs"),
        (name = "resources", description = "A stack's resources: list, show, metadata, signal"),
        (name = "events", description = "A stack's events"),
        (name = "snapshots", description = "Stack snapshots and restore"),
        (name = "templates", description = "Validation, resource types, template versions"),
        (name = "software", description = "Software configs and deployments"),
        (name = "service", description = "Build info and engine services"),
    ),
)]
pub struct ApiDoc;

/// Declares every `{name}` of a path as a required string path parameter (the annotations
/// leave them out: they are the same everywhere, `project` comes from the nesting), and
/// names each operation by its method and path (handler names repeat across modules).
/// Applied once the router has added the paths.
struct PathParameters;

impl Modify for PathParameters {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let names: Vec<String> = path
                .split('/')
                .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
                .map(str::to_string)
                .collect();
            let operations = [
                ("get", &mut item.get),
                ("put", &mut item.put),
                ("post", &mut item.post),
                ("delete", &mut item.delete),
                ("patch", &mut item.patch),
                ("head", &mut item.head),
                ("options", &mut item.options),
            ];
            let words: Vec<&str> = path
                .split('/')
                .filter(|s| !s.is_empty() && *s != "v1" && *s != "{project}")
                .map(|s| s.trim_matches(|c| c == '{' || c == '}'))
                .collect();
            for (method, operation) in operations {
                let Some(operation) = operation else { continue };
                operation.operation_id = Some(format!("{method}_{}", words.join("_")));
                let parameters = operation.parameters.get_or_insert_with(Vec::new);
                for (i, name) in names.iter().enumerate() {
                    let declared = parameters.iter().any(|p| {
                        matches!(p, RefOr::T(p) if &p.name == name && p.parameter_in == ParameterIn::Path)
                    });
                    if !declared {
                        parameters.insert(i, RefOr::T(path_parameter(name)));
                    }
                }
            }
        }
    }
}

fn path_parameter(name: &str) -> Parameter {
    let description = match name {
        "project" => "The project (tenant) id",
        "stack" => "The stack's name (or id)",
        "id" => "The stack's id",
        "resource" => "A resource's name",
        _ => "",
    };
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description(Some(description).filter(|d| !d.is_empty()))
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
        .build()
}

/// `X-Auth-Token`.
struct TokenAuth;

impl Modify for TokenAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-Auth-Token"))),
        );
    }
}

/// The whole document as served and committed (pretty JSON, trailing newline).
pub fn document_text() -> String {
    let mut doc = super::v1_routes().split_for_parts().1;
    PathParameters.modify(&mut doc);
    let mut text = doc.to_pretty_json().unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    /// The committed document is the one the code makes; regenerate with
    /// `UPDRAFT_BLESS=1 cargo test -p updraft-server --lib openapi`.
    #[test]
    fn openapi_document_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");
        let made = super::document_text();
        if std::env::var_os("UPDRAFT_BLESS").is_some() {
            std::fs::write(path, &made).unwrap();
        }
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == made,
            "server/openapi.json is stale: regenerate it with UPDRAFT_BLESS=1 cargo test -p updraft-server --lib openapi"
        );
    }

    #[test]
    fn every_path_is_under_the_project_and_declares_its_parameters() {
        let doc: serde_json::Value = serde_json::from_str(&super::document_text()).unwrap();
        let paths = doc["paths"].as_object().unwrap();
        assert!(paths.len() > 30, "{}", paths.len());
        for (path, item) in paths {
            assert!(path.starts_with("/v1/{project}/"), "{path}");
            for (method, op) in item.as_object().unwrap() {
                let declared: Vec<&str> = op["parameters"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|p| p["in"] == "path")
                    .filter_map(|p| p["name"].as_str())
                    .collect();
                let wanted = path.matches('{').count();
                assert_eq!(declared.len(), wanted, "{method} {path}: {declared:?}");
            }
        }
    }
}
