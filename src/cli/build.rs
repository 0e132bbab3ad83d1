//! `emwheel build`: one recipe or Python project into a wheel.

use std::path::{Path, PathBuf};

use clap::Args;

use super::TargetArgs;
use crate::builder::{self, BuildContext, Package, ProjectSettings};
use crate::recipe;
use crate::toolchain::cache::CompilerCache;
use crate::ui::Ui;
use crate::wheel::Slim;

#[derive(Debug, Args)]
pub(super) struct BuildArgs {
    /// A recipe directory, a `recipe.toml` or `meta.yaml`, or a Python project directory.
    path: PathBuf,
    /// Where to write the wheel.
    #[arg(long, short, default_value = "dist")]
    out_dir: PathBuf,
    /// A PEP 517 config setting for the backend, `key=value` (repeatable; projects only).
    #[arg(short = 'C', long = "config-setting", value_name = "KEY=VALUE")]
    config_settings: Vec<String>,
    #[command(flatten)]
    output: OutputArgs,
    #[command(flatten)]
    target: TargetArgs,
}

/// How builds are made, shared by `build` and `build-recipes`.
#[derive(Debug, Args)]
pub(super) struct OutputArgs {
    /// Ship bytecode compiled for the target Python instead of `.py` sources (faster loads).
    #[arg(long)]
    pub(super) py_compile: bool,
    /// Leave out documentation: `*.md`, `*.rst`, `*.txt` outside `.dist-info`/`.data`, except
    /// licence-like files (`LICENSE*`, `COPYING*`, `NOTICE*`, …). Not for packages that read
    /// such files at run time.
    #[arg(long)]
    pub(super) strip_docs: bool,
    /// Leave out type stubs: `*.pyi` and `py.typed`.
    #[arg(long)]
    pub(super) strip_type_stubs: bool,
    /// Leave out C, C++ and Cython sources and headers (`*.c`, `*.cpp`, `*.h`, `*.pyx`,
    /// `*.pxd`, …) except under `include/` directories. Not for packages others `cimport`.
    #[arg(long)]
    pub(super) strip_sources: bool,
    /// The wheels' deflate level, 1 (fastest) to 9 (smallest), or 0 to store files
    /// uncompressed [default: 6].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(0..=9))]
    pub(super) compression_level: Option<u8>,
    /// A compiler cache in front of emcc's clang (its own CCACHE_*/SCCACHE_* settings apply).
    #[arg(long, value_enum, env = "EMWHEEL_COMPILER_CACHE", default_value_t)]
    pub(super) compiler_cache: CompilerCache,
    /// Where sources are looked up and kept: `DIR/<sha256>/<file>` (every fetch adds one) or
    /// `DIR/<file>` checked against the recipe's sha256 [default: emwheel's own cache].
    #[arg(long, env = "EMWHEEL_SOURCE_CACHE", value_name = "DIR")]
    pub(super) source_cache: Option<PathBuf>,
    /// Run the build steps (recipe scripts and the PEP 517 backend) with no network and
    /// nothing writable outside their build directory (Linux namespaces; see the README).
    #[arg(long)]
    pub(super) sandbox: bool,
}

impl OutputArgs {
    /// What to leave out of wheels and how hard to compress them.
    pub(super) fn slim(&self) -> Slim {
        Slim {
            strip_docs: self.strip_docs,
            strip_type_stubs: self.strip_type_stubs,
            strip_sources: self.strip_sources,
            compression_level: self.compression_level,
        }
    }

    /// The source cache to use.
    pub(super) fn source_cache(&self) -> PathBuf {
        self.source_cache
            .clone()
            .unwrap_or_else(crate::home::sources_dir)
    }

    /// How build steps are isolated: probed once with `--sandbox`, none without.
    pub(super) fn isolation(&self) -> Result<Option<builder::Isolation>, builder::BuildError> {
        self.sandbox.then(builder::Isolation::probe).transpose()
    }
}

