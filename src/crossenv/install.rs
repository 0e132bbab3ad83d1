//! Assembling a target from a Pyodide distribution: the npm registry's `pyodide` package
//! (through the `npm` client, so the user's registry configuration applies), a local
//! directory, or an npm tarball; optionally with Pyodide's own cross-build environment
//! (`--xbuildenv`) for the headers, sysconfig and flags.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::hostpython::HostPython;
use super::xbuildenv::XBuildEnv;
use super::{
    cross_sysconfig_dir, headers, include_dir, libffi, platform_tag, python_xy, sysconfig, Target,
    TargetError, TargetInfo,
};
use crate::pip::Form;
use crate::process::Cmd;

/// Where a Pyodide distribution comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum InstallSource {
    /// A version of the npm registry's `pyodide` package.
    Npm(String),
    /// An unpacked distribution directory (holding `pyodide-lock.json`).
    Dir(PathBuf),
    /// An npm tarball (`pyodide-X.Y.Z.tgz`).
    Tarball(PathBuf),
}

impl InstallSource {
    /// A path that exists is a directory or tarball; anything else is an npm version.
    pub fn parse(text: &str) -> Self {
        let path = Path::new(text);
        if path.is_dir() {
            InstallSource::Dir(path.to_path_buf())
        } else if path.is_file() {
            InstallSource::Tarball(path.to_path_buf())
        } else {
            InstallSource::Npm(text.to_string())
        }
    }
}

/// Choices for `emwheel target install`.
#[derive(Debug, Clone, Default)]
pub struct InstallOptions {
    /// The host interpreter that runs build backends (default: found by X.Y).
    pub host_python: Option<PathBuf>,
    /// A CPython `include/pythonX.Y` to use instead of the host interpreter's.
    pub headers: Option<PathBuf>,
    /// The wheel platform tag, instead of the one [`platform_tag`] derives.
    pub platform_tag: Option<String>,
    /// A Pyodide cross-build environment (archive or directory) to take the headers,
    /// sysconfig and flags from.
    pub xbuildenv: Option<PathBuf>,
    /// The sha256 the `xbuildenv` archive must have.
    pub sha256: Option<String>,
    /// Replace an installed target of the same name.
    pub force: bool,
}

/// The lockfile's `info`, which names the Python, platform and ABI.
#[derive(Debug, PartialEq)]
struct LockInfo {
    python: String,
    platform: String,
    abi_version: String,
}

/// What a target is assembled from, once fetched into the staging directory.
struct Inputs<'a> {
    name: String,
    /// The lockfile as the user knows it, for messages (the copy read is in `staging`).
    lock_origin: PathBuf,
    staging: &'a Path,
    final_dir: PathBuf,
    xbuildenv: Option<XBuildEnv>,
    options: &'a InstallOptions,
}

/// Installs a target and returns it. The runtime comes from `source`, or (with only an
/// xbuildenv) from npm at the xbuildenv's Pyodide version. An installed target of the same
/// name is kept unless `force`: installing is idempotent. The target is assembled in a
/// staging directory and renamed into place, so an interrupted install leaves nothing
/// half-made, and a refused input (a wrong sha256, say) leaves nothing at all.
pub fn install(
    source: Option<&InstallSource>,
    options: &InstallOptions,
) -> Result<Target, TargetError> {
    if let Some(tag) = &options.platform_tag {
        super::check_platform_tag(tag)?;
    }
    let targets_dir = crate::home::targets_dir();
    fs_err::create_dir_all(&targets_dir)?;
    // Installs take turns; whoever holds the lock removes what killed installs left.
    let _lock = crate::fsutil::FileLock::acquire(&targets_dir.join(".lock"))?;
    crate::fsutil::sweep(&targets_dir, STAGING_PREFIX)?;
    if let (Some(InstallSource::Npm(version)), None) = (source, &options.xbuildenv) {
        if let Some(kept) = keep_installed(&targets_dir.join(version), options)? {
            return Ok(kept);
        }
    }
    let staging = tempfile::Builder::new()
        .prefix(STAGING_PREFIX)
        .tempdir_in(&targets_dir)?;
    let xbuildenv = options
        .xbuildenv
        .as_deref()
        .map(|path| XBuildEnv::open(path, options.sha256.as_deref(), staging.path()))
        .transpose()?;
    let source = runtime_source(source, xbuildenv.as_ref())?;
    let runtime = staging.path().join("runtime");
    fs_err::create_dir_all(&runtime)?;
    let name = fetch_runtime(&source, staging.path(), &runtime)?;
    let final_dir = targets_dir.join(&name);
    if let Some(kept) = keep_installed(&final_dir, options)? {
        return Ok(kept);
    }
    let inputs = Inputs {
        name,
        lock_origin: lock_origin(&source),
        staging: staging.path(),
        final_dir: final_dir.clone(),
        xbuildenv,
        options,
    };
    let info = assemble(&inputs)?;
    // The unpacked xbuildenv served its purpose; only what the target needs stays.
    remove_if_present(&staging.path().join("xbuildenv"))?;
    let info = TargetInfo {
        files: hash_tree(staging.path())?,
        ..info
    };
    write_json(&staging.path().join("target.json"), &info)?;
    replace_dir(staging, &final_dir)?;
    Target::open(&final_dir)
}

