//! The only module that prints: status lines, warnings and spinners, all on stderr.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// How the core reports what it is doing, without knowing about terminals.
pub trait Progress: Sync {
    /// A package entered a phase (`fetch`, `build`, `wheel`, `test`, …).
    fn phase(&self, package: &str, phase: &str);
    /// Something the user should see even though the work goes on.
    fn warn(&self, message: &str);
}

/// The version of the `--json` documents' shape; fields are only ever added within it.
pub const JSON_VERSION: u32 = 1;

/// Terminal output: a spinner per phase on a TTY, plain lines otherwise.
pub struct Ui {
    quiet: bool,
    json: bool,
    bar: Option<ProgressBar>,
}

impl Ui {
    /// `quiet` silences status lines (warnings still show); spinners only appear on a TTY
    /// and never with `progress` off; `json` makes commands print one JSON document on stdout.
    pub fn new(quiet: bool, progress: bool, json: bool) -> Self {
        let bar = (progress && !quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
                    .expect("valid template"),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Ui { quiet, json, bar }
    }

    /// Whether stdout carries a JSON document instead of plain lines.
    pub fn json(&self) -> bool {
        self.json
    }

    /// Prints a command's JSON document on stdout, stamped with [`JSON_VERSION`].
    pub fn document(&self, mut document: serde_json::Value) {
        if let Some(object) = document.as_object_mut() {
            object.insert("json_version".into(), JSON_VERSION.into());
        }
        println!(
            "{}",
            serde_json::to_string_pretty(&document).expect("JSON serializes")
        );
    }

    /// A status line.
    pub fn status(&self, message: &str) {
        if self.quiet {
            return;
        }
        self.println(message);
    }

    fn println(&self, message: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| eprintln!("{message}")),
            None => eprintln!("{message}"),
        }
    }

    /// Clears any spinner before the command prints its result.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Progress for Ui {
    fn phase(&self, package: &str, phase: &str) {
        match &self.bar {
            Some(bar) => bar.set_message(format!("{package}: {phase}")),
            None if !self.quiet => eprintln!("{package}: {phase}"),
            None => {}
        }
    }

    fn warn(&self, message: &str) {
        self.println(&format!("warning: {message}"));
    }
}
