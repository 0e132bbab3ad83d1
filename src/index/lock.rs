//! `pyodide-lock.json`: the target's `info` and base packages plus one entry per built wheel,
//! with exactly the package keys the target's own lockfile uses (Pyodide's reference parser
//! rejects unknown keys, and 314.x added `tool`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde_json::{json, Map, Value};

use super::IndexError;
use crate::wheel::{normalize, WheelMetadata};

/// A lockfile being assembled.
#[derive(Debug, Clone)]
pub struct Lockfile {
    info: Value,
    tool: Option<Value>,
    package_keys: Vec<String>,
    packages: BTreeMap<String, Value>,
}

impl Lockfile {
    /// Reads a Pyodide lockfile as the base: its `info`, schema and (if `keep_packages`) its
    /// packages.
    pub fn from_base(path: &Path, keep_packages: bool) -> Result<Self, IndexError> {
        let bad = |reason: &str| IndexError::BadLock {
            path: path.to_path_buf(),
            reason: reason.to_string(),
        };
        let text = fs_err::read_to_string(path)?;
        let value: Value = serde_json::from_str(&text).map_err(|e| bad(&e.to_string()))?;
        let info = value.get("info").filter(|i| i["python"].is_string());
        let info = info
            .ok_or_else(|| bad("no `info` with a `python` version"))?
            .clone();
        let packages = value["packages"]
            .as_object()
            .ok_or_else(|| bad("no `packages` object"))?;
        let package_keys = schema(packages).ok_or_else(|| bad("its packages have no keys"))?;
        Ok(Lockfile {
            info,
            tool: value.get("tool").cloned(),
            package_keys,
            packages: match keep_packages {
                true => packages.clone().into_iter().collect(),
                false => BTreeMap::new(),
            },
        })
    }

    /// Joins lockfiles written for the same target (per-shard builds): their packages
    /// united, the first's `info`, schema and `tool`. A package listed twice must be
    /// listed identically, except that an entry equal to `base`'s (the target's own
    /// lockfile, which every shard starts from) gives way to a rebuilt one.
    pub fn merge(paths: &[PathBuf], base: &Lockfile) -> Result<Self, IndexError> {
        let (first, rest) = paths.split_first().expect("clap requires a lockfile");
        let mut merged = Lockfile::from_base(first, true)?;
        let mut origin: BTreeMap<String, PathBuf> = (merged.packages.keys())
            .map(|name| (name.clone(), first.clone()))
            .collect();
        for path in rest {
            let next = Lockfile::from_base(path, true)?;
            if next.info != merged.info {
                return Err(IndexError::DifferentTargets {
                    first: first.clone(),
                    second: path.clone(),
                    first_info: merged.info.to_string(),
                    second_info: next.info.to_string(),
                });
            }
            merged.unite(next.packages, path, &mut origin, base)?;
        }
        Ok(merged)
    }

    /// Adds `packages` read from `path`; `origin` says where each known package came from.
    fn unite(
        &mut self,
        packages: BTreeMap<String, Value>,
        path: &Path,
        origin: &mut BTreeMap<String, PathBuf>,
        base: &Lockfile,
    ) -> Result<(), IndexError> {
        for (name, entry) in packages {
            let from_base = base.packages.get(&name);
            match self.packages.get(&name) {
                Some(known) if *known == entry || from_base == Some(&entry) => {}
                Some(known) if from_base == Some(known) => {
                    origin.insert(name.clone(), path.to_path_buf());
                    self.packages.insert(name, entry);
                }
                Some(known) => {
                    return Err(IndexError::Conflict {
                        keys: differing_keys(known, &entry),
                        first: origin[&name].clone(),
                        second: path.to_path_buf(),
                        package: name,
                    })
                }
                None => {
                    origin.insert(name.clone(), path.to_path_buf());
                    self.packages.insert(name, entry);
                }
            }
        }
        Ok(())
    }

