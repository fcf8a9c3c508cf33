//! Template errors: each names where (`resources.app.properties.config`) and what.

/// The kind of a template problem; maps to Heat's exception names in API error bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateErrorKind {
    /// The document is not valid YAML/JSON or not a mapping.
    Parse,
    /// Missing, ambiguous or unknown version.
    InvalidVersion,
    /// Unknown top-level section.
    InvalidSection,
    /// A reference to a resource or attribute that does not exist.
    InvalidReference,
    /// A parameter was not provided and has no default.
    ParameterMissing,
    /// A parameter was provided that the template does not declare.
    UnknownParameter,
    /// An update changes the value of an `immutable: true` parameter.
    ImmutableParameterModified,
    /// Anything else wrong with the template or a value in it.
    Validation,
}

impl TemplateErrorKind {
    /// Heat's exception class name for this kind.
    pub fn heat_type(self) -> &'static str {
        match self {
            TemplateErrorKind::Parse => "HTTPBadRequest",
            TemplateErrorKind::InvalidVersion => "InvalidTemplateVersion",
            TemplateErrorKind::InvalidSection => "InvalidTemplateSection",
            TemplateErrorKind::InvalidReference => "InvalidTemplateReference",
            TemplateErrorKind::ParameterMissing => "UserParameterMissing",
            TemplateErrorKind::UnknownParameter => "UnknownUserParameter",
            TemplateErrorKind::ImmutableParameterModified => "ImmutableParameterModified",
            TemplateErrorKind::Validation => "StackValidationFailed",
        }
    }
}

/// A problem in a template, with the path of the offending item.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
#[error("{}", self.render())]
pub struct TemplateError {
    /// What went wrong.
    pub kind: TemplateErrorKind,
    /// Dotted path such as `resources.app.properties.config` (empty for whole-template errors).
    pub path: String,
    /// The message, without the path.
    pub message: String,
    /// Where exactly in the template the problem is, when `path` is empty because Heat's
    /// message names the place itself (`The specified reference "x" (in resources.a…) is
    /// incorrect.`) or is less precise; used only to find a line and column, never rendered.
    pub pointer: Option<String>,
    /// 1-based line in the template text, when known.
    pub line: Option<u64>,
    /// 1-based column in the template text, when known.
    pub column: Option<u64>,
}

impl TemplateError {
    /// A validation error at `path`.
    pub fn at(path: impl Into<String>, message: impl Into<String>) -> Self {
        TemplateError {
            kind: TemplateErrorKind::Validation,
            path: path.into(),
            message: message.into(),
            pointer: None,
            line: None,
            column: None,
        }
    }

    /// An error of `kind` with no path.
    pub fn new(kind: TemplateErrorKind, message: impl Into<String>) -> Self {
        TemplateError {
            kind,
            path: String::new(),
            message: message.into(),
            pointer: None,
            line: None,
            column: None,
        }
    }

    /// The same error with a different kind.
    pub fn with_kind(mut self, kind: TemplateErrorKind) -> Self {
        self.kind = kind;
        self
    }

    /// The same error, pointing at `path` in the template without rendering it.
    pub fn pointing_at(mut self, path: impl Into<String>) -> Self {
        self.pointer = Some(path.into());
        self
    }

    /// The same error at a line and column of the template text.
    pub fn at_position(mut self, line: Option<u64>, column: Option<u64>) -> Self {
        self.line = line;
        self.column = column;
        self
    }

    /// The template path to look up for a position: `pointer` when set, else `path`.
    pub fn location_path(&self) -> &str {
        self.pointer.as_deref().unwrap_or(&self.path)
    }

    fn render(&self) -> String {
        if self.path.is_empty() {
            self.message.clone()
        } else {
            format!("{}: {}", self.path, self.message)
        }
    }
}

/// Every problem found in a template, in the order found (never empty when returned as an
/// error). One error renders as itself; several are joined with newlines.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
#[error("{}", self.render())]
pub struct TemplateErrors(pub Vec<TemplateError>);

impl TemplateErrors {
    /// Heat's exception class name: the error's own for one error (or several of one
    /// kind), `StackValidationFailed` for a mixture.
    pub fn heat_type(&self) -> &'static str {
        match self.0.first() {
            Some(first) if self.0.iter().all(|e| e.kind == first.kind) => first.kind.heat_type(),
            Some(_) => TemplateErrorKind::Validation.heat_type(),
            None => TemplateErrorKind::Validation.heat_type(),
        }
    }

    /// The first error.
    pub fn first(&self) -> Option<&TemplateError> {
        self.0.first()
    }

    fn render(&self) -> String {
        self.0
            .iter()
            .map(TemplateError::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl From<TemplateError> for TemplateErrors {
    fn from(e: TemplateError) -> Self {
        TemplateErrors(vec![e])
    }
}

/// Joins a path and a key: `join("resources.a", "properties")`.
pub fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Joins a path and a list index: `resources.a.properties.list[2]`.
pub fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}
