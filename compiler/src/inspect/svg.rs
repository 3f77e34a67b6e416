//! `weld inspect -o graph.svg`: the component graph as a picture people can read.
//!
//! In: a [`Graph`]. Out: an SVG document, laid out by Graphviz's `dot` when it is installed
//! (`WELD_DOT=0` says not to), else here. Components are the
//! main nodes, left to right in the direction calls flow: a component's column is the longest
//! chain of calls that reaches it. Host interfaces are grouped into one node per family in the
//! last column (every WASI 0.2 interface in one "WASI 0.2" node, each other package in one),
//! unless `expand` asks for a node per interface. An edge says what crosses it: the interface
//! (or how many), the number of functions, and a string transcoding when the two sides encode
//! strings differently; the full function list is the edge's `<title>`, the tooltip a browser
//! shows. The canvas is the size of its content, with 14 px text.

use super::graph::{Graph, Target};
use std::collections::BTreeMap;
use std::fmt::Write;
use weld_contract::component::StringEncoding;

/// Text size, and the width of an average character of it (sans-serif).
const FONT: f64 = 14.0;
const CHAR_W: f64 = 7.9;
const LINE_H: f64 = 19.0;
const MARGIN: f64 = 24.0;
const ROW_GAP: f64 = 36.0;
const MIN_COL_GAP: f64 = 90.0;
/// Height between the arcs of calls that skip a column.
const ARC_STEP: f64 = 44.0;
/// Room between the components and the host row, and between host nodes.
const HOST_DROP: f64 = 120.0;
const HOST_GAP: f64 = 40.0;

/// A box of the picture: a component instance or a group of host interfaces.
struct Node {
    title: String,
    lines: Vec<String>,
    host: bool,
    tooltip: String,
    column: usize,
    x: f64,
    y: f64,
}

impl Node {
    fn width(&self) -> f64 {
        let chars = self
            .lines
            .iter()
            .chain([&self.title])
            .map(|l| l.chars().count())
            .max();
        chars.unwrap_or(0) as f64 * CHAR_W + 28.0
    }

    fn height(&self) -> f64 {
        (1 + self.lines.len()) as f64 * LINE_H + 14.0
    }
}

/// The calls from one node to another, gathered.
#[derive(Default)]
struct Link {
    /// Interface → its functions.
    interfaces: BTreeMap<String, Vec<String>>,
    /// `caller → callee` encodings where they differ.
    transcodings: Vec<String>,
}

impl Link {
    fn label(&self) -> Vec<String> {
        let functions: usize = self.interfaces.values().map(Vec::len).sum();
        let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
        let mut lines = vec![match self.interfaces.keys().next() {
            Some(i) if self.interfaces.len() == 1 => {
                format!("{i} · {}", plural(functions, "function"))
            }
            _ => format!(
                "{} · {}",
                plural(self.interfaces.len(), "interface"),
                plural(functions, "function")
            ),
        }];
        if !self.transcodings.is_empty() {
            lines.push(format!("strings {}", self.transcodings.join(", ")));
        }
        lines
    }

    fn tooltip(&self) -> String {
        let mut t: Vec<String> = self
            .interfaces
            .iter()
            .map(|(i, fs)| format!("{i}: {}", fs.join(", ")))
            .collect();
        t.extend(self.transcodings.iter().map(|x| format!("strings {x}")));
        t.join("\n")
    }
}

/// Which host node an interface belongs to: its key and title, and its line in that node.
fn host_group(interface: &str, expand: bool) -> (String, String) {
    if expand {
        return (interface.to_string(), interface.to_string());
    }
    let (path, version) = interface.split_once('@').unwrap_or((interface, ""));
    match path.split_once('/') {
        Some((package, iface)) => match package.strip_prefix("wasi:") {
            Some(pkg) if !version.is_empty() => {
                let release = version.splitn(3, '.').take(2).collect::<Vec<_>>().join(".");
                (format!("WASI {release}"), format!("{pkg}/{iface}"))
            }
            _ if version.is_empty() => (package.to_string(), iface.to_string()),
            _ => (format!("{package}@{version}"), iface.to_string()),
        },
        None => ("host".to_string(), interface.to_string()),
    }
}