    /// How many packages it lists.
    pub fn package_count(&self) -> usize {
        self.packages.len()
    }

    /// Adds a wheel (replacing a package of the same normalized name). `file_name` is how
    /// the lockfile refers to it, relative to where Pyodide looks for packages.
    pub fn add_wheel(&mut self, wheel: &WheelMetadata, file_name: &str) -> Result<(), IndexError> {
        let depends = self.depends(&wheel.requires_dist);
        let known = json!({
            "name": wheel.name,
            "version": wheel.version,
            "file_name": file_name,
            "install_dir": "site",
            "sha256": wheel.sha256,
            "package_type": "package",
            "imports": wheel.imports,
            "depends": depends,
            "unvendored_tests": false,
            "tool": {},
        });
        self.insert(&wheel.name, known)
    }

    /// Adds the archives beside the wheels in `dist`: `<name>-tests.zip` (unvendored tests,
    /// an entry `<name>-tests` that depends on the package, which gets
    /// `unvendored_tests = true`) and shared libraries' `<name>-<version>.zip` (installed into
    /// `dynlib`). `prefix` goes before each file name. Returns the archives added.
    pub fn add_archives(
        &mut self,
        dist: &Path,
        prefix: &str,
    ) -> Result<Vec<std::path::PathBuf>, IndexError> {
        let mut zips: Vec<std::path::PathBuf> = fs_err::read_dir(dist)?
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "zip"))
            .collect();
        zips.sort();
        let mut added = Vec::new();
        for zip in zips {
            let file_name = zip
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let sha256 = crate::hash::sha256_file(&zip)?;
            let stem = file_name.trim_end_matches(".zip");
            let entry = match stem.strip_suffix("-tests") {
                Some(package) => self.tests_entry(&normalize(package), &sha256),
                None => shared_library_entry(stem, &sha256),
            };
            let Some((name, mut entry)) = entry else {
                continue;
            };
            entry["file_name"] = Value::String(format!("{prefix}{file_name}"));
            self.insert(&name, entry)?;
            added.push(zip);
        }
        Ok(added)
    }

    /// The `<package>-tests` entry, marking the package as having unvendored tests; `None`
    /// when the package is not in the lockfile.
    fn tests_entry(&mut self, package: &str, sha256: &str) -> Option<(String, Value)> {
        let owner = self.packages.get_mut(package)?;
        if owner.get("unvendored_tests").is_some() {
            owner["unvendored_tests"] = Value::Bool(true);
        }
        let name = format!("{package}-tests");
        let entry = json!({
            "name": name, "version": owner["version"], "depends": [package], "imports": [],
            "install_dir": "site", "package_type": "package", "sha256": sha256,
            "unvendored_tests": false, "tool": {},
        });
        Some((name, entry))
    }

    /// Inserts an entry holding exactly the schema's keys (taken from `known`).
    fn insert(&mut self, name: &str, known: Value) -> Result<(), IndexError> {
        let mut entry = Map::new();
        for key in &self.package_keys {
            let value = known
                .get(key)
                .ok_or_else(|| IndexError::UnknownKey(key.clone()))?;
            entry.insert(key.clone(), value.clone());
        }
        self.packages.insert(normalize(name), Value::Object(entry));
        Ok(())
    }

    /// `Requires-Dist` entries whose markers hold in the target's Pyodide (no extras), as
    /// normalized names.
    fn depends(&self, requires_dist: &[String]) -> Vec<String> {
        let environment = self.marker_environment();
        let mut names: Vec<String> = requires_dist
            .iter()
            .filter_map(|text| {
                pep508_rs::Requirement::<pep508_rs::VerbatimUrl>::from_str(text).ok()
            })
            .filter(|requirement| match &environment {
                Some(environment) => requirement.evaluate_markers(environment, &[]),
                None => requirement.marker.is_true(),
            })
            .map(|requirement| normalize(requirement.name.as_ref()))
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// PEP 508 markers as they evaluate inside this Pyodide.
    fn marker_environment(&self) -> Option<pep508_rs::MarkerEnvironment> {
        let full = self.info["python"].as_str()?;
        let xy = crate::crossenv::python_xy(full);
        let platform = self.info["platform"].as_str().unwrap_or("emscripten");
        let release = platform.trim_start_matches("emscripten_").replace('_', ".");
        pep508_rs::MarkerEnvironment::try_from(pep508_rs::MarkerEnvironmentBuilder {
            implementation_name: "cpython",
            implementation_version: full,
            os_name: "posix",
            platform_machine: "wasm32",
            platform_python_implementation: "CPython",
            platform_release: &release,
            platform_system: "Emscripten",
            platform_version: "#1",
            python_full_version: full,
            python_version: &xy,
            sys_platform: "emscripten",
        })
        .ok()
    }

    /// Points the base packages' `file_name`s at `base_url` (absolute URLs), for a lockfile
    /// served away from the Pyodide distribution the packages come from.
    pub fn rebase_package_files(&mut self, base_url: &str) {
        let base = base_url.trim_end_matches('/');
        for entry in self.packages.values_mut() {
            if let Some(file) = entry["file_name"].as_str() {
                if !file.contains("://") {
                    entry["file_name"] = Value::String(format!("{base}/{file}"));
                }
            }
        }
    }

    /// Names that packages depend on but the lockfile does not provide.
    pub fn missing_dependencies(&self) -> Vec<String> {
        let mut missing: Vec<String> = self
            .packages
            .values()
            .flat_map(|entry| entry["depends"].as_array().cloned().unwrap_or_default())
            .filter_map(|name| name.as_str().map(normalize))
            .filter(|name| !self.packages.contains_key(name))
            .collect();
        missing.sort();
        missing.dedup();
        missing
    }

    /// The lockfile as JSON: `info`, `packages` sorted by name, and `tool` where the base
    /// has one.
    pub fn to_json(&self) -> Value {
        let mut document = Map::new();
        document.insert("info".into(), self.info.clone());
        let packages: Map<String, Value> = self.packages.clone().into_iter().collect();
        document.insert("packages".into(), Value::Object(packages));
        if let Some(tool) = &self.tool {
            document.insert("tool".into(), tool.clone());
        }
        Value::Object(document)
    }

    /// Writes the lockfile atomically.
    pub fn write(&self, path: &Path) -> Result<(), IndexError> {
        let text = serde_json::to_string_pretty(&self.to_json()).expect("JSON serializes");
        crate::fsutil::write_atomic(path, format!("{text}\n").as_bytes())?;
        Ok(())
    }
}