/// Staging directories of installs (and replaced targets) start with this.
const STAGING_PREFIX: &str = ".install-";

/// Renames `staging` to `dest`, first moving an existing `dest` aside (deleted after, or by
/// the next install's sweep): a killed install leaves the old target, the new one, or none
/// between the two renames, never half of one.
fn replace_dir(staging: tempfile::TempDir, dest: &Path) -> Result<(), TargetError> {
    let parent = dest.parent().expect("a target has a parent");
    let old = tempfile::Builder::new()
        .prefix(STAGING_PREFIX)
        .tempdir_in(parent)?;
    if dest.exists() {
        fs_err::rename(dest, old.path().join("replaced"))?;
    }
    fs_err::rename(staging.keep(), dest)?;
    Ok(())
}

/// The target already installed in `dir`, unless `force` asks for a new one or it was
/// installed by an emwheel that recorded no host Python version: such a target has no C++
/// flags for Pyodide 0.27's JavaScript exceptions, so it is assembled again.
fn keep_installed(dir: &Path, options: &InstallOptions) -> Result<Option<Target>, TargetError> {
    if options.force || !dir.join("target.json").is_file() {
        return Ok(None);
    }
    let installed = Target::open(dir)?;
    Ok((!installed.info.host_python_version.is_empty()).then_some(installed))
}

/// Where the distribution's lockfile came from, as the user would name it.
fn lock_origin(source: &InstallSource) -> PathBuf {
    match source {
        InstallSource::Dir(dir) => dir.join("pyodide-lock.json"),
        InstallSource::Tarball(tarball) => tarball.join("package/pyodide-lock.json"),
        InstallSource::Npm(version) => {
            PathBuf::from(format!("pyodide@{version}/pyodide-lock.json"))
        }
    }
}

/// The runtime's source: the one given, else npm at the xbuildenv's Pyodide version.
fn runtime_source(
    source: Option<&InstallSource>,
    xbuildenv: Option<&XBuildEnv>,
) -> Result<InstallSource, TargetError> {
    match (source, xbuildenv) {
        (Some(source), _) => Ok(source.clone()),
        (None, Some(env)) => Ok(InstallSource::Npm(env.version()?)),
        (None, None) => Err(TargetError::Invalid {
            message: "no Pyodide distribution given".to_string(),
            help:
                "pass a version (`0.29.5`), a distribution directory or tarball, or `--xbuildenv`"
                    .to_string(),
        }),
    }
}

fn remove_if_present(dir: &Path) -> Result<(), TargetError> {
    if dir.is_dir() {
        fs_err::remove_dir_all(dir)?;
    }
    Ok(())
}

/// Puts the distribution's files into `runtime` and returns the target's name (its version).
fn fetch_runtime(
    source: &InstallSource,
    staging: &Path,
    runtime: &Path,
) -> Result<String, TargetError> {
    match source {
        InstallSource::Npm(version) => {
            let tarball = npm_pack(version, staging)?;
            unpack_npm_tarball(&tarball, staging, runtime)?;
        }
        InstallSource::Tarball(tarball) => unpack_npm_tarball(tarball, staging, runtime)?,
        InstallSource::Dir(dir) => copy_files(dir, runtime)?,
    }
    package_version(runtime)
}

/// `npm pack` checks the tarball against the registry's integrity hash as it downloads.
fn npm_pack(version: &str, staging: &Path) -> Result<PathBuf, TargetError> {
    let npm = which::which("npm").map_err(|_| TargetError::Invalid {
        message: "`npm` not found".to_string(),
        help: "install Node.js and npm (`scripts/setup` does)".to_string(),
    })?;
    let finished = Cmd::new(npm)
        .args(["pack", "--silent", &format!("pyodide@{version}")])
        .inherit_env()
        .dir(staging)
        .run()?;
    let file = finished.output.lines().last().unwrap_or_default().trim();
    Ok(staging.join(file))
}

