//! The environment's `resource_registry`: type aliases, globs, deletions, provider
//! templates, and per-resource overrides (`resources: {name: {...}}` with `hooks` and
//! `restricted_actions`).

use serde_json::{Map, Value};

use super::error::{TemplateError, join};

/// What a resource's type resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolvedType {
    /// A built-in (or plugin) type name.
    Builtin(String),
    /// A provider template: a key of the files map (or a URL).
    Template(String),
}

/// One `from → to` mapping; `to: None` deletes earlier mappings of `from`.
#[derive(Debug, Clone, PartialEq)]
struct Mapping {
    from: String,
    to: Option<String>,
}

/// Overrides for resources matching a name or fnmatch-style pattern.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ResourceOverride {
    /// The resource name or pattern.
    pub pattern: String,
    /// Type mappings that apply only to these resources.
    mappings: Vec<Mapping>,
    /// Breakpoints: `pre-create`, `pre-update`, `pre-delete`, `post-…`.
    pub hooks: Vec<String>,
    /// `update` and/or `replace`.
    pub restricted_actions: Vec<String>,
}

/// A parsed `resource_registry`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ResourceRegistry {
    mappings: Vec<Mapping>,
    overrides: Vec<ResourceOverride>,
}

/// Breakpoint names Heat knows.
pub const HOOKS: &[&str] = &[
    "pre-create",
    "pre-update",
    "pre-delete",
    "post-create",
    "post-update",
    "post-delete",
];
const RESTRICTED: &[&str] = &["update", "replace"];

fn string_list(value: &Value, allowed: &[&str], path: &str) -> Result<Vec<String>, TemplateError> {
    let items: Vec<&Value> = match value {
        Value::Array(items) => items.iter().collect(),
        single => vec![single],
    };
    items
        .into_iter()
        .map(|v| match v.as_str() {
            Some(s) if allowed.contains(&s) => Ok(s.to_string()),
            _ => Err(TemplateError::at(
                path,
                format!("{v} is not one of {}", allowed.join(", ")),
            )),
        })
        .collect()
}

/// Whether a type name (or registry target) names a provider template.
pub fn is_template(target: &str) -> bool {
    target.ends_with(".yaml") || target.ends_with(".template") || target.ends_with(".yml")
}

