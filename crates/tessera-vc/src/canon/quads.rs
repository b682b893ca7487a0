//! An owned RDF quad model, its N-Quads serialisation, and a strict N-Quads parser.
//!
//! Both expansion paths (the general `json-ld` one and the compiled one) produce these quads, and
//! the RDFC-1.0 step consumes them, so the two paths can be compared quad for quad.

use std::fmt::Write as _;

use super::CanonError;

/// `http://www.w3.org/2001/XMLSchema#string`: a literal with this datatype is written without it.
pub(crate) const XSD_STRING: &str = "http://www.w3.org/2001/XMLSchema#string";

/// An RDF term.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Term {
    /// An absolute IRI (without angle brackets).
    Iri(String),
    /// A blank node label (without `_:`).
    Blank(String),
    /// A literal with a datatype IRI.
    Typed { value: String, datatype: String },
    /// A language-tagged string (tag as written; lowercased on output).
    Lang { value: String, lang: String },
}

/// An RDF quad; `g` is `None` for the default graph.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Quad {
    pub s: Term,
    pub p: Term,
    pub o: Term,
    pub g: Option<Term>,
}

/// Append `t` in canonical N-Quads form (RDFC-1.0 §4.6 / N-Quads canonical escaping).
pub(crate) fn write_term(out: &mut String, t: &Term) {
    match t {
        Term::Iri(i) => {
            out.push('<');
            out.push_str(i);
            out.push('>');
        }
        Term::Blank(b) => {
            out.push_str("_:");
            out.push_str(b);
        }
        Term::Typed { value, datatype } => {
            write_string(out, value);
            if datatype != XSD_STRING {
                out.push_str("^^<");
                out.push_str(datatype);
                out.push('>');
            }
        }
        Term::Lang { value, lang } => {
            write_string(out, value);
            out.push('@');
            out.push_str(&lang.to_ascii_lowercase());
        }
    }
}

fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\x7f' => out.push_str("\\u007F"),
            c if c <= '\x1f' => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Serialise quads as N-Quads lines, in the given order.
pub(crate) fn to_nquads_string(quads: &[Quad]) -> String {
    let mut out = String::new();
    for q in quads {
        write_quad(&mut out, q);
    }
    out
}

pub(crate) fn write_quad(out: &mut String, q: &Quad) {
    write_term(out, &q.s);
    out.push(' ');
    write_term(out, &q.p);
    out.push(' ');
    write_term(out, &q.o);
    out.push(' ');
    if let Some(g) = &q.g {
        write_term(out, g);
        out.push(' ');
    }
    out.push_str(".\n");
}

/// Parse an N-Quads document (RDF 1.1 N-Quads grammar; no RDF 1.2 triple terms or directions).
pub(crate) fn parse_nquads(text: &str) -> Result<Vec<Quad>, CanonError> {
    let mut quads = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let mut p = Parser {
            s: line.as_bytes(),
            src: line,
            i: 0,
            line: n + 1,
        };
        p.ws();
        if p.at_end() || p.peek() == Some(b'#') {
            continue;
        }
        let s = p.subject()?;
        p.ws();
        let pred = Term::Iri(p.iri()?);
        p.ws();
        let o = p.object()?;
        p.ws();
        let g = if p.peek() == Some(b'.') {
            None
        } else {
            let g = p.subject()?;
            p.ws();
            Some(g)
        };
        p.expect(b'.')?;
        p.ws();
        if !(p.at_end() || p.peek() == Some(b'#')) {
            return Err(p.err("unexpected text after '.'"));
        }
        quads.push(Quad { s, p: pred, o, g });
    }
    Ok(quads)
}

struct Parser<'a> {
    s: &'a [u8],
    src: &'a str,
    i: usize,
    line: usize,
}