fn unpack_npm_tarball(tarball: &Path, staging: &Path, runtime: &Path) -> Result<(), TargetError> {
    let unpacked = staging.join("unpacked");
    fs_err::create_dir_all(&unpacked)?;
    crate::archive::unpack(tarball, &unpacked).map_err(|error| TargetError::Invalid {
        message: error.to_string(),
        help: "pass a `pyodide-X.Y.Z.tgz` from `npm pack pyodide@X.Y.Z`".to_string(),
    })?;
    copy_files(&unpacked.join("package"), runtime)?;
    fs_err::remove_dir_all(&unpacked)?;
    if tarball.starts_with(staging) {
        fs_err::remove_file(tarball)?;
    }
    Ok(())
}

/// Copies the regular files at the top of a distribution directory.
fn copy_files(from: &Path, to: &Path) -> Result<(), TargetError> {
    if !from.join("pyodide-lock.json").is_file() {
        return Err(TargetError::Invalid {
            message: format!("`{}` has no pyodide-lock.json", from.display()),
            help: "pass a Pyodide distribution directory, an npm tarball, or a version".to_string(),
        });
    }
    for entry in fs_err::read_dir(from)? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            fs_err::copy(entry.path(), to.join(entry.file_name()))?;
        }
    }
    Ok(())
}

fn package_version(runtime: &Path) -> Result<String, TargetError> {
    let package = read_json(&runtime.join("package.json"))?;
    package["version"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| TargetError::Invalid {
            message: format!(
                "`{}` has no version",
                runtime.join("package.json").display()
            ),
            help: "pass a complete Pyodide distribution".to_string(),
        })
}

/// Everything `target.json` records but the file hashes, which come last.
fn assemble(inputs: &Inputs) -> Result<TargetInfo, TargetError> {
    let (lock, info) = read_lock(inputs)?;
    if let Some(env) = &inputs.xbuildenv {
        check_same_build(env, &info)?;
    }
    let xy = python_xy(&info.python);
    let host = HostPython::find(&xy, inputs.options.host_python.as_deref())?;
    let sysconfigdata = place_sysconfigdata(inputs, &info.python)?;
    // Paths inside the sysconfigdata are evaluated against where the target will live.
    let mut vars = sysconfig::read(&host.path, &sysconfigdata, &inputs.final_dir)?;
    let original = fs_err::read_to_string(&sysconfigdata)?;
    if let Some(repaired) = sysconfig::unquoted_platform(&original, &vars) {
        fs_err::write(&sysconfigdata, repaired)?;
        vars = sysconfig::read(&host.path, &sysconfigdata, &inputs.final_dir)?;
    }
    let headers_from = place_headers(inputs, &info.python, &host, &vars)?;
    if host.version != xy {
        place_cross_sysconfigdata(inputs.staging, &sysconfigdata, &vars, &xy, &host.version)?;
    }
    let micropip_wheels = fetch_micropip(&lock, &host, inputs.staging)?;
    let include = include_dir(&inputs.final_dir, &info.python);
    let flags = sysconfig::side_module_flags(&exception_source(inputs, &vars)?, &include);
    let (platform_tag, platform_tag_overridden) = match &inputs.options.platform_tag {
        Some(tag) => (tag.clone(), true),
        None => (platform_tag(&info.abi_version, &info.platform), false),
    };
    Ok(TargetInfo {
        format_version: super::FORMAT_VERSION,
        name: inputs.name.clone(),
        python_version: info.python.clone(),
        emscripten_version: info
            .platform
            .trim_start_matches("emscripten_")
            .replace('_', "."),
        platform_tag,
        platform_tag_overridden,
        abi_version: info.abi_version,
        platform: info.platform,
        ext_suffix: sysconfig::string(&vars, "EXT_SUFFIX")?,
        cflags: flags.cflags,
        cxxflags: flags.cxxflags,
        ldflags: flags.ldflags,
        host_python: host.path,
        host_python_version: host.version,
        host_include: host.include,
        headers_from,
        micropip_wheels,
        files: BTreeMap::new(),
    })
}

