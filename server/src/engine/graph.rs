//! The dependency graph of a template: edges from `get_resource`, `get_attr` and
//! `depends_on`; cycles are reported with their members.

use std::collections::HashMap;

use petgraph::algo::tarjan_scc;
use petgraph::graph::DiGraph;

use crate::template::{Template, TemplateError};

/// For each resource, the resources it depends on.
pub fn dependencies(template: &Template) -> HashMap<String, Vec<String>> {
    template
        .resources
        .keys()
        .map(|name| (name.clone(), template.dependencies(name)))
        .collect()
}

/// Fails with Heat's `Circular Dependency Found` when the graph has a cycle.
pub fn check_acyclic(deps: &HashMap<String, Vec<String>>) -> Result<(), TemplateError> {
    let mut graph = DiGraph::<&str, ()>::new();
    let mut index = HashMap::new();
    for name in deps.keys() {
        index.insert(name.as_str(), graph.add_node(name.as_str()));
    }
    for (name, ds) in deps {
        for d in ds {
            if let (Some(&a), Some(&b)) = (index.get(d.as_str()), index.get(name.as_str())) {
                graph.add_edge(a, b, ());
            }
        }
    }
    for component in tarjan_scc(&graph) {
        if component.len() > 1 {
            let mut members: Vec<&str> = component.iter().map(|i| graph[*i]).collect();
            members.sort_unstable();
            return Err(TemplateError::new(
                crate::template::TemplateErrorKind::Validation,
                format!("Circular Dependency Found: {}", members.join(", ")),
            )
            .pointing_at(format!("resources.{}", members[0])));
        }
    }
    Ok(())
}

/// The reverse relation: for each resource, the resources that depend on it.
pub fn dependents(deps: &HashMap<String, Vec<String>>) -> HashMap<String, Vec<String>> {
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for (name, ds) in deps {
        for d in ds {
            out.entry(d.clone()).or_default().push(name.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cycles_name_their_members() {
        let t = Template::parse_text(
            "heat_template_version: 2013-05-23\nresources:\n  a: {type: T, depends_on: b}\n  b: {type: T, depends_on: a}\n  c: {type: T}\n",
        )
        .unwrap();
        let e = check_acyclic(&dependencies(&t)).unwrap_err();
        assert_eq!(e.to_string(), "Circular Dependency Found: a, b");
    }
}