fn encoding(e: StringEncoding) -> &'static str {
    match e {
        StringEncoding::Utf8 => "utf8",
        StringEncoding::Utf16 => "utf16",
        StringEncoding::CompactUtf16 => "latin1+utf16",
    }
}

/// The graph as an SVG picture; `expand` draws a node per host interface.
pub fn svg(g: &Graph, expand: bool) -> String {
    let mut nodes: Vec<Node> = Vec::new();
    let mut instance_node = BTreeMap::new();
    for (i, inst) in g.instances.iter().enumerate() {
        let i = i as u32;
        let used = g
            .edges
            .iter()
            .any(|e| e.from == i || e.to == Target::Instance(i));
        if !used && inst.names.core_instances.is_empty() {
            continue;
        }
        let mut lines = Vec::new();
        if let Some(d) = inst
            .names
            .definition
            .as_ref()
            .filter(|d| **d != inst.names.name)
        {
            lines.push(format!("(component {d})"));
        }
        instance_node.insert(i, nodes.len());
        nodes.push(Node {
            title: inst.path.clone(),
            lines,
            host: false,
            tooltip: format!("exports: {}", inst.names.exports.join(", ")),
            column: 0,
            x: 0.0,
            y: 0.0,
        });
    }
    let mut host_node: BTreeMap<String, usize> = BTreeMap::new();
    for interface in g.hosts.keys() {
        let (key, line) = host_group(interface, expand);
        let at = *host_node.entry(key.clone()).or_insert_with(|| {
            nodes.push(Node {
                title: if expand { "host".into() } else { key.clone() },
                lines: Vec::new(),
                host: true,
                tooltip: String::new(),
                column: 0,
                x: 0.0,
                y: 0.0,
            });
            nodes.len() - 1
        });
        nodes[at].lines.push(line);
        let functions = g.hosts.get(interface).map_or(0, Vec::len);
        let s = if functions == 1 { "" } else { "s" };
        let _ = writeln!(nodes[at].tooltip, "{interface} ({functions} function{s})");
    }
    let mut links: BTreeMap<(usize, usize), Link> = BTreeMap::new();
    for e in &g.edges {
        let Some(&from) = instance_node.get(&e.from) else {
            continue;
        };
        let to = match &e.to {
            Target::Instance(i) => instance_node.get(i).copied(),
            Target::Host(h) => host_node.get(&host_group(h, expand).0).copied(),
        };
        let Some(to) = to else { continue };
        let link = links.entry((from, to)).or_default();
        // Within a host node, an interface is named as the node lists it.
        let shown = match &e.to {
            Target::Host(h) => host_group(h, expand).1,
            Target::Instance(_) => e.interface.clone(),
        };
        let fs = link.interfaces.entry(shown).or_default();
        for c in &e.calls {
            fs.push(
                c.function
                    .split_once('#')
                    .map_or(c.function.clone(), |x| x.1.to_string()),
            );
            if let Some(callee) = c.callee_encoding.filter(|e| *e != c.caller_encoding) {
                let t = format!("{} → {}", encoding(c.caller_encoding), encoding(callee));
                if !link.transcodings.contains(&t) {
                    link.transcodings.push(t);
                }
            }
        }
    }
    if let Some(svg) = graphviz(&nodes, &links) {
        return svg;
    }
    place(&mut nodes, &links);
    draw(&nodes, &links)
}

