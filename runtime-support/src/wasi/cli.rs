//! `wasi:cli` 0.2: `environment`, `exit`, `stdin`/`stdout`/`stderr` and the `terminal-*`
//! interfaces. No stream is reported as a terminal (`get-terminal-*` return `none`).

use super::io::{InputStream, OutputStream};
use super::table::{bad_args, Obj, Registrar};
use super::vals::{arg, own, ret, string};
use crate::component::Val;
use crate::trap::Trap;
use weld_contract::trap::TrapCode;

/// `wasi:cli/environment`.
pub const ENVIRONMENT: &str = "wasi:cli/environment@0.2";
/// `wasi:cli/exit`.
pub const EXIT: &str = "wasi:cli/exit@0.2";

/// Register `wasi:cli`.
pub(crate) fn register(reg: &mut Registrar<'_>) {
    reg.func(ENVIRONMENT, "get-environment", |st, _| {
        let env = st.ctx.env.iter();
        let pairs =
            env.map(|(k, v)| Val::Tuple(alloc::vec![string(k.as_str()), string(v.as_str())]));
        ret(Val::List(pairs.collect()))
    });
    reg.func(ENVIRONMENT, "get-arguments", |st, _| {
        ret(Val::List(
            st.ctx.args.iter().map(|a| string(a.as_str())).collect(),
        ))
    });
    reg.func(ENVIRONMENT, "initial-cwd", |st, _| {
        ret(Val::Option(
            st.ctx
                .cwd
                .as_ref()
                .map(|c| alloc::boxed::Box::new(string(c.as_str()))),
        ))
    });

    reg.func(EXIT, "exit", |st, a| {
        let status = match arg(a, 0)? {
            Val::Result(Ok(_)) => 0,
            Val::Result(Err(_)) => 1,
            _ => return Err(bad_args()),
        };
        st.exit = Some(status);
        Err(Trap::new(TrapCode::Exit))
    });
    reg.func(EXIT, "exit-with-code", |st, a| {
        let Val::U8(code) = arg(a, 0)? else {
            return Err(bad_args());
        };
        st.exit = Some(i32::from(*code));
        Err(Trap::new(TrapCode::Exit))
    });

    reg.func("wasi:cli/stdin@0.2", "get-stdin", |st, _| {
        ret(own(st.push(Obj::Input(InputStream::Stdin))))
    });
    reg.func("wasi:cli/stdout@0.2", "get-stdout", |st, _| {
        ret(own(st.push(Obj::Output(OutputStream::Stdout))))
    });
    reg.func("wasi:cli/stderr@0.2", "get-stderr", |st, _| {
        ret(own(st.push(Obj::Output(OutputStream::Stderr))))
    });
    // Toolchains may see a resource through the interface that `use`s it: free the rep
    // whichever name the guest's handle has.
    reg.resource("wasi:cli/stdin@0.2", "input-stream");
    for iface in ["wasi:cli/stdout@0.2", "wasi:cli/stderr@0.2"] {
        reg.resource(iface, "output-stream");
    }

    reg.resource("wasi:cli/terminal-input@0.2", "terminal-input");
    reg.resource("wasi:cli/terminal-output@0.2", "terminal-output");
    reg.resource("wasi:cli/terminal-stdin@0.2", "terminal-input");
    for iface in [
        "wasi:cli/terminal-stdout@0.2",
        "wasi:cli/terminal-stderr@0.2",
    ] {
        reg.resource(iface, "terminal-output");
    }
    reg.func(
        "wasi:cli/terminal-stdin@0.2",
        "get-terminal-stdin",
        |_, _| ret(Val::Option(None)),
    );
    reg.func(
        "wasi:cli/terminal-stdout@0.2",
        "get-terminal-stdout",
        |_, _| ret(Val::Option(None)),
    );
    reg.func(
        "wasi:cli/terminal-stderr@0.2",
        "get-terminal-stderr",
        |_, _| ret(Val::Option(None)),
    );
}
