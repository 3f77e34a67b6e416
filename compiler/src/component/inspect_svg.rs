//! `weld inspect -o graph.svg`: draw the component graph as SVG without Graphviz.
//!
//! The DOT text of [`super::inspect_render::dot`] is laid out and drawn by the `layout-rs`
//! crate (a pure-Rust Sugiyama-style layout), so the picture and `--format dot` always show the
//! same graph. The crate is not written to be panic-free, so it runs under `catch_unwind` and a
//! failure becomes a typed error.

use super::inspect_graph::Graph;
use crate::error::{Error, Result};
use layout::backends::svg::SVGWriter;
use layout::gv::{DotParser, GraphBuilder};

/// An SVG document for a graph with nothing to draw.
const EMPTY: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\
<svg width=\"200\" height=\"40\" viewBox=\"0 0 200 40\" xmlns=\"http://www.w3.org/2000/svg\">\
<text x=\"10\" y=\"25\">empty component graph</text></svg>\n";

/// The graph as an SVG document.
pub fn svg(g: &Graph) -> Result<String> {
    let dot = super::inspect_render::dot(g);
    if !dot.lines().any(|l| l.contains(" [label=")) {
        return Ok(EMPTY.to_string());
    }
    let drawn = std::panic::catch_unwind(|| {
        let mut parser = DotParser::new(&dot);
        let ast = parser.process()?;
        let mut builder = GraphBuilder::new();
        builder.visit_graph(&ast);
        let mut vg = builder.get();
        let mut writer = SVGWriter::new();
        vg.do_it(false, false, false, &mut writer);
        Ok::<String, String>(writer.finalize())
    });
    match drawn {
        Ok(Ok(mut s)) => {
            s.push('\n');
            Ok(s)
        }
        Ok(Err(e)) => Err(Error::Render(format!("the DOT text was not accepted: {e}"))),
        Err(_) => Err(Error::Render(
            "the layout engine failed on this graph".into(),
        )),
    }
}
