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
}

impl TemplateError {
    /// A validation error at `path`.
    pub fn at(path: impl Into<String>, message: impl Into<String>) -> Self {
        TemplateError {
            kind: TemplateErrorKind::Validation,
            path: path.into(),
            message: message.into(),
        }
    }

    /// An error of `kind` with no path.
    pub fn new(kind: TemplateErrorKind, message: impl Into<String>) -> Self {
        TemplateError {
            kind,
            path: String::new(),
            message: message.into(),
        }
    }

    /// The same error with a different kind.
    pub fn with_kind(mut self, kind: TemplateErrorKind) -> Self {
        self.kind = kind;
        self
    }

    fn render(&self) -> String {
        if self.path.is_empty() {
            self.message.clone()
        } else {
            format!("{}: {}", self.path, self.message)
        }
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
