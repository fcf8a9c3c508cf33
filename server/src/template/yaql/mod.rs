//! A subset of yaql, the query language of Heat's `yaql` intrinsic function.
//!
//! `lexer` → `parser` (Pratt, yaql's operator table) → `eval` (variables, calls, budgets),
//! `operators`, and the library in `collections`, `dicts` and `strings`, over `value::Val`
//! (`convert` for JSON in and out), which keeps the Python
//! distinctions yaql's results depend on (tuple / list / lazy iterator / dict view, frozen /
//! plain dict). Heat evaluates `{'data': data}` with `yaql.limitIterators` = 200 and
//! `yaql.memoryQuota` = 10000; both budgets are enforced here with yaql's rules.
//!
//! Supported: `$`, `$name`, `$.data.x` (also over lists: `$.list.name`), `?.`, method chains,
//! indexers, list `[…]` and map `{k => v}` literals, `let(…) -> expr`, lambdas as arguments,
//! strings `'…'`, `"…"`, `` `…` ``, operators `+ - * / mod = != < > <= >= in not and or =~ !~
//! ->`; methods `where select get keys values items flatten distinct mergeWith split rightSplit
//! join last first zip reduce max min isEmpty matches groupBy selectMany search any all toUpper
//! toLower len count sum` (and `format`, which yaql only defines for datetimes); functions
//! `concat coalesce let regex dict list str len switch int range max min distinct any all`.
//! Anything else is `unsupported yaql method X` / `unsupported yaql function X`.
//!
//! Differences from yaql that remain (found by the differential test in `tests.rs`):
//! - evaluation is eager: a lazy chain that Python stops early (`range(1000).where(…).first()`)
//!   counts every item against the 200-item limit here and fails; `range()` longer than the
//!   limit fails at once; a lazy result read twice (`let(x => $.l.where(…)) -> $x.len() +
//!   $x.len()`) is not exhausted by the first read;
//! - the memory quota uses an estimate of Python's `sys.getsizeof` (exact for strings and
//!   tuples, approximate for plain dicts);
//! - integers are 64-bit (overflow is an error; Python's are unbounded);
//! - regular expressions use Rust's `regex` syntax (no look-around or back-references:
//!   an error), and `\N{name}` escapes are left as written;
//! - `str()` of a lazy collection, view, regex or context is an error (Python prints an
//!   object address); error messages are ours.

mod collections;
mod convert;
mod dicts;
mod eval;
mod lexer;
mod operators;
mod parser;
mod strings;
#[cfg(test)]
mod tests;
mod value;

use serde_json::Value;

pub use parser::parse;

/// Most items any collection operation may take (Heat's `[yaql] limit_iterators`).
pub const LIMIT_ITERATORS: usize = 200;
/// Most bytes (as Python's `sys.getsizeof` counts) any one value may take (Heat's
/// `[yaql] memory_quota`).
pub const MEMORY_QUOTA: usize = 10_000;

/// Why an expression could not be parsed or evaluated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct YaqlError {
    /// What went wrong.
    pub message: String,
}

impl YaqlError {
    fn syntax(message: impl Into<String>) -> Self {
        YaqlError {
            message: message.into(),
        }
    }
    fn runtime(message: impl Into<String>) -> Self {
        YaqlError {
            message: message.into(),
        }
    }
    fn unsupported(message: impl Into<String>) -> Self {
        YaqlError {
            message: format!("unsupported in yaql here: {}", message.into()),
        }
    }
    fn too_large(limit: usize) -> Self {
        YaqlError {
            message: format!("Collection length exceeds {limit} elements"),
        }
    }
}

/// Evaluates `expression` against `{"data": data}`, as Heat's `yaql` function does.
pub fn evaluate(expression: &str, data: &Value) -> Result<Value, YaqlError> {
    let expr = parse(expression)?;
    eval::run(&expr, data)
}
