//! The `weld` command's progress bar: compiles longer than a moment show, on stderr when it is a
//! terminal, the functions compiled out of the total and then that the linker runs.
//!
//! In: [`weld::progress`] events. Out: an `indicatif` bar, drawn only after
//! [`QUIET_FOR`] (a small module compiles in less) and cleared before weld prints anything
//! else. Nothing is drawn when stderr is not a terminal, so logs and pipes stay clean.
//! `WELD_PROGRESS=0` turns the bar off; `WELD_PROGRESS=1` draws it from the start (on a
//! terminal still).

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};
use weld::progress::Event;

/// How long a compilation runs before it gets a bar.
const QUIET_FOR: Duration = Duration::from_millis(400);

static BAR: OnceLock<Mutex<Option<ProgressBar>>> = OnceLock::new();

/// Install the reporter, if stderr is a terminal.
pub fn install() {
    let setting = std::env::var("WELD_PROGRESS");
    if !std::io::stderr().is_terminal() || setting.as_deref() == Ok("0") {
        return;
    }
    let quiet_for = if setting.as_deref() == Ok("1") {
        Duration::ZERO
    } else {
        QUIET_FOR
    };
    let start = Instant::now();
    weld::progress::set_reporter(Box::new(move |event| {
        if start.elapsed() < quiet_for {
            return;
        }
        let Ok(mut slot) = BAR.get_or_init(|| Mutex::new(None)).lock() else {
            return;
        };
        let bar = slot.get_or_insert_with(|| ProgressBar::new(0).with_style(compile_style()));
        match event {
            Event::Compiled { done, total } => {
                bar.set_length(total as u64);
                bar.set_position(done as u64);
            }
            Event::Linking => {
                bar.set_style(link_style());
                bar.set_message("linking");
                bar.enable_steady_tick(Duration::from_millis(120));
            }
        }
    }));
}

/// Clear the bar, if one was drawn.
pub fn finish() {
    if let Some(Ok(mut slot)) = BAR.get().map(Mutex::lock) {
        if let Some(bar) = slot.take() {
            bar.finish_and_clear();
        }
    }
}

fn compile_style() -> ProgressStyle {
    ProgressStyle::with_template("weld: compiling {bar:30} {pos}/{len} functions ({elapsed})")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
}

fn link_style() -> ProgressStyle {
    ProgressStyle::with_template("weld: {spinner} {msg} ({elapsed})")
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
}
