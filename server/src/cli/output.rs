//! How the client CLI prints what the API returns: a table (default), JSON, YAML, or bare
//! values (`-f value`, one row per line), limited to `-c COLUMN`s when given.

use comfy_table::{ContentArrangement, Table, presets};
use serde_json::{Map, Value};

/// The output format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A table.
    #[default]
    Table,
    /// JSON.
    Json,
    /// YAML.
    Yaml,
    /// Bare values, space-separated, one row per line.
    Value,
}

/// `-f FORMAT` and `-c COLUMN`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct OutputArgs {
    /// Output format.
    #[arg(short = 'f', long = "format", value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Only this column (repeatable; any field of the objects may be named).
    #[arg(short = 'c', long = "column", value_name = "COLUMN")]
    pub columns: Vec<String>,
}

/// A cell's text: strings as they are, `null` empty, anything else as compact JSON.
pub fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) if items.iter().all(Value::is_string) => items
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

/// YAML text for a value.
pub fn to_yaml(value: &Value) -> anyhow::Result<String> {
    serde_saphyr::to_string(value).map_err(|e| anyhow::anyhow!("cannot write YAML: {e}"))
}

fn pick(row: &Value, columns: &[String]) -> Value {
    let mut out = Map::new();
    for c in columns {
        out.insert(c.clone(), row.get(c).cloned().unwrap_or(Value::Null));
    }
    Value::Object(out)
}

fn table() -> Table {
    let mut t = Table::new();
    t.load_style(presets::ASCII_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    t
}

/// Renders a list of objects: `defaults` are the columns unless `-c` names others.
pub fn render_list(rows: &[Value], defaults: &[&str], args: &OutputArgs) -> anyhow::Result<String> {
    let columns: Vec<String> = if args.columns.is_empty() {
        defaults.iter().map(|s| s.to_string()).collect()
    } else {
        args.columns.clone()
    };
    let picked: Vec<Value> = rows.iter().map(|r| pick(r, &columns)).collect();
    Ok(match args.format {
        Format::Json => serde_json::to_string_pretty(&picked)? + "\n",
        Format::Yaml => to_yaml(&Value::Array(picked))?,
        Format::Value => picked
            .iter()
            .map(|r| {
                columns
                    .iter()
                    .map(|c| cell(&r[c]))
                    .collect::<Vec<_>>()
                    .join(" ")
                    + "\n"
            })
            .collect(),
        Format::Table => {
            let mut t = table();
            t.set_header(columns.clone());
            for r in &picked {
                t.add_row(columns.iter().map(|c| cell(&r[c])).collect::<Vec<_>>());
            }
            format!("{t}\n")
        }
    })
}

/// Renders one object as `Field | Value` rows (only the `-c` fields when given).
pub fn render_object(object: &Value, args: &OutputArgs) -> anyhow::Result<String> {
    let shown = if args.columns.is_empty() {
        object.clone()
    } else {
        pick(object, &args.columns)
    };
    let Value::Object(map) = &shown else {
        return Ok(format!("{}\n", cell(&shown)));
    };
    Ok(match args.format {
        Format::Json => serde_json::to_string_pretty(&shown)? + "\n",
        Format::Yaml => to_yaml(&shown)?,
        Format::Value => map.values().map(|v| cell(v) + "\n").collect(),
        Format::Table => {
            let mut t = table();
            t.set_header(vec!["Field", "Value"]);
            for (k, v) in map {
                let text = match v {
                    Value::Object(_) | Value::Array(_)
                        if !v.as_array().is_some_and(|a| a.iter().all(Value::is_string)) =>
                    {
                        serde_json::to_string_pretty(v)?
                    }
                    _ => cell(v),
                };
                t.add_row(vec![k.clone(), text]);
            }
            format!("{t}\n")
        }
    })
}

/// Prints a list (see [`render_list`]).
pub fn print_list(rows: &[Value], defaults: &[&str], args: &OutputArgs) -> anyhow::Result<()> {
    print!("{}", render_list(rows, defaults, args)?);
    Ok(())
}

/// Prints an object (see [`render_object`]).
pub fn print_object(object: &Value, args: &OutputArgs) -> anyhow::Result<()> {
    print!("{}", render_object(object, args)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn args(format: Format, columns: &[&str]) -> OutputArgs {
        OutputArgs {
            format,
            columns: columns.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn lists_render_in_every_format() {
        let rows = [
            json!({"a": "x", "b": 1, "c": null}),
            json!({"a": "y", "b": [1]}),
        ];
        let t = render_list(&rows, &["a", "b"], &args(Format::Table, &[])).unwrap();
        assert!(
            t.contains("| a ") && t.contains("| x ") && t.contains("[1]"),
            "{t}"
        );
        let v = render_list(&rows, &["a", "b"], &args(Format::Value, &["b", "a"])).unwrap();
        assert_eq!(v, "1 x\n[1] y\n");
        let j = render_list(&rows, &["a"], &args(Format::Json, &[])).unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(&j).unwrap(),
            json!([{"a": "x"}, {"a": "y"}])
        );
        let y = render_list(&rows, &["a"], &args(Format::Yaml, &[])).unwrap();
        assert!(y.contains("a: x"), "{y}");
    }

    #[test]
    fn objects_render_field_by_field() {
        let o = json!({"id": "1", "tags": ["a", "b"], "params": {"k": "v"}});
        let t = render_object(&o, &args(Format::Table, &[])).unwrap();
        assert!(
            t.contains("Field") && t.contains("a, b") && t.contains("\"k\""),
            "{t}"
        );
        assert_eq!(
            render_object(&o, &args(Format::Value, &["id"])).unwrap(),
            "1\n"
        );
    }
}
