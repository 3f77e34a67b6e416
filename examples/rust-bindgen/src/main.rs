//! The text-lib component, compiled into this binary by build.rs, called through the Rust
//! bindings weld generated from its WIT world: records are structs, variants and enums are
//! enums, flags are bit sets, the resource `builder` is a handle type, the exports of
//! `example:text/transform` are methods, and the world's `log` import is a trait this program
//! implements.

weld_host::bindgen!("text");

use example::text::transform::{CharClass, Span, Style, Token};

/// The host side of the world's imports.
struct Logger {
    lines: usize,
}

impl TextImports for Logger {
    fn log(&mut self, msg: String) {
        self.lines += 1;
        println!("[log] {msg}");
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let plugin = weld_host::Plugin::linked("text")?;
    let logger = std::rc::Rc::new(std::cell::RefCell::new(Logger { lines: 0 }));
    let mut text = Text::instantiate_with(&plugin, logger.clone(), weld_host::HostImports::new())?;
    let mut t = text.example_text_transform();
    println!("upper = {}", t.upper("Hello, wit".into())?);
    let classes: Vec<CharClass> = "A7 ?"
        .chars()
        .map(|c| t.classify(c))
        .collect::<Result<_, _>>()?;
    println!("classify = {classes:?}");
    let span: Option<Span> = t.first_span("abc12".into())?;
    println!("first-span(\"abc12\") = {span:?}");
    for s in ["", "2026", "wit"] {
        let token: Token = t.token_of(s.into())?;
        println!("token-of({s:?}) = {token:?}");
    }
    for s in ["7", "x"] {
        println!("parse-digit({s:?}) = {:?}", t.parse_digit(s.into())?);
    }
    let style = Style::BOLD | Style::UNDERLINE;
    println!(
        "count-styles(bold|underline) = {} (italic: {})",
        t.count_styles(style)?,
        style.contains(Style::ITALIC)
    );
    let b = t.builder_new("ab".into())?;
    t.builder_append(&b, "cd".into())?;
    println!(
        "builder: length {}, text {:?}",
        t.builder_length(&b)?,
        t.builder_finish(&b)?
    );
    let parts = t.builder_from_parts("x".into(), "yz".into())?;
    println!("from-parts: text {:?}", t.builder_finish(&parts)?);
    println!("log lines: {}", logger.borrow().lines);
    Ok(())
}
