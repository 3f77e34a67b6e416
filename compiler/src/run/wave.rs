//! WAVE, the WebAssembly Value Encoding (the syntax of `wasmtime run --invoke`): parse a
//! function call `name(arg, ...)` and its arguments, guided by the parameter types.
//!
//! Values: `true`/`false`, integers (`-1`, `42`), floats (`1.5`, `nan`, `inf`, `-inf`), chars
//! (`'x'`, with `\n \t \\ \' \" \u{..}` escapes), strings (`"..."`), lists `[a, b]`, tuples
//! `(a, b)`, records `{field: v, ...}`, variants `case` / `case(payload)`, enums `case`, options
//! `some(v)` / `none`, results `ok` / `ok(v)` / `err` / `err(v)`, flags `{a, b}`. A fixed-length
//! list `list<T, N>` is a list of exactly N values; WAVE has no map syntax, so a `map<K, V>` is
//! written as what the Canonical ABI makes of it, a list of `(key, value)` tuples. A label that is
//! a keyword is written with a `%` prefix (`%none`). Printing is `Val`'s `Display`.

use weld_contract::component::TypeDef;
use weld_runtime::component::Val;

/// A parse error with a byte position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaveError {
    /// What went wrong.
    pub message: String,
    /// Byte position in the input.
    pub pos: usize,
}

impl std::fmt::Display for WaveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at position {}", self.message, self.pos)
    }
}

type R<T> = Result<T, WaveError>;

/// A call expression: function name and the raw text of each argument (split at top level).
pub fn split_call(expr: &str) -> R<(String, Vec<(usize, String)>)> {
    let expr = expr.trim();
    let open = expr.find('(').ok_or(WaveError {
        message: "expected `name(args...)`".into(),
        pos: expr.len(),
    })?;
    if !expr.ends_with(')') {
        return Err(WaveError {
            message: "expected `)` at the end".into(),
            pos: expr.len(),
        });
    }
    let name = expr[..open].trim().trim_start_matches('%').to_string();
    let inner = &expr[open + 1..expr.len() - 1];
    let mut args = Vec::new();
    let (mut depth, mut start, mut quote) = (0i32, 0usize, None::<char>);
    let mut escaped = false;
    for (i, c) in inner.char_indices() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '"' | '\'' => quote = Some(c),
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            ',' if depth == 0 => {
                args.push((open + 1 + start, inner[start..i].trim().to_string()));
                start = i + 1;
            }
            _ => {}
        }
    }
    let last = inner[start..].trim();
    if !last.is_empty() {
        args.push((open + 1 + start, last.to_string()));
    }
    Ok((name, args))
}

/// Parse one value of type `ty` (an index into `types`).
pub fn parse_value(text: &str, types: &[TypeDef], ty: u32) -> R<Val> {
    let mut p = Parser { s: text, pos: 0 };
    let v = p.value(types, ty)?;
    p.ws();
    if p.pos != text.len() {
        return Err(p.err("trailing characters"));
    }
    Ok(v)
}

