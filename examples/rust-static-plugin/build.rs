// Compile the greeter component (examples/plugin-host/plugin.wat) into this program.
fn main() {
    weld_host::build::Build::new("../plugin-host/plugin.wat")
        .name("greeter")
        .compile()
        .unwrap_or_else(|e| panic!("weld: {e}"));
}
