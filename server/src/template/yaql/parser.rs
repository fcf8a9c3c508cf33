//! A Pratt parser for yaql's grammar, with yaql's operator table (tightest first):
//! `.` `?.` · indexer `[…]` · unary `+` `-` · `=~` `!~` · `*` `/` `mod` · `+` `-` ·
//! comparisons, `=`, `!=`, `in` · `not` · `and` · `or` · `->` (right-associative).
//! `=>` only appears inside argument lists, list and map literals.

use super::YaqlError;
use super::lexer::{Tok, Token, tokenize};

/// Deepest nesting of an expression (keeps evaluation recursion bounded).
const MAX_NESTING: usize = 100;

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Null,
    /// A bare word: evaluates to its text; names a keyword argument or a key after `.`.
    Keyword(String),
    /// `$name` (normalised: `$` is `$1`).
    Var(String),
    /// `name(args)`; with a receiver when it is the right side of `.`.
    Call(String, Vec<Arg>),
    /// `(expr)`: as yaql's Wrap, never a method call on the left of it.
    Wrap(Box<Expr>),
    Unary(&'static str, Box<Expr>),
    Binary(&'static str, Box<Expr>, Box<Expr>),
    Index(Box<Expr>, Vec<Arg>),
    List(Vec<Arg>),
    Map(Vec<Arg>),
}

/// A call argument: positional, or `source => destination`.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Pos(Expr),
    Named(Expr, Expr),
}

/// Parses an expression.
pub fn parse(text: &str) -> Result<Expr, YaqlError> {
    let tokens = tokenize(text)?;
    let mut p = Parser {
        tokens,
        i: 0,
        depth: 0,
    };
    let expr = p.expr(0)?;
    match p.tokens.get(p.i) {
        None => Ok(expr),
        Some(t) => Err(p.unexpected(t.pos)),
    }
}

struct Parser {
    tokens: Vec<Token>,
    i: usize,
    depth: usize,
}

/// Binding power of a binary operator: (left, right).
fn infix(op: &str) -> Option<(u8, u8)> {
    Some(match op {
        "->" => (10, 9),
        "or" => (20, 21),
        "and" => (30, 31),
        ">" | "<" | ">=" | "<=" | "!=" | "=" | "in" => (50, 51),
        "+" | "-" => (60, 61),
        "*" | "/" | "mod" => (70, 71),
        "=~" | "!~" => (80, 81),
        "." | "?." => (110, 111),
        _ => return None,
    })
}
const NOT_BP: u8 = 40;
const UNARY_BP: u8 = 90;
const INDEX_BP: u8 = 100;

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.i).map(|t| &t.kind)
    }

    fn pos(&self) -> usize {
        self.tokens.get(self.i).map_or(usize::MAX, |t| t.pos)
    }

    fn unexpected(&self, pos: usize) -> YaqlError {
        if pos == usize::MAX {
            YaqlError::syntax("Parse error: unexpected end of statement")
        } else {
            YaqlError::syntax(format!("Parse error: unexpected token at position {pos}"))
        }
    }

    fn expect(&mut self, tok: &Tok) -> Result<(), YaqlError> {
        if self.peek() == Some(tok) {
            self.i += 1;
            Ok(())
        } else {
            Err(self.unexpected(self.pos()))
        }
    }

    fn expr(&mut self, min_bp: u8) -> Result<Expr, YaqlError> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(YaqlError::syntax("expression nested too deeply"));
        }
        let mut left = self.prefix()?;
        loop {
            match self.peek() {
                Some(Tok::LBracket) if INDEX_BP >= min_bp => {
                    self.i += 1;
                    let args = self.args(&Tok::RBracket)?;
                    left = Expr::Index(Box::new(left), args);
                }
                Some(Tok::Op(op)) => {
                    let op = *op;
                    let Some((l, r)) = infix(op) else { break };
                    if l < min_bp {
                        break;
                    }
                    self.i += 1;
                    let right = self.expr(r)?;
                    left = Expr::Binary(op, Box::new(left), Box::new(right));
                }
                _ => break,
            }
        }
        self.depth -= 1;
        Ok(left)
    }

    fn prefix(&mut self) -> Result<Expr, YaqlError> {
        let pos = self.pos();
        let Some(tok) = self.peek().cloned() else {
            return Err(self.unexpected(pos));
        };
        self.i += 1;
        Ok(match tok {
            Tok::Dollar(name) => Expr::Var(if name.is_empty() { "1".into() } else { name }),
            Tok::Int(n) => Expr::Int(n),
            Tok::Float(f) => Expr::Float(f),
            Tok::Str(s) => Expr::Str(s),
            Tok::Keyword(k) => Expr::Keyword(k),
            Tok::True => Expr::Bool(true),
            Tok::False => Expr::Bool(false),
            Tok::Null => Expr::Null,
            Tok::Func(name) => Expr::Call(name, self.args(&Tok::RParen)?),
            Tok::LParen => {
                let inner = self.expr(0)?;
                self.expect(&Tok::RParen)?;
                Expr::Wrap(Box::new(inner))
            }
            Tok::LBracket => Expr::List(self.args(&Tok::RBracket)?),
            Tok::LBrace => Expr::Map(self.args(&Tok::RBrace)?),
            Tok::Op(op @ ("+" | "-")) => Expr::Unary(op, Box::new(self.expr(UNARY_BP)?)),
            Tok::Op("not") => Expr::Unary("not", Box::new(self.expr(NOT_BP)?)),
            _ => return Err(self.unexpected(pos)),
        })
    }

    /// Arguments up to and including `close`: values or `value => value`, comma-separated.
    fn args(&mut self, close: &Tok) -> Result<Vec<Arg>, YaqlError> {
        let mut args = Vec::new();
        if self.peek() == Some(close) {
            self.i += 1;
            return Ok(args);
        }
        loop {
            let value = self.expr(0)?;
            if self.peek() == Some(&Tok::Op("=>")) {
                self.i += 1;
                args.push(Arg::Named(value, self.expr(0)?));
            } else {
                args.push(Arg::Pos(value));
            }
            match self.peek() {
                Some(Tok::Comma) => self.i += 1,
                Some(t) if t == close => {
                    self.i += 1;
                    return Ok(args);
                }
                _ => return Err(self.unexpected(self.pos())),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(e: Expr) -> Box<Expr> {
        Box::new(e)
    }

    #[test]
    fn precedence_follows_yaql() {
        let var = || Expr::Var("1".into());
        assert_eq!(
            parse("-$.x").unwrap(),
            Expr::Unary(
                "-",
                b(Expr::Binary(".", b(var()), b(Expr::Keyword("x".into()))))
            )
        );
        assert_eq!(
            parse("not 1 = 2 and true").unwrap(),
            Expr::Binary(
                "and",
                b(Expr::Unary(
                    "not",
                    b(Expr::Binary("=", b(Expr::Int(1)), b(Expr::Int(2))))
                )),
                b(Expr::Bool(true))
            )
        );
        assert_eq!(
            parse("$.a[0]").unwrap(),
            Expr::Index(
                b(Expr::Binary(".", b(var()), b(Expr::Keyword("a".into())))),
                vec![Arg::Pos(Expr::Int(0))]
            )
        );
        assert!(matches!(
            parse("let(x => 1) -> $x -> $").unwrap(),
            Expr::Binary("->", _, right) if matches!(*right, Expr::Binary("->", _, _))
        ));
        assert!(parse("1 +").is_err());
        assert!(parse("f(1").is_err());
        assert!(parse(&"(".repeat(500)).is_err());
    }
}