struct Parser<'a> {
    s: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn err(&self, m: &str) -> WaveError {
        WaveError {
            message: m.to_string(),
            pos: self.pos,
        }
    }
    fn ws(&mut self) {
        while let Some(c) = self.peek() {
            if c.is_whitespace() {
                self.pos += c.len_utf8();
            } else {
                break;
            }
        }
    }
    fn peek(&self) -> Option<char> {
        self.s[self.pos..].chars().next()
    }
    fn eat(&mut self, c: char) -> bool {
        self.ws();
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }
    fn expect(&mut self, c: char) -> R<()> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(self.err(&format!("expected `{c}`")))
        }
    }
    /// A label or keyword: letters, digits, `-`, with an optional `%` prefix.
    fn label(&mut self) -> R<String> {
        self.ws();
        let _ = self.eat('%');
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                self.pos += 1;
            } else {
                break;
            }
        }
        if start == self.pos {
            return Err(self.err("expected a name"));
        }
        Ok(self.s[start..self.pos].to_string())
    }
    fn number(&mut self) -> R<&str> {
        self.ws();
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '+' | '.' | '_') {
                self.pos += 1;
            } else {
                break;
            }
        }
        Ok(&self.s[start..self.pos])
    }
    fn int<T: std::str::FromStr>(&mut self) -> R<T> {
        let t = self.number()?.replace('_', "");
        t.parse()
            .map_err(|_| self.err(&format!("`{t}` is not a valid integer of this type")))
    }
    fn float(&mut self) -> R<f64> {
        let t = self.number()?.replace('_', "");
        match t.as_str() {
            "nan" => Ok(f64::NAN),
            "inf" => Ok(f64::INFINITY),
            "-inf" => Ok(f64::NEG_INFINITY),
            _ => t
                .parse()
                .map_err(|_| self.err(&format!("`{t}` is not a number"))),
        }
    }
    fn quoted(&mut self, q: char) -> R<String> {
        self.ws();
        if !self.eat(q) {
            return Err(self.err(&format!("expected `{q}`")));
        }
        let mut out = String::new();
        loop {
            let c = self.peek().ok_or_else(|| self.err("unterminated quote"))?;
            self.pos += c.len_utf8();
            match c {
                c if c == q => return Ok(out),
                '\\' => {
                    let e = self.peek().ok_or_else(|| self.err("unterminated escape"))?;
                    self.pos += e.len_utf8();
                    out.push(match e {
                        'n' => '\n',
                        't' => '\t',
                        'r' => '\r',
                        '\\' | '\'' | '"' => e,
                        'u' => {
                            self.expect('{')?;
                            let start = self.pos;
                            while self.peek().is_some_and(|c| c.is_ascii_hexdigit()) {
                                self.pos += 1;
                            }
                            let hex = &self.s[start..self.pos];
                            let v = u32::from_str_radix(hex, 16)
                                .map_err(|_| self.err("bad \\u escape"))?;
                            self.expect('}')?;
                            char::from_u32(v)
                                .ok_or_else(|| self.err("not a Unicode scalar value"))?
                        }
                        _ => return Err(self.err("unknown escape")),
                    });
                }
                c => out.push(c),
            }
        }
    }
    /// `[a, b, ...]` (a trailing comma allowed).
    fn list(&mut self, types: &[TypeDef], elem: u32) -> R<Vec<Val>> {
        self.expect('[')?;
        let mut items = Vec::new();
        if !self.eat(']') {
            loop {
                items.push(self.value(types, elem)?);
                if self.eat(']') {
                    break;
                }
                self.expect(',')?;
                if self.eat(']') {
                    break;
                }
            }
        }
        Ok(items)
    }
    fn payload(&mut self, types: &[TypeDef], ty: Option<u32>) -> R<Option<Box<Val>>> {
        match ty {
            Some(t) => {
                self.expect('(')?;
                let v = self.value(types, t)?;
                self.expect(')')?;
                Ok(Some(Box::new(v)))
            }
            None => Ok(None),
        }
    }
    fn value(&mut self, types: &[TypeDef], ty: u32) -> R<Val> {
        let def = types
            .get(ty as usize)
            .ok_or_else(|| self.err("type index out of range"))?;
        self.ws();
        Ok(match def {
            TypeDef::Bool => match self.label()?.as_str() {
                "true" => Val::Bool(true),
                "false" => Val::Bool(false),
                _ => return Err(self.err("expected `true` or `false`")),
            },
            TypeDef::S8 => Val::S8(self.int()?),
            TypeDef::U8 => Val::U8(self.int()?),
            TypeDef::S16 => Val::S16(self.int()?),
            TypeDef::U16 => Val::U16(self.int()?),
            TypeDef::S32 => Val::S32(self.int()?),
            TypeDef::U32 => Val::U32(self.int()?),
            TypeDef::S64 => Val::S64(self.int()?),
            TypeDef::U64 => Val::U64(self.int()?),
            TypeDef::F32 => Val::F32(self.float()? as f32),
            TypeDef::F64 => Val::F64(self.float()?),
            TypeDef::Char => {
                let s = self.quoted('\'')?;
                let mut it = s.chars();
                match (it.next(), it.next()) {
                    (Some(c), None) => Val::Char(c),
                    _ => return Err(self.err("a char literal holds exactly one character")),
                }
            }
            TypeDef::String => Val::String(self.quoted('"')?),
            TypeDef::List(e) | TypeDef::Map { entry: e } => Val::List(self.list(types, *e)?),
            TypeDef::FixedList { elem, len } => {
                let at = self.pos;
                let items = self.list(types, *elem)?;
                if items.len() != *len as usize {
                    return Err(WaveError {
                        message: format!(
                            "expected a list of {len} elements, found {}",
                            items.len()
                        ),
                        pos: at,
                    });
                }
                Val::List(items)
            }
            TypeDef::Tuple(ts) => {
                self.expect('(')?;
                let mut items = Vec::new();
                for (i, t) in ts.iter().enumerate() {
                    if i > 0 {
                        self.expect(',')?;
                    }
                    items.push(self.value(types, *t)?);
                }
                let _ = self.eat(',');
                self.expect(')')?;
                Val::Tuple(items)
            }
            TypeDef::Record(fields) => {
                self.expect('{')?;
                let mut got: Vec<(String, Val)> = Vec::new();
                // `{:}`: a record whose fields are all left out (all options, all `none`).
                if self.eat(':') {
                    self.expect('}')?;
                } else {
                    while !self.eat('}') {
                        let name = self.label()?;
                        self.expect(':')?;
                        let Some((_, t)) = fields.iter().find(|(n, _)| *n == name) else {
                            return Err(self.err(&format!("no field `{name}`")));
                        };
                        got.push((name, self.value(types, *t)?));
                        if !self.eat(',') {
                            self.expect('}')?;
                            break;
                        }
                    }
                }
                let mut out = Vec::new();
                for (n, t) in fields {
                    match got.iter().position(|(g, _)| g == n) {
                        Some(i) => out.push(got.swap_remove(i)),
                        None => match &types[*t as usize] {
                            TypeDef::Option(_) => out.push((n.clone(), Val::Option(None))),
                            _ => return Err(self.err(&format!("missing field `{n}`"))),
                        },
                    }
                }
                Val::Record(out)
            }
            TypeDef::Variant(cases) => {
                let name = self.label()?;
                let Some((_, t)) = cases.iter().find(|(n, _)| *n == name) else {
                    return Err(self.err(&format!("no case `{name}`")));
                };
                Val::Variant(name, self.payload(types, *t)?)
            }
            TypeDef::Enum(cases) => {
                let name = self.label()?;
                if !cases.contains(&name) {
                    return Err(self.err(&format!("no case `{name}`")));
                }
                Val::Enum(name)
            }
            TypeDef::Option(t) => match self.label()?.as_str() {
                "none" => Val::Option(None),
                "some" => Val::Option(self.payload(types, Some(*t))?),
                _ => return Err(self.err("expected `some(...)` or `none`")),
            },
            TypeDef::Result { ok, err } => match self.label()?.as_str() {
                "ok" => Val::Result(Ok(self.payload(types, *ok)?)),
                "err" => Val::Result(Err(self.payload(types, *err)?)),
                _ => return Err(self.err("expected `ok` or `err`")),
            },
            TypeDef::Flags(names) => {
                self.expect('{')?;
                let mut set = Vec::new();
                while !self.eat('}') {
                    let n = self.label()?;
                    if !names.contains(&n) {
                        return Err(self.err(&format!("no flag `{n}`")));
                    }
                    set.push(n);
                    if !self.eat(',') {
                        self.expect('}')?;
                        break;
                    }
                }
                Val::Flags(set)
            }
            TypeDef::Own(_) | TypeDef::Borrow(_) => {
                return Err(self.err("resources cannot be written in WAVE"))
            }
            TypeDef::Stream(_) | TypeDef::Future(_) | TypeDef::ErrorContext => {
                return Err(
                    self.err("streams, futures and error contexts cannot be written in WAVE")
                )
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn types() -> Vec<TypeDef> {
        vec![
            TypeDef::U32,                                              // 0
            TypeDef::String,                                           // 1
            TypeDef::List(0),                                          // 2
            TypeDef::Record(vec![("a".into(), 0), ("b-c".into(), 1)]), // 3
            TypeDef::Option(0),                                        // 4
            TypeDef::Result {
                ok: Some(1),
                err: None,
            }, // 5
            TypeDef::Flags(vec!["read".into(), "write".into()]),       // 6
            TypeDef::Char,                                             // 7
            TypeDef::Variant(vec![("none".into(), None), ("x".into(), Some(0))]), // 8
            TypeDef::Record(vec![("p".into(), 4), ("q".into(), 4)]),   // 9
            TypeDef::FixedList { elem: 0, len: 3 },                    // 10
            TypeDef::Tuple(vec![1, 0]),                                // 11
            TypeDef::Map { entry: 11 },                                // 12
        ]
    }

    #[test]
    fn values_parse_by_type_and_print_back() {
        let t = types();
        for (src, ty) in [
            ("[1, 2, 3]", 2),
            ("{a: 7, b-c: \"hi\\n\"}", 3),
            ("some(4)", 4),
            ("none", 4),
            ("ok(\"x\")", 5),
            ("err", 5),
            ("{read, write}", 6),
            ("'☃'", 7),
            ("%none", 8),
            ("x(3)", 8),
            ("{:}", 9),
            ("{q: some(2)}", 9),
            ("\"it\\'s \\u{301}\"", 1),
            ("[4, 5, 6]", 10),
            ("[(\"a\", 1), (\"b\", 2)]", 12),
            ("[]", 12),
        ] {
            let v = parse_value(src, &t, ty).unwrap_or_else(|e| panic!("{src}: {e}"));
            let printed = v.to_string();
            let again = parse_value(&printed, &t, ty).unwrap_or_else(|e| panic!("{printed}: {e}"));
            assert_eq!(v, again, "{src} printed as {printed}");
        }
    }

    #[test]
    fn calls_split_at_top_level_commas_only() {
        let (name, args) = split_call(r#"greet("a, b", [1, 2], {x: 1})"#).expect("call");
        assert_eq!(name, "greet");
        let args: Vec<String> = args.into_iter().map(|(_, a)| a).collect();
        assert_eq!(args, vec![r#""a, b""#, "[1, 2]", "{x: 1}"]);
        assert!(split_call("nope").is_err());
    }

    #[test]
    fn wrong_values_are_errors_with_positions() {
        let t = types();
        let e = parse_value("{a: 1}", &t, 3).expect_err("missing field");
        assert!(e.message.contains("missing field"), "{e}");
        assert!(parse_value("300", &t, 7).is_err());
        assert!(parse_value("4294967296", &t, 0).is_err());
        let e = parse_value("[1, 2]", &t, 10).expect_err("two of three");
        assert!(e.message.contains("3 elements, found 2"), "{e}");
        assert!(parse_value("[1, 2, 3, 4]", &t, 10).is_err());
        assert!(parse_value("[(1, \"a\")]", &t, 12).is_err(), "key first");
    }
}
