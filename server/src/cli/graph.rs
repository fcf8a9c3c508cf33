//! `updraft stack graph NAME [--format dot|svg]`: the stack's resource dependency graph,
//! from the stored template's `depends_on` and the resources' `required_by`. An edge
//! `a -> b` means `b` depends on `a` (`a` is created first). SVG is rendered from the DOT
//! text in-process (layout-rs).

use std::collections::{BTreeMap, BTreeSet};
use std::process::ExitCode;

use serde_json::Value;

use super::client::Client;

/// Options of `stack graph`.
#[derive(Debug, clap::Args)]
pub struct GraphArgs {
    /// Stack name or id.
    stack: String,
    /// dot (Graphviz text) or svg.
    #[arg(long = "format", short = 'f', value_enum, default_value_t = GraphFormat::Dot)]
    format: GraphFormat,
}

/// The graph's output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphFormat {
    /// Graphviz DOT.
    Dot,
    /// SVG.
    Svg,
}

/// Runs `stack graph`.
pub async fn run(client: &Client, args: GraphArgs) -> anyhow::Result<ExitCode> {
    let (path, stack) = client.stack(&args.stack).await?;
    let template = client.get(&format!("{path}/template")).await?;
    let resources = client.get(&format!("{path}/resources")).await?;
    let name = stack["stack_name"].as_str().unwrap_or(&args.stack);
    let dot = to_dot(name, &template, &resources["resources"]);
    match args.format {
        GraphFormat::Dot => print!("{dot}"),
        GraphFormat::Svg => println!("{}", to_svg(&dot)?),
    }
    Ok(ExitCode::SUCCESS)
}

/// `depends_on` of a template resource: a name or a list of names.
fn depends_on(definition: &Value) -> Vec<String> {
    match &definition["depends_on"] {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => vec![],
    }
}

/// A DOT string literal.
fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The DOT text for a stack's resources (nodes labelled `name\ntype\nstatus`).
pub fn to_dot(stack_name: &str, template: &Value, resources: &Value) -> String {
    let mut nodes: BTreeMap<String, (String, String)> = BTreeMap::new();
    let mut edges: BTreeSet<(String, String)> = BTreeSet::new();
    for r in resources.as_array().into_iter().flatten() {
        let Some(name) = r["resource_name"].as_str() else {
            continue;
        };
        nodes.insert(
            name.to_string(),
            (
                r["resource_type"].as_str().unwrap_or_default().to_string(),
                r["resource_status"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            ),
        );
        for dependent in r["required_by"].as_array().into_iter().flatten() {
            if let Some(d) = dependent.as_str() {
                edges.insert((name.to_string(), d.to_string()));
            }
        }
    }
    let section = if template["resources"].is_object() {
        &template["resources"]
    } else {
        &template["Resources"]
    };
    for (name, definition) in section.as_object().into_iter().flatten() {
        nodes.entry(name.clone()).or_insert_with(|| {
            let t = definition["type"]
                .as_str()
                .or(definition["Type"].as_str())
                .unwrap_or_default();
            (t.to_string(), String::new())
        });
        let mut deps = depends_on(definition);
        if let Value::Array(_) | Value::String(_) = &definition["DependsOn"] {
            deps.extend(depends_on(
                &serde_json::json!({"depends_on": definition["DependsOn"]}),
            ));
        }
        for d in deps {
            edges.insert((d, name.clone()));
        }
    }
    let mut out = format!("digraph {} {{\n", quote(stack_name));
    for (name, (kind, status)) in &nodes {
        // Each part escaped, then joined with DOT's `\n` line break (not escaped again).
        let label = [name.as_str(), kind, status]
            .iter()
            .filter(|s| !s.is_empty())
            .map(|s| s.replace('\\', "\\\\").replace('"', "\\\""))
            .collect::<Vec<_>>()
            .join("\\n");
        out.push_str(&format!("  {} [label=\"{label}\"];\n", quote(name)));
    }
    for (from, to) in &edges {
        out.push_str(&format!("  {} -> {};\n", quote(from), quote(to)));
    }
    out.push_str("}\n");
    out
}

/// Renders DOT text as SVG (starting at the `<svg` element).
pub fn to_svg(dot: &str) -> anyhow::Result<String> {
    let dot = dot.to_string();
    // The renderer is third-party code on our own DOT text; a panic in it must not abort.
    let rendered = std::panic::catch_unwind(move || {
        let mut parser = layout::gv::DotParser::new(&dot);
        let graph = parser.process().map_err(|e| e.to_string())?;
        let mut builder = layout::gv::GraphBuilder::new();
        builder.visit_graph(&graph);
        let mut visual = builder.get();
        let mut svg = layout::backends::svg::SVGWriter::new();
        visual.do_it(false, false, false, &mut svg);
        Ok::<_, String>(svg.finalize())
    })
    .map_err(|_| anyhow::anyhow!("the SVG renderer failed on this graph"))?
    .map_err(|e| anyhow::anyhow!("cannot render the graph: {e}"))?;
    let start = rendered.find("<svg").unwrap_or(0);
    Ok(rendered[start..].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn edges_come_from_required_by_and_depends_on() {
        let template = json!({"resources": {
            "a": {"type": "OS::Heat::None"},
            "b": {"type": "OS::Heat::None", "depends_on": "a"},
            "c": {"type": "OS::Heat::None", "depends_on": ["a", "b"]}
        }});
        let resources = json!([
            {"resource_name": "a", "resource_type": "OS::Heat::None", "resource_status": "CREATE_COMPLETE", "required_by": ["b", "c"]},
            {"resource_name": "b", "resource_type": "OS::Heat::None", "resource_status": "CREATE_COMPLETE", "required_by": ["c"]}
        ]);
        let dot = to_dot("s", &template, &resources);
        assert!(dot.starts_with("digraph \"s\" {"), "{dot}");
        assert!(dot.contains("\"a\" -> \"b\";"), "{dot}");
        assert!(dot.contains("\"a\" -> \"c\";"), "{dot}");
        assert!(dot.contains("\"b\" -> \"c\";"), "{dot}");
        assert_eq!(dot.matches("->").count(), 3, "{dot}");
        assert!(
            dot.contains("label=\"a\\nOS::Heat::None\\nCREATE_COMPLETE\""),
            "{dot}"
        );
        let svg = to_svg(&dot).unwrap();
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.trim_end().ends_with("</svg>"), "{svg}");
    }
}
