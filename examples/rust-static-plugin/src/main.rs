//! The greeter component, compiled into this binary by build.rs, called with Rust types.

use weld_host::{CallError, Expect, HostImports, Plugin};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let greeter = Plugin::linked("greeter")?;
    greeter.check(
        &Expect::new()
            .func::<(String,), String>("greet")
            .func::<(), u32>("count")
            .func::<(u32, u32), u32>("div"),
    )?;
    let mut a = greeter.instantiate(&HostImports::new())?;
    let mut b = greeter.instantiate(&HostImports::new())?;
    let name = std::env::args().nth(1).unwrap_or_else(|| "world".into());
    let s: String = a.call("greet", (name,))?;
    println!("{s}");
    let _: String = b.call("greet", ("b".to_string(),))?;
    let _: String = b.call("greet", ("b".to_string(),))?;
    let (na, nb): (u32, u32) = (a.call("count", ())?, b.call("count", ())?);
    println!("calls: {na} and {nb}");
    match a.call::<(u32, u32), u32>("div", (1, 0)) {
        Err(CallError::Trap(t)) => println!("div(1, 0): trap: {t}"),
        other => println!("div(1, 0): {other:?}"),
    }
    println!("div(9, 3) = {}", b.call::<(u32, u32), u32>("div", (9, 3))?);
    Ok(())
}
