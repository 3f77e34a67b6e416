//! Showing a flattened component graph to people and tools (`weld inspect`, `weld check`): a
//! stage beside the data flow, not in it. Nothing here changes what is compiled.
//!
//! - `graph.rs`: the graph model (component instances, host interfaces, call edges, reach),
//!   built from the flattened `ComponentInfo` and the names recorded beside it;
//! - `text.rs`: the flattened graph as a listing, and the WIT names with their C and Rust
//!   spellings;
//! - `render.rs`: the instances as text, JSON (`weld-inspect/1`) and Graphviz DOT, and reach;
//! - `svg.rs`: the picture.

pub mod graph;
pub mod render;
pub mod svg;
pub mod text;