/// The same nodes and edges laid out and drawn by Graphviz's `dot`, with the tooltips made
/// `<title>`s; `None` when `dot` is not installed, `WELD_DOT=0`, the graph is too big to wait
/// for, or `dot` fails (then the picture is drawn here).
fn graphviz(nodes: &[Node], links: &BTreeMap<(usize, usize), Link>) -> Option<String> {
    use std::io::Write as _;
    if std::env::var("WELD_DOT").as_deref() == Ok("0") || nodes.len() > 400 {
        return None;
    }
    let mut dot = String::from(
        "digraph weld {\n  rankdir=TB; nodesep=0.5; ranksep=0.8;\n  \
         node [shape=box, style=\"rounded,filled\", fontname=\"sans-serif\", fontsize=14];\n  \
         edge [fontname=\"sans-serif\", fontsize=13, color=\"#555555\"];\n",
    );
    for (i, n) in nodes.iter().enumerate() {
        let mut label = format!("<b>{}</b>", esc(&n.title));
        for l in &n.lines {
            let _ = write!(label, "<br/>{}", esc(l));
        }
        let (fill, stroke, class) = if n.host {
            ("#eef3fb", "#6b88b8", "host")
        } else {
            ("#fdf5e6", "#b8893b", "component")
        };
        let _ = writeln!(
            dot,
            "  n{i} [label=<{label}>, fillcolor=\"{fill}\", color=\"{stroke}\", class=\"{class}\"];"
        );
    }
    let hosts: Vec<String> = (0..nodes.len())
        .filter(|i| nodes[*i].host)
        .map(|i| format!("n{i}"))
        .collect();
    if !hosts.is_empty() {
        let _ = writeln!(dot, "  {{ rank=sink; {}; }}", hosts.join("; "));
    }
    for ((a, b), link) in links {
        let label: Vec<String> = link.label().iter().map(|l| esc(l)).collect();
        let _ = writeln!(dot, "  n{a} -> n{b} [label=<{}>];", label.join("<br/>"));
    }
    dot.push_str("}\n");
    let mut child = std::process::Command::new("dot")
        .arg("-Tsvg")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(dot.as_bytes()).ok()?;
    let out = child.wait_with_output().ok()?;
    let mut svg = String::from_utf8(out.stdout)
        .ok()
        .filter(|_| out.status.success())?;
    // A DTD reference adds nothing to an SVG file and makes strict XML readers refuse it.
    if let Some(start) = svg.find("<!DOCTYPE") {
        if let Some(len) = svg[start..].find('>') {
            svg.replace_range(start..=start + len, "");
        }
    }
    for (i, n) in nodes.iter().enumerate() {
        svg = svg.replacen(
            &format!("<title>n{i}</title>"),
            &format!("<title>{}</title>", esc(n.tooltip.trim_end())),
            1,
        );
    }
    for ((a, b), link) in links {
        svg = svg.replacen(
            &format!("<title>n{a}&#45;&gt;n{b}</title>"),
            &format!("<title>{}</title>", esc(&link.tooltip())),
            1,
        );
    }
    Some(svg)
}

