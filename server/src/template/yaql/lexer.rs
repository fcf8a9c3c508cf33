//! Tokens of a yaql expression, following yaql's lexer: at each position the first of these
//! that matches wins: `$name`, a number, `name(`, a bare word (or word operator / constant),
//! a quoted string, then the symbol operators, longest first.

use super::YaqlError;

/// A token and the byte offset where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub kind: Tok,
    pub pos: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// `$`, `$name`, `$1` (the text after `$`).
    Dollar(String),
    Int(i64),
    Float(f64),
    /// `name(`: a function or method call (the parenthesis is part of the token).
    Func(String),
    /// A bare word: a string constant.
    Keyword(String),
    Str(String),
    True,
    False,
    Null,
    /// Operators, word operators (`and`, `or`, `not`, `in`, `mod`) and `=>`.
    Op(&'static str),
    LParen,
    RParen,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    Comma,
}

const WORD_OPS: &[&str] = &["and", "or", "not", "in", "mod"];
/// Symbol operators, longest first (as ply orders string rules).
const SYMBOL_OPS: &[&str] = &[
    "?.", "=~", "!~", ">=", "<=", "!=", "->", "=>", ".", "+", "-", "*", "/", ">", "<", "=",
];

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Splits `text` into tokens.
pub fn tokenize(text: &str) -> Result<Vec<Token>, YaqlError> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let at = |i: usize| chars.get(i).map(|&(_, c)| c);
    let offset = |i: usize| chars.get(i).map_or(text.len(), |&(o, _)| o);
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(c) = at(i) {
        let pos = offset(i);
        let prev_word = i > 0 && at(i - 1).is_some_and(is_word);
        if matches!(c, ' ' | '\t' | '\r' | '\n') {
            i += 1;
            continue;
        }
        let push = |out: &mut Vec<Token>, kind| out.push(Token { kind, pos });
        if c == '$' {
            let mut j = i + 1;
            while at(j).is_some_and(is_word) {
                j += 1;
            }
            push(
                &mut out,
                Tok::Dollar(text[offset(i + 1)..offset(j)].to_string()),
            );
            i = j;
            continue;
        }
        if c.is_ascii_digit() && !prev_word {
            // \b\d+(\.?\d+)?\b
            let mut j = i;
            while at(j).is_some_and(|c| c.is_ascii_digit()) {
                j += 1;
            }
            let mut end = j;
            if at(j) == Some('.') && at(j + 1).is_some_and(|c| c.is_ascii_digit()) {
                end = j + 1;
                while at(end).is_some_and(|c| c.is_ascii_digit()) {
                    end += 1;
                }
            }
            if !at(end).is_some_and(is_word) {
                let literal = &text[pos..offset(end)];
                let kind = if literal.contains('.') {
                    Tok::Float(literal.parse().map_err(|_| lexical(c, pos))?)
                } else {
                    Tok::Int(literal.parse().map_err(|_| {
                        YaqlError::unsupported(format!("integer {literal} is out of range"))
                    })?)
                };
                push(&mut out, kind);
                i = end;
                continue;
            }
        }
        if (c.is_alphabetic() || c == '_') && !prev_word {
            let mut j = i;
            while at(j).is_some_and(is_word) {
                j += 1;
            }
            let word = &text[pos..offset(j)];
            if at(j) == Some('(') {
                push(&mut out, Tok::Func(word.to_string()));
                i = j + 1;
                continue;
            }
            if !word.starts_with("__") {
                let kind = match word {
                    "true" => Tok::True,
                    "false" => Tok::False,
                    "null" => Tok::Null,
                    w => match WORD_OPS.iter().find(|op| **op == w) {
                        Some(op) => Tok::Op(op),
                        None => Tok::Keyword(w.to_string()),
                    },
                };
                push(&mut out, kind);
                i = j;
                continue;
            }
        }
        if matches!(c, '\'' | '"' | '`') {
            let mut j = i + 1;
            loop {
                match at(j) {
                    None => return Err(lexical(c, pos)),
                    Some('\\') if at(j + 1).is_some_and(|n| n != '\n') => j += 2,
                    Some(q) if q == c => break,
                    Some(_) => j += 1,
                }
            }
            let inner = &text[offset(i + 1)..offset(j)];
            let value = if c == '`' {
                inner.replace("\\`", "`")
            } else {
                decode_escapes(inner)
            };
            push(&mut out, Tok::Str(value));
            i = j + 1;
            continue;
        }
        let rest = &text[pos..];
        if let Some(op) = SYMBOL_OPS.iter().find(|op| rest.starts_with(**op)) {
            push(&mut out, Tok::Op(op));
            i += op.chars().count();
            continue;
        }
        let kind = match c {
            '(' => Tok::LParen,
            ')' => Tok::RParen,
            '[' => Tok::LBracket,
            ']' => Tok::RBracket,
            '{' => Tok::LBrace,
            '}' => Tok::RBrace,
            ',' => Tok::Comma,
            _ => return Err(lexical(c, pos)),
        };
        push(&mut out, kind);
        i += 1;
    }
    Ok(out)
}