/// The runtime's lockfile and its `info`; errors name the file as the user knows it.
fn read_lock(inputs: &Inputs) -> Result<(Value, LockInfo), TargetError> {
    let text = fs_err::read_to_string(inputs.staging.join("runtime/pyodide-lock.json"))?;
    let lock: Value = serde_json::from_str(&text).map_err(|source| TargetError::Json {
        path: inputs.lock_origin.clone(),
        source,
    })?;
    let info = lock_info(&lock, &inputs.lock_origin)?;
    Ok((lock, info))
}

/// Writes the sysconfigdata build backends see in cross-version mode (see
/// [`Target::backend_sysconfig_dir`]).
fn place_cross_sysconfigdata(
    staging: &Path,
    sysconfigdata: &Path,
    vars: &sysconfig::BuildTimeVars,
    xy: &str,
    host_xy: &str,
) -> Result<(), TargetError> {
    let original = fs_err::read_to_string(sysconfigdata)?;
    let text = sysconfig::cross_sysconfigdata(&original, vars, xy, host_xy)?;
    let dir = cross_sysconfig_dir(staging, host_xy);
    fs_err::create_dir_all(&dir)?;
    fs_err::write(dir.join(sysconfigdata.file_name().expect("a file")), text)?;
    Ok(())
}

/// The xbuildenv and the runtime must come from the same Pyodide build.
fn check_same_build(env: &XBuildEnv, runtime: &LockInfo) -> Result<(), TargetError> {
    let lock_path = env.lockfile();
    let ours = lock_info(&read_json(&lock_path)?, &lock_path)?;
    if ours == *runtime {
        return Ok(());
    }
    Err(TargetError::Invalid {
        message: format!(
            "the cross-build environment is for Python {} on {} (ABI {}), the runtime for Python {} on {} (ABI {})",
            ours.python, ours.platform, ours.abi_version, runtime.python, runtime.platform, runtime.abi_version
        ),
        help: "pass the runtime of the Pyodide version the cross-build environment was made for"
            .to_string(),
    })
}

/// Copies the target's sysconfigdata into `sysconfig/`: the xbuildenv's, else the one in the
/// runtime's `python_stdlib.zip`.
fn place_sysconfigdata(inputs: &Inputs, python: &str) -> Result<PathBuf, TargetError> {
    let dest = inputs.staging.join("sysconfig");
    let Some(env) = &inputs.xbuildenv else {
        return extract_sysconfigdata(&inputs.staging.join("runtime"), &dest);
    };
    let file_name = format!("{}.py", super::SYSCONFIGDATA_NAME);
    let source = env
        .install_dir(python)?
        .join("sysconfigdata")
        .join(&file_name);
    fs_err::create_dir_all(&dest)?;
    fs_err::copy(&source, dest.join(&file_name))?;
    Ok(dest.join(file_name))
}

/// Lays out the target's `include/pythonX.Y` and returns where the headers came from: the
/// xbuildenv's as they are, else CPython headers of the same `X.Y` (`--headers`, the host's,
/// or those `scripts/setup` unpacked) with `pyconfig.h` rewritten for wasm32 and libffi's
/// headers beside them, as in Pyodide's own.
fn place_headers(
    inputs: &Inputs,
    python: &str,
    host: &HostPython,
    vars: &sysconfig::BuildTimeVars,
) -> Result<PathBuf, TargetError> {
    let dest = include_dir(inputs.staging, python);
    if let Some(env) = &inputs.xbuildenv {
        let xy = python_xy(python);
        headers::copy_tree(
            &env.install_dir(python)?
                .join("include")
                .join(format!("python{xy}")),
            &dest,
        )?;
        return Ok(env.origin.clone());
    }
    let source = header_source(inputs.options.headers.as_deref(), python, host)?;
    headers::check_version(&source, &python_xy(python))?;
    headers::assemble(&source, vars, &dest)?;
    libffi::place(&crate::home::libffi_source_dir(), &dest)?;
    Ok(source)
}

/// CPython headers of the target's `X.Y` for the pyconfig.h rewrite.
fn header_source(
    explicit: Option<&Path>,
    python: &str,
    host: &HostPython,
) -> Result<PathBuf, TargetError> {
    let xy = python_xy(python);
    if let Some(dir) = explicit {
        return Ok(dir.to_path_buf());
    }
    if host.version == xy {
        return Ok(host.include.clone());
    }
    let unpacked = crate::home::python_headers_dir(&xy);
    if unpacked.join("Python.h").is_file() {
        return Ok(unpacked);
    }
    Err(TargetError::Invalid {
        message: format!(
            "no CPython {xy} headers: the host Python is {}, and `{}` does not exist",
            host.version,
            unpacked.display()
        ),
        help: format!(
            "pass `--headers DIR` with a CPython `include/python{xy}` (Debian's `libpython{xy}-dev` has one; `scripts/setup` unpacks it there)"
        ),
    })
}

