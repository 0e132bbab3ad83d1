//! The only module that prints: status lines, warnings, one spinner per running package
//! and an overall bar, all on stderr. Without a terminal (or with `--no-progress`) the same
//! events come as plain lines, one per event.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

/// How the core reports what it is doing, without knowing about terminals. Several
/// packages may report at once, from several threads.
pub trait Progress: Sync {
    /// A package entered a phase (`fetch`, `build`, `wheel`, `test`, …).
    fn phase(&self, package: &str, phase: &str);
    /// Something the user should see even though the work goes on.
    fn warn(&self, message: &str);
    /// A package is finished (built, cached, failed, skipped), `outcome` saying how in a
    /// few words: its line goes away and the overall count moves on.
    fn finished(&self, package: &str, outcome: &str);
}

/// The version of the `--json` documents' shape; fields are only ever added within it.
pub const JSON_VERSION: u32 = 1;

/// Terminal output: spinners and bars on a TTY, plain lines otherwise.
pub struct Ui {
    quiet: bool,
    json: bool,
    bars: Option<Bars>,
}

/// The live part of a terminal display.
struct Bars {
    multi: MultiProgress,
    spinners: Mutex<BTreeMap<String, ProgressBar>>,
    overall: Mutex<Option<ProgressBar>>,
}

impl Ui {
    /// `quiet` silences status lines (warnings and errors still show); spinners only
    /// appear on a TTY and never with `progress` off; `json` makes commands print one JSON
    /// document on stdout.
    pub fn new(quiet: bool, progress: bool, json: bool) -> Self {
        let live = progress && !quiet && std::io::stderr().is_terminal();
        let bars = live.then(|| Bars {
            multi: MultiProgress::new(),
            spinners: Mutex::new(BTreeMap::new()),
            overall: Mutex::new(None),
        });
        Ui { quiet, json, bars }
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
        if !self.quiet {
            self.println(message);
        }
    }

    /// An error the command goes on after (one package of many failed).
    pub fn error(&self, message: &str) {
        self.println(message);
    }

    /// Starts an overall bar for `total` packages (on a terminal).
    pub fn begin(&self, total: usize) {
        let Some(bars) = &self.bars else { return };
        let bar = bars.multi.add(ProgressBar::new(total as u64));
        bar.set_style(
            ProgressStyle::with_template("[{bar:30}] {pos}/{len} packages [{elapsed}]")
                .expect("valid template")
                .progress_chars("=> "),
        );
        *bars.overall.lock().expect("ui lock") = Some(bar);
    }

    fn println(&self, message: &str) {
        match &self.bars {
            Some(bars) => bars.multi.suspend(|| eprintln!("{message}")),
            None => eprintln!("{message}"),
        }
    }

    /// Clears every spinner and bar before the command prints its result.
    pub fn finish(&self) {
        if let Some(bars) = &self.bars {
            for (_, spinner) in std::mem::take(&mut *bars.spinners.lock().expect("ui lock")) {
                spinner.finish_and_clear();
            }
            if let Some(overall) = bars.overall.lock().expect("ui lock").take() {
                overall.finish_and_clear();
            }
            let _ = bars.multi.clear();
        }
    }
}

impl Bars {
    /// Shows `message` on `package`'s spinner line, adding the line above the overall bar.
    fn show(&self, package: &str, message: String) {
        let mut spinners = self.spinners.lock().expect("ui lock");
        if let Some(spinner) = spinners.get(package) {
            spinner.set_message(message);
            return;
        }
        let style =
            ProgressStyle::with_template("{spinner} {msg} [{elapsed}]").expect("valid template");
        let spinner = ProgressBar::new_spinner()
            .with_style(style)
            .with_message(message);
        let spinner = match &*self.overall.lock().expect("ui lock") {
            Some(overall) => self.multi.insert_before(overall, spinner),
            None => self.multi.add(spinner),
        };
        spinner.enable_steady_tick(Duration::from_millis(120));
        spinners.insert(package.to_string(), spinner);
    }

    /// Removes `package`'s spinner line and counts it done.
    fn done(&self, package: &str) {
        if let Some(spinner) = self.spinners.lock().expect("ui lock").remove(package) {
            spinner.finish_and_clear();
            self.multi.remove(&spinner);
        }
        if let Some(overall) = &*self.overall.lock().expect("ui lock") {
            overall.inc(1);
        }
    }
}

impl Progress for Ui {
    fn phase(&self, package: &str, phase: &str) {
        match &self.bars {
            Some(bars) => bars.show(package, format!("{package}: {phase}")),
            None => self.status(&format!("{package}: {phase}")),
        }
    }

    fn warn(&self, message: &str) {
        self.println(&format!("warning: {message}"));
    }

    fn finished(&self, package: &str, outcome: &str) {
        match &self.bars {
            Some(bars) => bars.done(package),
            None => self.status(&format!("{package}: {outcome}")),
        }
    }
}

/// How errors are rendered, by the error hook and by [`render_error`]: paths and commands in
/// errors must stay copyable, so lines are never wrapped.
pub fn report_handler() -> miette::MietteHandler {
    miette::MietteHandlerOpts::new().wrap_lines(false).build()
}

/// A diagnostic rendered as the error hook renders a failed command's error, for errors a
/// command shows by reference and goes on after.
pub fn render_error(error: &dyn miette::Diagnostic) -> String {
    struct Rendered<'a>(&'a dyn miette::Diagnostic);
    impl std::fmt::Display for Rendered<'_> {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            miette::ReportHandler::debug(&report_handler(), self.0, f)
        }
    }
    Rendered(error).to_string()
}

/// Renders a diagnostic as plain text without colour, for tests of what the user reads.
#[cfg(test)]
pub fn render_plain(error: &dyn miette::Diagnostic) -> String {
    let mut out = String::new();
    miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
        .with_width(200)
        .render_report(&mut out, error)
        .unwrap();
    out
}