pub(super) fn run(args: BuildArgs, ui: &Ui) -> miette::Result<()> {
    let (package, settings) = package_for(&args.path, &args.config_settings)?;
    let (target, toolchain) = args.target.resolve(ui)?;
    let context = BuildContext {
        target: &target,
        toolchain: &toolchain,
        out_dir: args.out_dir,
        source_date_epoch: source_date_epoch(),
        py_compile: args.output.py_compile || settings.py_compile.unwrap_or(false),
        slim: args.output.slim(),
        compiler_cache: args.output.compiler_cache.environment()?,
        source_cache: args.output.source_cache(),
        log_dir: None,
        isolation: args.output.isolation()?,
    };
    let built = builder::build(&package, &context, ui)?;
    ui.status(&format!(
        "built {} in {:.1}s ({} compiler calls, {:.1}s in emcc)",
        built.path.display(),
        built.seconds,
        built.compiler.calls,
        built.compiler.seconds
    ));
    // The main output first (the wheel, or a library's manifest), then the archives beside it.
    let outputs = [
        Some(&built.path),
        built.runtime_zip.as_ref(),
        built.tests_zip.as_ref(),
    ];
    let outputs: Vec<&PathBuf> = outputs.into_iter().flatten().collect();
    if ui.json() {
        let artifacts = outputs
            .iter()
            .map(|path| artifact(path))
            .collect::<miette::Result<Vec<_>>>()?;
        ui.document(serde_json::json!({
            "status": "ok",
            "artifacts": artifacts,
            "seconds": built.seconds,
            "compiler": { "calls": built.compiler.calls, "seconds": built.compiler.seconds },
            "target": target.info.name,
        }));
    } else {
        for path in outputs {
            println!("{}", path.display());
        }
    }
    Ok(())
}

/// A build output as `--json` describes it: path, sha256 and size, and for a wheel its name,
/// version and tags (checked against its RECORD).
pub(super) fn artifact(path: &Path) -> miette::Result<serde_json::Value> {
    if path.extension().is_none_or(|ext| ext != "whl") {
        let size = fs_err::metadata(path)
            .map_err(|e| miette::miette!("{e}"))?
            .len();
        let sha256 = crate::hash::sha256_file(path).map_err(|e| miette::miette!("{e}"))?;
        return Ok(serde_json::json!({ "path": path, "sha256": sha256, "size": size }));
    }
    let wheel = path;
    let summary = crate::wheel::verify(wheel)?;
    let name = &summary.name;
    Ok(serde_json::json!({
        "path": wheel,
        "sha256": summary.sha256,
        "size": fs_err::metadata(wheel).map_err(|e| miette::miette!("{e}"))?.len(),
        "name": name.distribution,
        "version": name.version,
        "tags": name.expanded_tags(),
    }))
}

/// A recipe if the path is or holds a `recipe.toml` or `meta.yaml`, else a Python project with its
/// settings: `[tool.emwheel]`, then `EMWHEEL_*` variables, then `-C` flags.
fn package_for(
    path: &Path,
    config_settings: &[String],
) -> miette::Result<(Package, ProjectSettings)> {
    if recipe::is_recipe(path) {
        let recipe = recipe::load(path)?;
        return Ok((Package::from_recipe(&recipe), ProjectSettings::default()));
    }
    if path.join("pyproject.toml").is_file() || path.join("setup.py").is_file() {
        let mut settings = ProjectSettings::load(path)?;
        settings.apply_env(|name| std::env::var(name).ok());
        settings.apply_config_settings(config_settings);
        return Ok((Package::from_project(path, &settings), settings));
    }
    Err(miette::miette!(
        help = "pass a recipe directory (with recipe.toml or meta.yaml), a recipe file, or a Python project (with pyproject.toml or setup.py)",
        "`{}` is neither a recipe nor a Python project",
        path.display()
    ))
}

/// `SOURCE_DATE_EPOCH` if set, else a fixed default, so that builds are reproducible.
pub(super) fn source_date_epoch() -> u64 {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(builder::DEFAULT_SOURCE_DATE_EPOCH)
}