/// Columns by the longest chain of calls, rows in order within a column, moved down to leave
/// room for the arcs of calls that skip a column; host nodes in a row below the components.
fn place(nodes: &mut [Node], links: &BTreeMap<(usize, usize), Link>) {
    let n = nodes.len();
    // Longest path, relaxed at most n times, so a cycle cannot loop forever.
    for _ in 0..n {
        let mut changed = false;
        for &(from, to) in links.keys() {
            let next = nodes[from].column + 1;
            if !nodes[to].host && nodes[to].column < next && next < n {
                nodes[to].column = next;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let components: Vec<usize> = (0..n).filter(|i| !nodes[*i].host).collect();
    let columns = components
        .iter()
        .map(|i| nodes[*i].column + 1)
        .max()
        .unwrap_or(0);
    let arcs = links
        .keys()
        .filter(|k| shape(nodes, **k) == Shape::Arc)
        .count();
    // Room above for the highest arc and a two-line label on it.
    let top = MARGIN
        + match arcs {
            0 => 0.0,
            k => 0.75 * arc_rise(k - 1) + 12.0 + 2.0 * LINE_H,
        };
    // Room between columns for the widest label of the calls from one to the next.
    let mut x = MARGIN;
    let mut heights = vec![0.0; columns];
    for (c, height) in heights.iter_mut().enumerate() {
        let in_column: Vec<usize> = components
            .iter()
            .copied()
            .filter(|i| nodes[*i].column == c)
            .collect();
        let width = in_column
            .iter()
            .map(|i| nodes[*i].width())
            .fold(0.0, f64::max);
        let label = links
            .iter()
            .filter(|(k, _)| nodes[k.0].column == c && shape(nodes, **k) == Shape::Next)
            .flat_map(|(_, l)| l.label())
            .map(|l| l.chars().count() as f64 * CHAR_W + 40.0)
            .fold(MIN_COL_GAP, f64::max);
        let mut y = 0.0;
        for i in in_column {
            nodes[i].x = x + (width - nodes[i].width()) / 2.0;
            nodes[i].y = y;
            y += nodes[i].height() + ROW_GAP;
        }
        *height = (y - ROW_GAP).max(0.0);
        x += width + label;
    }
    let tallest = heights.iter().copied().fold(0.0, f64::max);
    for &i in &components {
        nodes[i].y += top + (tallest - heights[nodes[i].column]) / 2.0;
    }
    // Hosts: one row below, centred under the components.
    let span = components
        .iter()
        .map(|i| nodes[*i].x + nodes[*i].width())
        .fold(0.0, f64::max);
    let hosts: Vec<usize> = (0..n).filter(|i| nodes[*i].host).collect();
    let total: f64 = hosts
        .iter()
        .map(|i| nodes[*i].width() + HOST_GAP)
        .sum::<f64>()
        - HOST_GAP;
    let mut hx = ((MARGIN + span) / 2.0 - total / 2.0).max(MARGIN);
    for i in hosts {
        nodes[i].x = hx;
        nodes[i].y = top + tallest + HOST_DROP;
        hx += nodes[i].width() + HOST_GAP;
    }
}

/// How far above the components the control points of the `k`th arc are: above the labels of
/// the calls between neighbouring columns (two lines over the line), and above the arcs before.
fn arc_rise(k: usize) -> f64 {
    2.0 * LINE_H + 44.0 + k as f64 * ARC_STEP
}

/// How an edge is drawn.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// To a component in the next column: left to right.
    Next,
    /// To a component further right, or back: an arc above the components.
    Arc,
    /// Down to a host node.
    Down,
}

fn shape(nodes: &[Node], (from, to): (usize, usize)) -> Shape {
    if nodes[to].host {
        Shape::Down
    } else if nodes[to].column == nodes[from].column + 1 {
        Shape::Next
    } else {
        Shape::Arc
    }
}

/// An edge's path, and the centre and top of its label of `lines` lines: above the line for
/// calls between components, below the caller for calls down to a host (the `down`th of them
/// staggered, so that labels of neighbouring callers do not overlap).
fn route(
    nodes: &[Node],
    key: (usize, usize),
    arc: usize,
    down: usize,
    lines: usize,
) -> (String, f64, f64) {
    let block = lines as f64 * LINE_H;
    let (a, b) = (&nodes[key.0], &nodes[key.1]);
    match shape(nodes, key) {
        Shape::Next => {
            let (x1, y1) = (a.x + a.width(), a.y + a.height() / 2.0);
            let (x2, y2) = (b.x, b.y + b.height() / 2.0);
            let bend = ((x2 - x1) / 2.0).max(30.0);
            let d = format!(
                "M{x1:.1},{y1:.1} C{:.1},{y1:.1} {:.1},{y2:.1} {x2:.1},{y2:.1}",
                x1 + bend,
                x2 - bend
            );
            (d, (x1 + x2) / 2.0, (y1 + y2) / 2.0 - 6.0 - block)
        }
        Shape::Arc => {
            let (x1, y1) = (a.x + a.width() / 2.0 + 8.0, a.y);
            let (x2, y2) = (b.x + b.width() / 2.0 - 8.0, b.y);
            let peak = y1.min(y2) - arc_rise(arc);
            let d =
                format!("M{x1:.1},{y1:.1} C{x1:.1},{peak:.1} {x2:.1},{peak:.1} {x2:.1},{y2:.1}");
            // The curve's highest point is three quarters of the way to its control points.
            let apex = y1.min(y2) + 0.75 * (peak - y1.min(y2));
            (d, (x1 + x2) / 2.0, apex - 4.0 - block)
        }
        Shape::Down => {
            let (x1, y1) = (a.x + a.width() / 2.0, a.y + a.height());
            let (x2, y2) = (b.x + b.width() / 2.0, b.y);
            let mid = (y1 + y2) / 2.0;
            let d = format!("M{x1:.1},{y1:.1} C{x1:.1},{mid:.1} {x2:.1},{mid:.1} {x2:.1},{y2:.1}");
            let top = y1 + 12.0 + (down % 4) as f64 * (block + 4.0);
            (d, x1 + (x2 - x1) * 0.35, top)
        }
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn draw(nodes: &[Node], links: &BTreeMap<(usize, usize), Link>) -> String {
    let mut width = nodes.iter().map(|n| n.x + n.width()).fold(0.0, f64::max) + MARGIN;
    let mut height = nodes.iter().map(|n| n.y + n.height()).fold(0.0, f64::max) + MARGIN;
    let mut body = String::new();
    let mut arcs = 0;
    // Calls down to hosts, counted per caller.
    let mut downs: BTreeMap<usize, usize> = BTreeMap::new();
    for (key, link) in links {
        let arc = arcs;
        let down = match shape(nodes, *key) {
            Shape::Arc => {
                arcs += 1;
                0
            }
            Shape::Down => {
                let k = downs.entry(key.0).or_default();
                *k += 1;
                *k - 1
            }
            Shape::Next => 0,
        };
        let lines = link.label();
        let (d, mx, my) = route(nodes, *key, arc, down, lines.len());
        let _ = write!(
            body,
            "<g class=\"edge\"><title>{}</title><path d=\"{d}\" fill=\"none\" stroke=\"#555\" \
             stroke-width=\"1.4\" marker-end=\"url(#arrow)\"/>",
            esc(&link.tooltip()),
        );
        let lw = lines.iter().map(|l| l.chars().count()).max().unwrap_or(0) as f64 * CHAR_W;
        // Inside the canvas.
        let mx = mx.max(MARGIN / 2.0 + lw / 2.0 + 4.0);
        let _ = write!(
            body,
            "<rect x=\"{:.1}\" y=\"{my:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"white\" opacity=\"0.85\"/>",
            mx - lw / 2.0 - 4.0,
            lw + 8.0,
            lines.len() as f64 * LINE_H
        );
        for (k, line) in lines.iter().enumerate() {
            let _ = write!(
                body,
                "<text x=\"{mx:.1}\" y=\"{:.1}\" text-anchor=\"middle\" class=\"label\">{}</text>",
                my + (k as f64 + 0.75) * LINE_H,
                esc(line)
            );
        }
        body.push_str("</g>\n");
        width = width.max(mx + lw / 2.0 + MARGIN);
        height = height.max(my + lines.len() as f64 * LINE_H + MARGIN);
    }
    for node in nodes {
        let (fill, stroke) = if node.host {
            ("#eef3fb", "#6b88b8")
        } else {
            ("#fdf5e6", "#b8893b")
        };
        let _ = write!(
            body,
            "<g class=\"{}\"><title>{}</title>\
             <rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" rx=\"6\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"1.4\"/>",
            if node.host { "host" } else { "component" },
            esc(node.tooltip.trim_end()),
            node.x,
            node.y,
            node.width(),
            node.height()
        );
        let cx = node.x + node.width() / 2.0;
        let _ = write!(
            body,
            "<text x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\" class=\"title\">{}</text>",
            node.y + 7.0 + 0.75 * LINE_H,
            esc(&node.title)
        );
        for (k, line) in node.lines.iter().enumerate() {
            let _ = write!(
                body,
                "<text x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                node.y + 7.0 + (k as f64 + 1.75) * LINE_H,
                esc(line)
            );
        }
        body.push_str("</g>\n");
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n\
         <svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w:.0}\" height=\"{h:.0}\" viewBox=\"0 0 {w:.0} {h:.0}\">\n\
         <defs><marker id=\"arrow\" markerWidth=\"10\" markerHeight=\"8\" refX=\"10\" refY=\"4\" orient=\"auto\">\
         <polygon points=\"0 0, 10 4, 0 8\" fill=\"#555\"/></marker></defs>\n\
         <style>text {{ font-family: sans-serif; font-size: {FONT}px; fill: #222; }} \
         .title {{ font-weight: bold; }} .label {{ fill: #333; }}</style>\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n{body}</svg>\n",
        w = width.ceil(),
        h = height.ceil()
    )
}
