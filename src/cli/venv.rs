//! `emwheel venv DIR`: a virtual environment whose `bin/python` is the target's Pyodide under
//! Node.js (as `pyodide venv` makes), with `python -m pip` (micropip) installing into its
//! site-packages and console scripts in `bin/`.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use clap::Args;
use fs_err as fs;

use super::TargetArgs;
use crate::crossenv::Target;
use crate::ui::Ui;

/// The launcher `bin/python` runs with Node.js.
const LAUNCHER: &str = include_str!("../../templates/venv_python.mjs");
/// `python -m pip`, on micropip.
const PIP: &str = include_str!("../../templates/emwheel_venv_pip.py");

#[derive(Debug, Args)]
pub(super) struct VenvArgs {
    /// The directory to create (or refresh: installed packages are kept).
    dir: PathBuf,
    #[command(flatten)]
    target: TargetArgs,
}

pub(super) fn run(args: VenvArgs, ui: &Ui) -> miette::Result<()> {
    let target = args.target.target()?;
    let dir = std::path::absolute(&args.dir).map_err(|e| miette::miette!("{e}"))?;
    create(&dir, &target).map_err(|e| {
        miette::miette!(
            help = "choose a directory you can write to",
            "cannot create the venv `{}`: {e}",
            dir.display()
        )
    })?;
    if ui.json() {
        ui.document(serde_json::json!({
            "status": "ok", "venv": dir, "python": dir.join("bin/python"),
            "target": target.info.name,
        }));
    }
    ui.status(&format!(
        "created {} for Pyodide {} (Python {}): `{}/bin/python -m pip install …`",
        dir.display(),
        target.info.name,
        target.info.python_version,
        dir.display()
    ));
    Ok(())
}

/// Makes (or refreshes) the venv at `dir` for `target`.
pub(super) fn create(dir: &Path, target: &Target) -> std::io::Result<()> {
    let xy = target.python_xy();
    let site_packages = dir.join(format!("lib/python{xy}/site-packages"));
    let (bin, support) = (dir.join("bin"), dir.join("lib/emwheel"));
    for directory in [&site_packages, &bin, &support] {
        fs::create_dir_all(directory)?;
    }
    let micropip: Vec<PathBuf> = target
        .info
        .micropip_wheels
        .iter()
        .map(|wheel| target.dir.join(wheel))
        .collect();
    let lock_file = support.join("pyodide-lock.json");
    let config = serde_json::json!({
        "runtime_dir": target.runtime_dir(),
        "lock_file": lock_file,
        "micropip_wheels": micropip,
        "site_packages": site_packages,
        "support_dir": support,
        "bin_dir": bin,
    });
    write(&lock_file, &local_lockfile(&target.runtime_dir())?)?;
    write(&support.join("emwheel-venv.json"), &config.to_string())?;
    write(&support.join("venv_python.mjs"), LAUNCHER)?;
    write(&support.join("emwheel_venv_pip.py"), PIP)?;
    let cfg = format!(
        "home = {}\ninclude-system-site-packages = false\nversion = {}\nemwheel-target = {}\n",
        target.runtime_dir().display(),
        target.info.python_version,
        target.info.name
    );
    write(&dir.join("pyvenv.cfg"), &cfg)?;
    let node = which::which("node").unwrap_or_else(|_| PathBuf::from("node"));
    let python = format!(
        "#!/bin/sh\nexec '{}' '{}' \"$@\"\n",
        node.display(),
        support.join("venv_python.mjs").display()
    );
    let pip = format!(
        "#!/bin/sh\nexec '{}' -m pip \"$@\"\n",
        bin.join("python").display()
    );
    for (name, text) in [
        ("python".to_string(), &python),
        ("python3".to_string(), &python),
        (format!("python{xy}"), &python),
        ("pip".to_string(), &pip),
    ] {
        let path = bin.join(name);
        write(&path, text)?;
        fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
    }
    Ok(())
}

/// The runtime's lockfile with only the packages whose files the runtime holds: the others
/// would be fetched from Pyodide's CDN, so micropip looks for them on the index instead.
fn local_lockfile(runtime: &Path) -> std::io::Result<String> {
    let text = fs::read_to_string(runtime.join("pyodide-lock.json"))?;
    let mut lock: serde_json::Value = serde_json::from_str(&text).map_err(std::io::Error::other)?;
    if let Some(packages) = lock["packages"].as_object_mut() {
        packages.retain(|_, package| {
            let file = package["file_name"].as_str().unwrap_or_default();
            runtime.join(file).is_file()
        });
    }
    Ok(lock.to_string())
}

/// Writes through a temp file renamed into place.
fn write(path: &Path, text: &str) -> std::io::Result<()> {
    let temporary = path.with_extension("emwheel-tmp");
    fs::write(&temporary, text)?;
    fs::rename(&temporary, path)
}
