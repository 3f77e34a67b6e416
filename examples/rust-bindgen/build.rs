// Make the text-lib component from its WIT world and core module, then compile it into this
// program with weld, together with its Rust bindings.
use std::path::PathBuf;

fn main() {
    let src = PathBuf::from("../../tests/components/text-lib");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    let wat = std::fs::read_to_string(src.join("text.core.wat")).expect("text.core.wat");
    let buf = wast::parser::ParseBuffer::new(&wat).expect("lex text.core.wat");
    let mut module: wast::Wat = wast::parser::parse(&buf).expect("parse text.core.wat");
    let mut module = module.encode().expect("encode text.core.wat");
    let mut resolve = wit_parser::Resolve::default();
    let wit = std::fs::read_to_string(src.join("text.wit")).expect("text.wit");
    let pkg = resolve.push_str("text.wit", &wit).expect("text.wit");
    let world = resolve
        .select_world(&[pkg], Some("text-lib"))
        .expect("world text-lib");
    wit_component::embed_component_metadata(
        &mut module,
        &resolve,
        world,
        wit_component::StringEncoding::UTF8,
        false,
    )
    .expect("embed the world");
    let component = wit_component::ComponentEncoder::default()
        .module(&module)
        .and_then(|e| e.validate(true).encode())
        .expect("make the component");
    let wasm = out.join("text.wasm");
    std::fs::write(&wasm, component).expect("write text.wasm");
    for f in ["text.core.wat", "text.wit"] {
        println!("cargo:rerun-if-changed={}", src.join(f).display());
    }
    weld_host::build::Build::new(&wasm)
        .name("text")
        .bindings()
        .compile()
        .unwrap_or_else(|e| panic!("weld: {e}"));
}
