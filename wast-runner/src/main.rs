//! `weld-wast-run SCRIPT.wast PLAN [LIBRARY.so]`: run one script's directives on this machine
//! against a library `weld wast --target ...` compiled and linked for it, as the plan says each
//! directive was compiled. Prints one result line per directive (`LINE:COL ok` or
//! `LINE:COL fail MESSAGE`) on stdout and exits 0; a problem with the inputs themselves is one
//! line on stderr and exit status 2. Used for cross targets, under qemu-user.

use std::process::ExitCode;
use weld_runtime::Library;
use weld_wast_runner::{execute, Plan};

fn run(args: &[String]) -> Result<Vec<String>, String> {
    let [script, plan, rest @ ..] = args else {
        return Err("usage: weld-wast-run SCRIPT.wast PLAN [LIBRARY.so]".into());
    };
    let text =
        std::fs::read_to_string(script).map_err(|e| format!("{script}: cannot read: {e}"))?;
    let plan_text =
        std::fs::read_to_string(plan).map_err(|e| format!("{plan}: cannot read: {e}"))?;
    let mut plan = Plan::from_text(&plan_text).map_err(|e| format!("{plan}: {e}"))?;
    let library = match rest {
        [] => None,
        [so] => match Library::open(std::path::Path::new(so)) {
            Ok(l) => Some(l),
            Err(e) => {
                // Every module directive then fails with this reason, as in-process runs do.
                plan.link_error = Some(format!("loading the shared library: {e}"));
                None
            }
        },
        _ => return Err("too many arguments".into()),
    };
    let results = execute(&text, &plan, library).map_err(|e| format!("{script}: {e}"))?;
    Ok(results.iter().map(|r| r.to_line()).collect())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // Deep-recursion directives need room beyond the wasm stack budget for the runner itself.
    let worker = std::thread::Builder::new()
        .stack_size(32 << 20)
        .spawn(move || run(&args));
    match worker.map(|h| h.join()) {
        Ok(Ok(Ok(lines))) => {
            let mut out = lines.join("\n");
            out.push('\n');
            print!("{out}");
            ExitCode::SUCCESS
        }
        Ok(Ok(Err(e))) => {
            eprintln!("weld-wast-run: {e}");
            ExitCode::from(2)
        }
        _ => {
            eprintln!("weld-wast-run: the runner thread failed");
            ExitCode::from(2)
        }
    }
}