/// fnmatch-style matching with `*` and `?`.
pub fn matches(pattern: &str, name: &str) -> bool {
    fn go(p: &[char], n: &[char]) -> bool {
        match (p.split_first(), n.split_first()) {
            (None, None) => true,
            (Some(('*', rest)), _) => go(rest, n) || (!n.is_empty() && go(p, &n[1..])),
            (Some(('?', rest)), Some((_, nrest))) => go(rest, nrest),
            (Some((a, rest)), Some((b, nrest))) if a == b => go(rest, nrest),
            _ => false,
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    go(&p, &n)
}

fn parse_mapping(from: &str, to: &Value, path: &str) -> Result<Mapping, TemplateError> {
    match to {
        Value::Null => Ok(Mapping {
            from: from.to_string(),
            to: None,
        }),
        Value::String(t) => Ok(Mapping {
            from: from.to_string(),
            to: Some(t.clone()),
        }),
        other => Err(TemplateError::at(
            join(path, from),
            format!("a registry entry must map to a type name, a template or null, not {other}"),
        )),
    }
}

impl ResourceRegistry {
    /// Parses the section at `path`.
    pub fn parse(section: &Map<String, Value>, path: &str) -> Result<Self, TemplateError> {
        let mut registry = ResourceRegistry::default();
        for (key, value) in section {
            if key == "resources" {
                let Some(resources) = value.as_object() else {
                    return Err(TemplateError::at(
                        join(path, "resources"),
                        "must be a mapping",
                    ));
                };
                for (pattern, entry) in resources {
                    let epath = join(&join(path, "resources"), pattern);
                    let Some(entry) = entry.as_object() else {
                        return Err(TemplateError::at(epath, "must be a mapping"));
                    };
                    let mut o = ResourceOverride {
                        pattern: pattern.clone(),
                        ..Default::default()
                    };
                    for (k, v) in entry {
                        match k.as_str() {
                            "hooks" => o.hooks = string_list(v, HOOKS, &join(&epath, "hooks"))?,
                            "restricted_actions" => {
                                o.restricted_actions =
                                    string_list(v, RESTRICTED, &join(&epath, "restricted_actions"))?
                            }
                            // A map holds the entries for a resource of the nested
                            // stack this resource owns (it reaches that stack's
                            // environment, see `stack_resource::child_environment`).
                            _ if v.is_object() => {}
                            from => o.mappings.push(parse_mapping(from, v, &epath)?),
                        }
                    }
                    registry.overrides.push(o);
                }
            } else {
                registry.mappings.push(parse_mapping(key, value, path)?);
            }
        }
        Ok(registry)
    }

    fn lookup(mappings: &[Mapping], type_name: &str) -> Option<Option<String>> {
        // Exact entries win over globs; among globs the longest (most specific) prefix wins.
        if let Some(m) = mappings.iter().rev().find(|m| m.from == type_name) {
            return Some(m.to.clone());
        }
        mappings
            .iter()
            .filter_map(|m| {
                let prefix = m.from.strip_suffix('*')?;
                type_name
                    .strip_prefix(prefix)
                    .map(|rest| (prefix.len(), m, rest))
            })
            .max_by_key(|(len, _, _)| *len)
            .map(|(_, m, rest)| {
                m.to.as_ref().map(|to| match to.strip_suffix('*') {
                    Some(target_prefix) => format!("{target_prefix}{rest}"),
                    None => to.clone(),
                })
            })
    }

    /// Resolves the type of resource `resource` declared as `type_name`: per-resource
    /// overrides first, then global mappings, followed until they stop (with a loop guard).
    pub fn resolve(&self, resource: &str, type_name: &str) -> Result<ResolvedType, String> {
        let mut current = type_name.to_string();
        for _ in 0..16 {
            if is_template(&current) {
                return Ok(ResolvedType::Template(current));
            }
            let specific = self
                .overrides
                .iter()
                .filter(|o| matches(&o.pattern, resource))
                .find_map(|o| Self::lookup(&o.mappings, &current));
            let next = specific.or_else(|| Self::lookup(&self.mappings, &current));
            match next {
                Some(Some(next)) if next != current => current = next,
                _ => return Ok(ResolvedType::Builtin(current)),
            }
        }
        Err(format!("The resource registry maps {type_name} in a loop"))
    }

    /// Breakpoints set for `resource`.
    pub fn hooks(&self, resource: &str) -> Vec<String> {
        self.overrides
            .iter()
            .filter(|o| matches(&o.pattern, resource))
            .flat_map(|o| o.hooks.clone())
            .collect()
    }

    /// Actions forbidden for `resource` (`update`, `replace`).
    pub fn restricted_actions(&self, resource: &str) -> Vec<String> {
        self.overrides
            .iter()
            .filter(|o| matches(&o.pattern, resource))
            .flat_map(|o| o.restricted_actions.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn registry(v: Value) -> ResourceRegistry {
        ResourceRegistry::parse(v.as_object().unwrap(), "environment.resource_registry").unwrap()
    }

    #[test]
    fn aliases_globs_templates_and_overrides() {
        let r = registry(json!({
            "My::Server": "OS::Heat::DeployedServer",
            "Alias::Of::Alias": "My::Server",
            "OS::Nova::*": "OS::Heat::*",
            "Nested::Thing": "thing.yaml",
            "Gone::Type": null,
            "resources": {
                "special*": {"My::Server": "OS::Heat::None", "hooks": "pre-create", "restricted_actions": ["replace"]},
                "group": {"0": {"hooks": "pre-create"}}
            }
        }));
        assert_eq!(
            r.resolve("a", "Alias::Of::Alias"),
            Ok(ResolvedType::Builtin("OS::Heat::DeployedServer".into()))
        );
        assert_eq!(
            r.resolve("a", "OS::Nova::Server"),
            Ok(ResolvedType::Builtin("OS::Heat::Server".into()))
        );
        assert_eq!(
            r.resolve("a", "Nested::Thing"),
            Ok(ResolvedType::Template("thing.yaml".into()))
        );
        assert_eq!(
            r.resolve("a", "local.template"),
            Ok(ResolvedType::Template("local.template".into()))
        );
        assert_eq!(
            r.resolve("special_1", "My::Server"),
            Ok(ResolvedType::Builtin("OS::Heat::None".into()))
        );
        assert_eq!(
            r.resolve("a", "Gone::Type"),
            Ok(ResolvedType::Builtin("Gone::Type".into()))
        );
        assert_eq!(r.hooks("special_x"), vec!["pre-create".to_string()]);
        assert_eq!(
            r.restricted_actions("special_x"),
            vec!["replace".to_string()]
        );
        assert!(r.hooks("other").is_empty());
        let looped = registry(json!({"A::B": "C::D", "C::D": "A::B"}));
        assert!(looped.resolve("x", "A::B").is_err());
    }

    #[test]
    fn bad_entries_are_reported_with_their_path() {
        let e = ResourceRegistry::parse(
            json!({"resources": {"r": {"hooks": "pre-nothing"}}})
                .as_object()
                .unwrap(),
            "environment.resource_registry",
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("environment.resource_registry.resources.r.hooks:"),
            "{e}"
        );
    }
}