impl Parser<'_> {
    fn err(&self, what: &str) -> CanonError {
        CanonError::InvalidNQuads {
            line: self.line,
            reason: format!("{what} at column {}", self.i + 1),
        }
    }
    fn at_end(&self) -> bool {
        self.i >= self.s.len()
    }
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.i += 1;
        }
    }
    fn expect(&mut self, c: u8) -> Result<(), CanonError> {
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(self.err(&format!("expected '{}'", c as char)))
        }
    }
    fn subject(&mut self) -> Result<Term, CanonError> {
        match self.peek() {
            Some(b'<') => Ok(Term::Iri(self.iri()?)),
            Some(b'_') => Ok(Term::Blank(self.blank()?)),
            _ => Err(self.err("expected an IRI or a blank node")),
        }
    }
    fn object(&mut self) -> Result<Term, CanonError> {
        match self.peek() {
            Some(b'"') => self.literal(),
            _ => self.subject(),
        }
    }
    fn iri(&mut self) -> Result<String, CanonError> {
        self.expect(b'<')?;
        let mut out = String::new();
        loop {
            let c = self.next_char()?;
            match c {
                '>' => break,
                '\\' => out.push(self.uchar()?),
                c if c <= ' ' || matches!(c, '<' | '"' | '{' | '}' | '|' | '^' | '`') => {
                    return Err(self.err("invalid character in IRI"));
                }
                c => out.push(c),
            }
        }
        // N-Quads IRIs are absolute: a scheme followed by ':'.
        let scheme_ok = out.find(':').is_some_and(|k| {
            k > 0
                && out.as_bytes()[0].is_ascii_alphabetic()
                && out.as_bytes()[..k]
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
        });
        if !scheme_ok {
            return Err(self.err("relative IRI"));
        }
        Ok(out)
    }
    fn blank(&mut self) -> Result<String, CanonError> {
        self.expect(b'_')?;
        self.expect(b':')?;
        let start = self.i;
        while let Some(b) = self.peek() {
            if b == b' ' || b == b'\t' || b == b'<' || b == b'"' || b == b'#' {
                break;
            }
            self.i += 1;
        }
        // A label may contain '.', but not end with one (the '.' is then the statement end).
        while self.i > start && self.s[self.i - 1] == b'.' {
            self.i -= 1;
        }
        if self.i == start {
            return Err(self.err("empty blank node label"));
        }
        Ok(self.src[start..self.i].to_owned())
    }
    fn literal(&mut self) -> Result<Term, CanonError> {
        self.expect(b'"')?;
        let mut value = String::new();
        loop {
            let c = self.next_char()?;
            match c {
                '"' => break,
                '\\' => {
                    let e = self.next_char()?;
                    match e {
                        't' => value.push('\t'),
                        'b' => value.push('\x08'),
                        'n' => value.push('\n'),
                        'r' => value.push('\r'),
                        'f' => value.push('\x0c'),
                        '"' => value.push('"'),
                        '\'' => value.push('\''),
                        '\\' => value.push('\\'),
                        'u' | 'U' => {
                            self.i -= 1;
                            value.push(self.uchar_body()?);
                        }
                        _ => return Err(self.err("invalid escape")),
                    }
                }
                '\n' | '\r' => return Err(self.err("raw line break in literal")),
                c => value.push(c),
            }
        }
        match self.peek() {
            Some(b'^') => {
                self.expect(b'^')?;
                self.expect(b'^')?;
                let datatype = self.iri()?;
                Ok(Term::Typed { value, datatype })
            }
            Some(b'@') => {
                self.i += 1;
                let start = self.i;
                while let Some(b) = self.peek() {
                    if b.is_ascii_alphanumeric() || b == b'-' {
                        self.i += 1;
                    } else {
                        break;
                    }
                }
                if self.i == start {
                    return Err(self.err("empty language tag"));
                }
                Ok(Term::Lang {
                    value,
                    lang: self.src[start..self.i].to_owned(),
                })
            }
            _ => Ok(Term::Typed {
                value,
                datatype: XSD_STRING.to_owned(),
            }),
        }
    }
    fn next_char(&mut self) -> Result<char, CanonError> {
        let rest = self.src.get(self.i..).unwrap_or("");
        let c = rest
            .chars()
            .next()
            .ok_or_else(|| self.err("unexpected end of line"))?;
        self.i += c.len_utf8();
        Ok(c)
    }
    /// After a backslash in an IRI: `uXXXX` or `UXXXXXXXX`.
    fn uchar(&mut self) -> Result<char, CanonError> {
        self.uchar_body()
    }
    fn uchar_body(&mut self) -> Result<char, CanonError> {
        let n = match self.next_char()? {
            'u' => 4,
            'U' => 8,
            _ => return Err(self.err("invalid escape")),
        };
        let hex = self
            .src
            .get(self.i..self.i + n)
            .ok_or_else(|| self.err("short \\u escape"))?;
        let code = u32::from_str_radix(hex, 16).map_err(|_| self.err("bad \\u escape"))?;
        self.i += n;
        char::from_u32(code).ok_or_else(|| self.err("\\u escape is not a character"))
    }
}