/// The keys whose values differ between two package entries, joined with `, `.
fn differing_keys(a: &Value, b: &Value) -> String {
    let empty = Map::new();
    let (a, b) = (
        a.as_object().unwrap_or(&empty),
        b.as_object().unwrap_or(&empty),
    );
    let mut keys: Vec<&str> = a.keys().chain(b.keys()).map(String::as_str).collect();
    keys.sort();
    keys.dedup();
    keys.retain(|key| a.get(*key) != b.get(*key));
    keys.join("`, `")
}

/// Points the entries of the lockfile at `path` whose `file_name` is one of the `replaced`
/// wheels' old names (alone or after a URL prefix) at the new wheel, with its sha256, and
/// rewrites the file atomically. Every other entry, and the order of keys, is kept. Returns
/// how many entries changed.
pub fn replace_wheels(path: &Path, replaced: &[(String, &Path)]) -> Result<usize, IndexError> {
    let text = fs_err::read_to_string(path)?;
    let mut value: Value = serde_json::from_str(&text).map_err(|e| IndexError::BadLock {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let packages = value.get_mut("packages").and_then(Value::as_object_mut);
    let packages = packages.ok_or_else(|| IndexError::BadLock {
        path: path.to_path_buf(),
        reason: "no `packages` object".to_string(),
    })?;
    let mut changed = 0;
    for entry in packages.values_mut() {
        let Some(file_name) = entry["file_name"].as_str() else {
            continue;
        };
        let (prefix, name) = file_name.rsplit_once('/').unwrap_or(("", file_name));
        let Some((_, new)) = replaced.iter().find(|(old, _)| old == name) else {
            continue;
        };
        let new_name = new.file_name().unwrap_or_default().to_string_lossy();
        let separator = if prefix.is_empty() { "" } else { "/" };
        entry["file_name"] = json!(format!("{prefix}{separator}{new_name}"));
        entry["sha256"] = json!(crate::hash::sha256_file(new)?);
        changed += 1;
    }
    if changed > 0 {
        let text = serde_json::to_string_pretty(&value).expect("JSON serializes");
        crate::fsutil::write_atomic(path, format!("{text}\n").as_bytes())?;
    }
    Ok(changed)
}

/// A shared library's runtime archive, `<name>-<version>.zip`, as Pyodide lists its own.
fn shared_library_entry(stem: &str, sha256: &str) -> Option<(String, Value)> {
    let (name, version) = stem.rsplit_once('-')?;
    let entry = json!({
        "name": name, "version": version, "depends": [], "imports": [],
        "install_dir": "dynlib", "package_type": "shared_library", "sha256": sha256,
        "unvendored_tests": false, "tool": {},
    });
    Some((name.to_string(), entry))
}

/// The package keys of a lockfile's schema: the union over its entries, sorted.
fn schema(packages: &Map<String, Value>) -> Option<Vec<String>> {
    let mut keys: Vec<String> = packages
        .values()
        .filter_map(Value::as_object)
        .flat_map(|entry| entry.keys().cloned())
        .collect();
    keys.sort();
    keys.dedup();
    (!keys.is_empty()).then_some(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(dir: &Path, with_tool: bool) -> std::path::PathBuf {
        let mut six = json!({"name": "six", "version": "1.17.0", "file_name": "six.whl",
            "install_dir": "site", "sha256": "00", "package_type": "package",
            "imports": ["six"], "depends": [], "unvendored_tests": false});
        let mut document = json!({"info": {"abi_version": "2025_0", "arch": "wasm32",
            "platform": "emscripten_4_0_9", "python": "3.13.2"}, "packages": {}});
        if with_tool {
            six["tool"] = json!({});
            document["tool"] = json!({});
        }
        document["packages"]["six"] = six;
        let path = dir.join("pyodide-lock.json");
        fs_err::write(&path, document.to_string()).unwrap();
        path
    }

    fn wheel(name: &str, requires: &[&str]) -> WheelMetadata {
        WheelMetadata {
            name: name.into(),
            version: "1.0".into(),
            requires_dist: requires.iter().map(|r| r.to_string()).collect(),
            requires_python: None,
            imports: vec![name.to_lowercase()],
            raw: Vec::new(),
            sha256: "ab".into(),
        }
    }

    #[test]
    fn entries_have_exactly_the_base_keys() {
        let dir = tempfile::tempdir().unwrap();
        for with_tool in [false, true] {
            let mut lock = Lockfile::from_base(&base(dir.path(), with_tool), true).unwrap();
            lock.add_wheel(&wheel("MarkupSafe", &[]), "m.whl").unwrap();
            let json = lock.to_json();
            let entry = json["packages"]["markupsafe"].as_object().unwrap();
            let six = json["packages"]["six"].as_object().unwrap();
            let keys = |map: &Map<String, Value>| {
                map.keys()
                    .cloned()
                    .collect::<std::collections::BTreeSet<_>>()
            };
            assert_eq!(keys(entry), keys(six), "{entry:?}");
            assert_eq!(json.get("tool").is_some(), with_tool);
            assert_eq!(entry["name"], "MarkupSafe");
        }
    }

    #[test]
    fn depends_follow_markers_for_emscripten() {
        let dir = tempfile::tempdir().unwrap();
        let mut lock = Lockfile::from_base(&base(dir.path(), false), false).unwrap();
        let requires = [
            "Six>=1.0",
            "pywin32; sys_platform == 'win32'",
            "tomli; python_version < '3.11'",
            "pytest; extra == 'test'",
            "pyodide-http; sys_platform == 'emscripten'",
        ];
        lock.add_wheel(&wheel("pkg", &requires), "p.whl").unwrap();
        let json = lock.to_json();
        assert_eq!(
            json["packages"]["pkg"]["depends"],
            json!(["pyodide-http", "six"])
        );
        assert_eq!(lock.missing_dependencies(), ["pyodide-http", "six"]);
        assert!(
            json["packages"].get("six").is_none(),
            "--base none drops base packages"
        );
    }

    #[test]
    fn tests_and_shared_library_archives_get_their_own_entries() {
        let dir = tempfile::tempdir().unwrap();
        let mut lock = Lockfile::from_base(&base(dir.path(), false), false).unwrap();
        lock.add_wheel(&wheel("pkg", &[]), "pkg.whl").unwrap();
        let dist = dir.path().join("dist");
        fs_err::create_dir(&dist).unwrap();
        fs_err::write(dist.join("pkg-tests.zip"), b"t").unwrap();
        fs_err::write(dist.join("libfoo-1.2.zip"), b"l").unwrap();
        fs_err::write(dist.join("gone-tests.zip"), b"x").unwrap();
        let added = lock.add_archives(&dist, "files/").unwrap();
        assert_eq!(added.len(), 2);
        let json = lock.to_json();
        let packages = &json["packages"];
        assert_eq!(packages["pkg"]["unvendored_tests"], true);
        assert_eq!(packages["pkg-tests"]["depends"], json!(["pkg"]));
        assert_eq!(packages["pkg-tests"]["file_name"], "files/pkg-tests.zip");
        assert_eq!(packages["libfoo"]["install_dir"], "dynlib");
        assert_eq!(packages["libfoo"]["package_type"], "shared_library");
        assert_eq!(packages["libfoo"]["version"], "1.2");
        assert!(
            packages.get("gone-tests").is_none(),
            "tests of a package not listed"
        );
    }

    #[test]
    fn an_unknown_schema_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = base(dir.path(), false);
        let text = fs_err::read_to_string(&path)
            .unwrap()
            .replace("\"imports\"", "\"future_key\"");
        fs_err::write(&path, text).unwrap();
        let mut lock = Lockfile::from_base(&path, false).unwrap();
        let error = lock.add_wheel(&wheel("x", &[]), "x.whl").unwrap_err();
        assert!(error.to_string().contains("`future_key`"), "{error}");
    }

    #[test]
    fn merging_unites_packages_and_refuses_conflicts_and_other_targets() {
        let dir = tempfile::tempdir().unwrap();
        let path = base(dir.path(), false);
        let write = |name: &str, lock: &Lockfile| {
            let file = dir.path().join(name);
            lock.write(&file).unwrap();
            file
        };
        let mut a = Lockfile::from_base(&path, true).unwrap();
        a.add_wheel(&wheel("a", &[]), "a.whl").unwrap();
        let mut b = Lockfile::from_base(&path, true).unwrap();
        b.add_wheel(&wheel("b", &[]), "b.whl").unwrap();
        let (a_file, b_file) = (write("a.json", &a), write("b.json", &b));
        let base_lock = Lockfile::from_base(&path, true).unwrap();
        let mut rebuilt_six = b.clone();
        rebuilt_six
            .add_wheel(&wheel("six", &[]), "six.whl")
            .unwrap();
        let six_file = write("six.json", &rebuilt_six);
        let merge = |files: &[&PathBuf]| {
            let files: Vec<PathBuf> = files.iter().map(|f| f.to_path_buf()).collect();
            Lockfile::merge(&files, &base_lock)
        };
        let merged = merge(&[&a_file, &b_file]).unwrap().to_json();
        let names: Vec<&String> = merged["packages"].as_object().unwrap().keys().collect();
        assert_eq!(names, ["a", "b", "six"]);
        for files in [[&a_file, &six_file], [&six_file, &a_file]] {
            let merged = merge(&files).unwrap().to_json();
            assert_eq!(
                merged["packages"]["six"]["sha256"], "ab",
                "the rebuilt six wins"
            );
        }
        let mut other = wheel("a", &[]);
        other.sha256 = "cd".into();
        b.add_wheel(&other, "a.whl").unwrap();
        let b_file = write("b.json", &b);
        let error = merge(&[&a_file, &b_file]).unwrap_err();
        let text = error.to_string();
        assert!(
            text.contains("the package `a` differently (`sha256`)"),
            "{text}"
        );
        assert!(text.contains("a.json") && text.contains("b.json"), "{text}");
        b.info["python"] = json!("3.12.7");
        let error = merge(&[&a_file, &write("c.json", &b)]).unwrap_err();
        let text = error.to_string();
        assert!(text.contains("lockfiles of different targets"), "{text}");
        assert!(text.contains("3.12.7") && text.contains("c.json"), "{text}");
    }

    #[test]
    fn a_lockfile_without_info_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lock.json");
        fs_err::write(&path, r#"{"packages": {}}"#).unwrap();
        let error = Lockfile::from_base(&path, true).unwrap_err();
        assert!(error.to_string().contains("no `info`"), "{error}");
    }

    #[test]
    fn replace_wheels_repoints_matching_entries_only() {
        let dir = tempfile::tempdir().unwrap();
        let new = dir.path().join("six-1-cp313-none-any.whl");
        fs_err::write(&new, "new wheel").unwrap();
        let lock = dir.path().join("pyodide-lock.json");
        let text = json!({"info": {"python": "3.13"}, "packages": {
            "six": {"file_name": "https://x/y/six-1-py3-none-any.whl", "sha256": "old", "name": "six"},
            "attrs": {"file_name": "attrs-1-py3-none-any.whl", "sha256": "keep"},
        }});
        fs_err::write(&lock, text.to_string()).unwrap();
        let replaced = [("six-1-py3-none-any.whl".to_string(), new.as_path())];
        assert_eq!(replace_wheels(&lock, &replaced).unwrap(), 1);
        let value: Value = serde_json::from_str(&fs_err::read_to_string(&lock).unwrap()).unwrap();
        let six = &value["packages"]["six"];
        assert_eq!(six["file_name"], "https://x/y/six-1-cp313-none-any.whl");
        assert_eq!(six["sha256"], crate::hash::sha256_bytes(b"new wheel"));
        assert_eq!(six["name"], "six");
        assert_eq!(value["packages"]["attrs"]["sha256"], "keep");
    }

    /// Found by the `lockfile` fuzz target: a document that is valid JSON but not an object
    /// (here `22`) made `replace_wheels` panic when it indexed `packages`.
    #[test]
    fn replace_wheels_refuses_a_lockfile_of_the_wrong_shape() {
        let dir = tempfile::tempdir().unwrap();
        let lock = dir.path().join("pyodide-lock.json");
        let new = dir.path().join("six-1-py3-none-any.whl");
        let replaced = [("six-1-py3-none-any.whl".to_string(), new.as_path())];
        for text in ["22", "[]", r#"{"packages": 1}"#] {
            fs_err::write(&lock, text).unwrap();
            let error = replace_wheels(&lock, &replaced).unwrap_err();
            assert!(
                error.to_string().contains("no `packages`"),
                "{text}: {error}"
            );
        }
    }
}
