//! `get_file: key` — the content of `key` in the stack's `files` map, verbatim. The server
//! never fetches anything: clients inline the files they reference.

use serde_json::Value;

use super::{EvalContext, Function};
use crate::template::error::TemplateError;
use crate::template::version::TemplateVersion;

/// `get_file`.
pub struct GetFile;

impl Function for GetFile {
    fn name(&self) -> &'static str {
        "get_file"
    }

    fn evaluate(
        &self,
        args: Value,
        _: TemplateVersion,
        ctx: &dyn EvalContext,
        path: &str,
    ) -> Result<Value, TemplateError> {
        let Value::String(key) = args else {
            return Err(TemplateError::at(
                path,
                "Argument to \"get_file\" must be a string",
            ));
        };
        ctx.file(&key).map(Value::String).ok_or_else(|| {
            TemplateError::at(
                path,
                format!("No content found in the \"files\" section for get_file path: {key}"),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{FixedContext, LATEST, check_cases, hot};
    use crate::template::version::HotVersion;
    use serde_json::json;

    #[test]
    fn reads_the_files_map() {
        let mut ctx = FixedContext::default();
        ctx.files
            .insert("file:///tmp/a.sh".into(), "#!/bin/sh\necho hi\n".into());
        ctx.params.insert("f".into(), json!("file:///tmp/a.sh"));
        for version in [LATEST, hot(HotVersion::V2013_05_23)] {
            check_cases(
                version,
                &ctx,
                &[
                    (
                        json!({"get_file": "file:///tmp/a.sh"}),
                        Ok(json!("#!/bin/sh\necho hi\n")),
                    ),
                    (
                        json!({"get_file": {"get_param": "f"}}),
                        Ok(json!("#!/bin/sh\necho hi\n")),
                    ),
                    (
                        json!({"get_file": "missing.yaml"}),
                        Err(
                            "outputs.o.get_file: No content found in the \"files\" section for get_file path: missing.yaml",
                        ),
                    ),
                    (
                        json!({"get_file": ["a"]}),
                        Err("outputs.o.get_file: Argument to \"get_file\" must be a string"),
                    ),
                ],
            );
        }
    }
}
