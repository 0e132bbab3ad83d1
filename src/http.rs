//! HTTP through the machine's curl, so the user's proxy settings and certificate store apply
//! exactly as they do for their other tools.

use std::io::Write;
use std::path::Path;

use crate::process::{Cmd, CmdError};

/// Why a fetch failed.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// curl is not installed.
    #[error("curl is not on PATH; install it (e.g. `apt-get install curl`)")]
    NoCurl,
    /// curl ran and failed (unreachable host, HTTP error, …).
    #[error(transparent)]
    Curl(#[from] CmdError),
    /// The destination could not be prepared.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

fn curl() -> Result<Cmd, HttpError> {
    let curl = which::which("curl").map_err(|_| HttpError::NoCurl)?;
    Ok(Cmd::new(curl)
        .args(["--fail", "--silent", "--show-error", "--location"])
        .args(["--retry", "2", "--connect-timeout", "20"])
        .inherit_env())
}

/// Downloads `url` to `dest`, logging the command.
pub fn download(url: &str, dest: &Path, log: &mut dyn Write) -> Result<(), HttpError> {
    curl()?.arg("--output").arg(dest).arg(url).run_logged(log)?;
    Ok(())
}

/// The body of `url` as text, and the URL it came from after redirects (relative links on
/// the page are relative to that one).
pub fn get_text(url: &str) -> Result<(String, String), HttpError> {
    // curl prints the final URL after the body; the marker cannot occur in an HTML page.
    const MARKER: &str = "\n\u{1}emwheel-final-url:";
    let finished = curl()?
        .args(["--write-out", &format!("{MARKER}%{{url_effective}}"), url])
        .run()?;
    let (body, final_url) = (finished.output)
        .rsplit_once(MARKER)
        .map(|(body, final_url)| (body.to_string(), final_url.trim().to_string()))
        .unwrap_or_else(|| (String::new(), url.to_string()));
    Ok((body, final_url))
}