fn lexical(c: char, pos: usize) -> YaqlError {
    YaqlError::syntax(format!(
        "Lexical error: illegal character '{c}' at position {pos}"
    ))
}

/// Python's escapes as yaql decodes them; any other backslash stays as written.
fn decode_escapes(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '\\' || i + 1 == chars.len() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let hex = |n: usize| -> Option<char> {
            let digits: String = chars.get(i + 2..i + 2 + n)?.iter().collect();
            char::from_u32(u32::from_str_radix(&digits, 16).ok()?)
        };
        let (decoded, used) = match chars[i + 1] {
            'n' => (Some('\n'), 2),
            't' => (Some('\t'), 2),
            'r' => (Some('\r'), 2),
            'a' => (Some('\u{7}'), 2),
            'b' => (Some('\u{8}'), 2),
            'f' => (Some('\u{c}'), 2),
            'v' => (Some('\u{b}'), 2),
            c @ ('\\' | '\'' | '"') => (Some(c), 2),
            'x' => (hex(2), 4),
            'u' => (hex(4), 6),
            'U' => (hex(8), 10),
            '0'..='7' => {
                let n = chars[i + 1..]
                    .iter()
                    .take(3)
                    .take_while(|c| ('0'..='7').contains(*c))
                    .count();
                let digits: String = chars[i + 1..i + 1 + n].iter().collect();
                (
                    u32::from_str_radix(&digits, 8)
                        .ok()
                        .and_then(char::from_u32),
                    n + 1,
                )
            }
            _ => (None, 0),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                i += used;
            }
            None => {
                out.push('\\');
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<Tok> {
        tokenize(text)
            .unwrap()
            .into_iter()
            .map(|t| t.kind)
            .collect()
    }

    #[test]
    fn tokens_follow_yaql() {
        assert_eq!(
            kinds("$.data.x.where($ >= 1.5) -> not $y"),
            vec![
                Tok::Dollar(String::new()),
                Tok::Op("."),
                Tok::Keyword("data".into()),
                Tok::Op("."),
                Tok::Keyword("x".into()),
                Tok::Op("."),
                Tok::Func("where".into()),
                Tok::Dollar(String::new()),
                Tok::Op(">="),
                Tok::Float(1.5),
                Tok::RParen,
                Tok::Op("->"),
                Tok::Op("not"),
                Tok::Dollar("y".into()),
            ]
        );
        assert_eq!(
            kinds(r"'a\nb\d' `x\`y` 1.x"),
            vec![
                Tok::Str("a\nb\\d".into()),
                Tok::Str("x`y".into()),
                Tok::Int(1),
                Tok::Op("."),
                Tok::Keyword("x".into()),
            ]
        );
        assert!(tokenize("a # b").is_err());
    }
}