/// The compile flags the exception-handling flags are taken from: the xbuildenv's
/// `CFLAGS_BASE` (what pyodide-build builds side modules with), else the sysconfig's `CFLAGS`.
fn exception_source(
    inputs: &Inputs,
    vars: &sysconfig::BuildTimeVars,
) -> Result<String, TargetError> {
    match &inputs.xbuildenv {
        Some(env) => env.var("CFLAGS_BASE"),
        None => sysconfig::string(vars, "CFLAGS"),
    }
}

/// The lockfile's `info` ([pyodide-lock](https://github.com/pyodide/pyodide-lock)); keys
/// this does not read (0.27's `version`, 314's `tool`) are ignored.
fn lock_info(lock: &Value, path: &Path) -> Result<LockInfo, TargetError> {
    let field = |key: &str| {
        lock["info"][key]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| TargetError::Invalid {
                message: format!("`{}` has no `info.{key}`", path.display()),
                help: "pass a Pyodide distribution whose lockfile is complete".to_string(),
            })
    };
    Ok(LockInfo {
        python: field("python")?,
        platform: field("platform")?,
        abi_version: field("abi_version").unwrap_or_default(),
    })
}

fn extract_sysconfigdata(runtime: &Path, dest: &Path) -> Result<PathBuf, TargetError> {
    let stdlib = runtime.join("python_stdlib.zip");
    let file_name = format!("{}.py", super::SYSCONFIGDATA_NAME);
    let invalid = |why: String| TargetError::Invalid {
        message: format!("`{}`: {why}", stdlib.display()),
        help: "pass a complete Pyodide distribution".to_string(),
    };
    let file = fs_err::File::open(&stdlib)?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| invalid(e.to_string()))?;
    let mut entry = zip
        .by_name(&file_name)
        .map_err(|_| invalid(format!("no `{file_name}` inside")))?;
    fs_err::create_dir_all(dest)?;
    let path = dest.join(&file_name);
    std::io::copy(&mut entry, &mut fs_err::File::create(&path)?)?;
    Ok(path)
}

/// sha256 of the PyPI wheels of micropip (and what it needs) that emwheel knows. Pyodide's
/// lockfile hashes its own rebuild of micropip, whose bytes differ from PyPI's, so the
/// lockfile cannot vouch for what pip downloads; this table does.
const KNOWN_WHEELS: &[(&str, &str)] = &[
    (
        "micropip-0.11.1-py3-none-any.whl",
        "768de165adb8e66906039d8fec4127a57f522dfdf8e6fbff877a4616941ecfd3",
    ),
    (
        "micropip-0.9.0-py3-none-any.whl",
        "babcf68c1849e229aa887564bc5f2de50273c3212e73c9aff8e3e6e80f2b6a23",
    ),
    (
        "packaging-24.2-py3-none-any.whl",
        "09abb1bccd265c01f4a3aa3f7a7db064b36514d2cba19a2f694fe6150451a759",
    ),
];

/// Downloads micropip and what it depends on at the versions the lockfile names: the npm
/// package does not ship micropip. Each wheel is checked against [`KNOWN_WHEELS`].
fn fetch_micropip(
    lock: &Value,
    host: &HostPython,
    staging: &Path,
) -> Result<Vec<PathBuf>, TargetError> {
    let packages = staging.join("packages");
    fs_err::create_dir_all(&packages)?;
    micropip_requirements(lock)?
        .iter()
        .map(|(name, version)| download_wheel(host, name, version, &packages))
        .collect()
}

