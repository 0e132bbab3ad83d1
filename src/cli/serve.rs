//! `emwheel serve`: serve a site directory on loopback to try it.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::index::serve::serve;
use crate::ui::Ui;

#[derive(Debug, Args)]
pub(super) struct ServeArgs {
    /// The site directory (from `emwheel index`).
    site: PathBuf,
    /// The address to listen on; only loopback unless you say otherwise.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// The port (0 picks a free one).
    #[arg(long, default_value_t = 8000)]
    port: u16,
    /// Stop by itself after this many seconds.
    #[arg(long)]
    max_seconds: Option<u64>,
}

pub(super) fn run(args: ServeArgs, ui: &Ui) -> miette::Result<()> {
    let address = format!("{}:{}", args.host, args.port);
    let lifetime = args.max_seconds.map(Duration::from_secs);
    serve(&args.site, &address, lifetime, |bound| {
        println!("serving http://{bound}/");
        ui.status(&format!(
            "index: http://{bound}/simple  lockfile: http://{bound}/pyodide-lock.json"
        ));
    })
    .map_err(|error| miette::miette!("cannot serve on `{address}`: {error}"))?;
    Ok(())
}
