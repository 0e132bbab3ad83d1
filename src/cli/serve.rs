//! `emwheel serve`: serve a site directory on loopback to try it.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::TargetArgs;
use crate::index::serve::{serve, Routes};
use crate::ui::Ui;

/// The demo page, with `{{…}}` placeholders for the target.
const DEMO: &str = include_str!("../../templates/demo.html");

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
    /// Also serve the target's Pyodide and a page (`/demo.html?package=…&imports=…`) that
    /// installs a package from this index with micropip in the browser and imports it.
    #[arg(long)]
    demo: bool,
    #[command(flatten)]
    target: TargetArgs,
}

pub(super) fn run(args: ServeArgs, ui: &Ui) -> miette::Result<()> {
    let address = format!("{}:{}", args.host, args.port);
    let lifetime = args.max_seconds.map(Duration::from_secs);
    let mut routes = Routes {
        site: args.site.clone(),
        ..Routes::default()
    };
    if args.demo {
        add_demo(&mut routes, &args.target)?;
    }
    serve(&routes, &address, lifetime, |bound| {
        println!("serving http://{bound}/");
        ui.status(&format!(
            "index: http://{bound}/simple  lockfile: http://{bound}/pyodide-lock.json"
        ));
    })
    .map_err(|error| miette::miette!("cannot serve on `{address}`: {error}"))?;
    Ok(())
}

/// Mounts the target's runtime at `/pyodide/` and micropip at `/micropip/`, and the page.
fn add_demo(routes: &mut Routes, target: &TargetArgs) -> miette::Result<()> {
    let target = target.target()?;
    let wheels = &target.info.micropip_wheels;
    let names: Vec<String> = wheels
        .iter()
        .filter_map(|wheel| wheel.file_name())
        .map(|name| name.to_string_lossy().into_owned())
        .collect();
    let micropip_dir = wheels
        .first()
        .and_then(|wheel| wheel.parent())
        .map(|dir| target.dir.join(dir))
        .unwrap_or_else(|| target.dir.join("packages"));
    routes.mounts.push(("pyodide".into(), target.runtime_dir()));
    routes.mounts.push(("micropip".into(), micropip_dir));
    let page = DEMO
        .replace("{{PYODIDE_VERSION}}", &target.info.name)
        .replace(
            "{{MICROPIP_WHEELS}}",
            &serde_json::to_string(&names).expect("names serialize"),
        );
    routes.pages.push(("/demo.html".into(), page));
    Ok(())
}