/// micropip and each package its lockfile entry depends on, with their lockfile versions.
fn micropip_requirements(lock: &Value) -> Result<Vec<(String, String)>, TargetError> {
    let depends = lock["packages"]["micropip"]["depends"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let names = std::iter::once("micropip").chain(depends.iter().filter_map(Value::as_str));
    names
        .map(|name| match lock["packages"][name]["version"].as_str() {
            Some(version) => Ok((name.to_string(), version.to_string())),
            None => Err(TargetError::Invalid {
                message: format!("the target's pyodide-lock.json has no version for `{name}`"),
                help: "pass a Pyodide distribution whose lockfile lists micropip".to_string(),
            }),
        })
        .collect()
}

fn download_wheel(
    host: &HostPython,
    name: &str,
    version: &str,
    dest: &Path,
) -> Result<PathBuf, TargetError> {
    let requirement = format!("{name}=={version}");
    crate::pip::download(
        &host.path,
        &requirement,
        Form::Wheel,
        dest,
        &mut std::io::sink(),
    )?;
    let file_name = format!("{name}-{version}-py3-none-any.whl");
    let path = dest.join(&file_name);
    let Some((_, expected)) = KNOWN_WHEELS.iter().find(|(known, _)| *known == file_name) else {
        return Err(TargetError::Invalid {
            message: format!("emwheel has no pinned sha256 for `{file_name}`"),
            help: "this Pyodide needs a micropip emwheel does not know yet; upgrade emwheel"
                .to_string(),
        });
    };
    let actual = crate::hash::sha256_file(&path)?;
    if actual != *expected {
        return Err(TargetError::Invalid {
            message: format!(
                "`{}` has sha256 {actual}, expected {expected}",
                path.display()
            ),
            help: "your package index served different bytes; check its configuration".to_string(),
        });
    }
    Ok(PathBuf::from("packages").join(file_name))
}

fn hash_tree(root: &Path) -> Result<BTreeMap<String, String>, TargetError> {
    let mut files = BTreeMap::new();
    for entry in walkdir::WalkDir::new(root).sort_by_file_name() {
        let entry = entry.map_err(std::io::Error::from)?;
        if entry.file_type().is_file() {
            let relative = entry.path().strip_prefix(root).expect("below root");
            files.insert(
                relative.to_string_lossy().into_owned(),
                crate::hash::sha256_file(entry.path())?,
            );
        }
    }
    Ok(files)
}

fn read_json(path: &Path) -> Result<Value, TargetError> {
    let text = fs_err::read_to_string(path)?;
    serde_json::from_str(&text).map_err(|source| TargetError::Json {
        path: path.to_path_buf(),
        source,
    })
}

fn write_json(path: &Path, info: &TargetInfo) -> Result<(), TargetError> {
    let text = serde_json::to_string_pretty(info).expect("target info serializes");
    fs_err::write(path, text + "\n")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `info` and micropip entries of the three supported Pyodides' lockfiles, as shipped
    /// (314's with its `tool` keys).
    fn lock(version: &str) -> Value {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/locks")
            .join(format!("{version}.json"));
        read_json(&path).unwrap()
    }

    #[test]
    fn lockfiles_of_every_supported_pyodide_give_python_platform_and_tag() {
        let cases = [
            (
                "0.27.7",
                "3.12.7",
                "emscripten_3_1_58",
                "2024_0",
                "pyodide_2024_0_wasm32",
            ),
            (
                "0.29.5",
                "3.13.2",
                "emscripten_4_0_9",
                "2025_0",
                "pyemscripten_2025_0_wasm32",
            ),
            (
                "314.0.7",
                "3.14.2",
                "emscripten_5_0_3",
                "2026_0",
                "pyemscripten_2026_0_wasm32",
            ),
        ];
        for (version, python, platform, abi, tag) in cases {
            let info = lock_info(&lock(version), Path::new(version)).unwrap();
            let expected = LockInfo {
                python: python.to_string(),
                platform: platform.to_string(),
                abi_version: abi.to_string(),
            };
            assert_eq!(info, expected, "{version}");
            assert_eq!(platform_tag(&info.abi_version, &info.platform), tag);
        }
    }

    #[test]
    fn micropip_and_its_dependencies_come_from_the_lockfile() {
        let pairs = |version: &str| micropip_requirements(&lock(version)).unwrap();
        let owned = |list: &[(&str, &str)]| -> Vec<(String, String)> {
            list.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect()
        };
        assert_eq!(
            pairs("0.27.7"),
            owned(&[("micropip", "0.9.0"), ("packaging", "24.2")])
        );
        assert_eq!(pairs("0.29.5"), owned(&[("micropip", "0.11.1")]));
        assert_eq!(pairs("314.0.7"), owned(&[("micropip", "0.11.1")]));
        for (name, version) in pairs("0.27.7").iter().chain(&pairs("314.0.7")) {
            let file = format!("{name}-{version}-py3-none-any.whl");
            assert!(
                KNOWN_WHEELS.iter().any(|(known, _)| *known == file),
                "{file}"
            );
        }
    }

    #[test]
    fn a_lockfile_without_info_names_the_missing_key() {
        let error = lock_info(
            &serde_json::json!({"packages": {}}),
            Path::new("x/lock.json"),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(error, "`x/lock.json` has no `info.python`");
    }
}
