//! The content-hash build cache: a package is rebuilt only when something that determines
//! its wheel changed. Modification times play no part.
//!
//! The key covers the recipe file's bytes, its patches and extra files (bytes), its source
//! (the pinned sha256, or a hash over a local tree's files), the target (name and the
//! sha256 of its `target.json`), the default compile and link flags, the emcc version,
//! emwheel's version, `SOURCE_DATE_EPOCH`,
//! and the wheels (sha256) of its host dependencies. Each package's entry,
//! `<out>/.emwheel/cache/<name>.json`, holds the key, its inputs and the wheel's name and
//! sha256; a package is cached when the key matches and the wheel still has that sha256.
//!
//! Not covered: the host Python packages in the build environment (setuptools and the
//! like), which `BuildEnv` pins by requirement set but whose resolution can drift; pass
//! `--force` after changing them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::builder::Package;
use crate::hash::{sha256_bytes, sha256_file};
use crate::recipe::Recipe;
use crate::wheel::Slim;

/// The version of a cache entry's format; an entry of another version is a miss.
const FORMAT_VERSION: u32 = 1;

/// What every package of one run shares in its key.
#[derive(Debug, Clone)]
pub struct SharedInputs {
    /// The target's name and the sha256 of its `target.json`.
    pub target: String,
    /// The emcc version.
    pub emcc: String,
    /// The default compile and link flags every side module gets (emwheel derives them from
    /// the target, so they change with emwheel, not only with `target.json`).
    pub flags: String,
    /// The timestamp written into wheels.
    pub source_date_epoch: u64,
    /// Whether wheels carry bytecode instead of sources.
    pub py_compile: bool,
    /// Files left out of wheels and their compression level.
    pub slim: Slim,
}

/// The inputs that determine a package's wheel, by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheKey {
    inputs: BTreeMap<String, String>,
}

impl CacheKey {
    /// The key of a recipe's package; `host` holds each host dependency's name and wheel
    /// sha256.
    pub fn new(
        recipe: &Recipe,
        package: &Package,
        shared: &SharedInputs,
        host: &[(String, String)],
    ) -> std::io::Result<Self> {
        let patches = package
            .patches
            .iter()
            .map(|patch| Ok((sha256_file(patch)?, String::new())));
        let extras = package
            .extras
            .iter()
            .map(|(from, to)| Ok((sha256_file(from)?, to.display().to_string())));
        let mut inputs = BTreeMap::from([
            ("emwheel".to_string(), env!("CARGO_PKG_VERSION").to_string()),
            ("recipe".to_string(), sha256_bytes(recipe.text().as_bytes())),
            ("patches".to_string(), digest_list(patches)?),
            ("extras".to_string(), digest_list(extras)?),
            ("source".to_string(), package.source.digest()?),
            ("target".to_string(), shared.target.clone()),
            ("emcc".to_string(), shared.emcc.clone()),
            ("flags".to_string(), shared.flags.clone()),
            (
                "source-date-epoch".to_string(),
                shared.source_date_epoch.to_string(),
            ),
            ("py-compile".to_string(), shared.py_compile.to_string()),
        ]);
        // Only a non-default choice enters the key, so caches from before these flags hold.
        if shared.slim != Slim::default() {
            inputs.insert("slim".to_string(), format!("{:?}", shared.slim));
        }
        for (name, sha256) in host {
            inputs.insert(format!("host {name}"), sha256.clone());
        }
        Ok(CacheKey { inputs })
    }

    /// The sha256 of all inputs.
    pub fn digest(&self) -> String {
        let text = serde_json::to_string(&self.inputs).expect("a string map serializes");
        sha256_bytes(text.as_bytes())
    }

    /// The names of the inputs that differ from `earlier`'s, for "rebuilt because".
    fn changed_since<'a>(&'a self, earlier: &'a CacheKey) -> Vec<&'a str> {
        let names: BTreeSet<&String> = self.inputs.keys().chain(earlier.inputs.keys()).collect();
        names
            .into_iter()
            .filter(|name| self.inputs.get(*name) != earlier.inputs.get(*name))
            .map(String::as_str)
            .collect()
    }
}

/// sha256 over `(digest, detail)` lines: one input for an ordered list of files.
fn digest_list(
    items: impl Iterator<Item = std::io::Result<(String, String)>>,
) -> std::io::Result<String> {
    let mut text = String::new();
    for item in items {
        let (digest, detail) = item?;
        text.push_str(&format!("{digest} {detail}\n"));
    }
    Ok(sha256_bytes(text.as_bytes()))
}

/// A package's cache entry.
#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    format_version: u32,
    key: String,
    inputs: CacheKey,
    wheel: String,
    sha256: String,
}

/// A wheel the cache vouches for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedWheel {
    /// The wheel in the output directory.
    pub path: PathBuf,
    /// Its sha256.
    pub sha256: String,
}

/// What the cache knows of a package.
#[derive(Debug, PartialEq, Eq)]
pub enum Lookup {
    /// The key matches and the wheel is there, unchanged.
    Hit(CachedWheel),
    /// A build is needed; why, in a few words.
    Miss(String),
}

/// The cache entries of one output directory.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
    out_dir: PathBuf,
}

impl Cache {
    /// The cache of wheels in `out_dir`, kept in `<out_dir>/.emwheel/cache`.
    pub fn new(out_dir: &Path) -> Self {
        Cache {
            dir: out_dir.join(super::STATE_DIR).join("cache"),
            out_dir: out_dir.to_path_buf(),
        }
    }

    fn entry_path(&self, package: &str) -> PathBuf {
        self.dir.join(format!("{package}.json"))
    }

    /// Whether `package`'s wheel for `key` is in place.
    pub fn lookup(&self, package: &str, key: &CacheKey) -> Lookup {
        let miss = |why: String| Lookup::Miss(why);
        let entry = match self.read(package) {
            Ok(entry) => entry,
            Err(why) => return miss(why),
        };
        if entry.key != key.digest() {
            return miss(format!(
                "{} changed",
                key.changed_since(&entry.inputs).join(", ")
            ));
        }
        let path = self.out_dir.join(&entry.wheel);
        match sha256_file(&path) {
            Ok(sha256) if sha256 == entry.sha256 => Lookup::Hit(CachedWheel { path, sha256 }),
            Ok(_) => miss(format!("`{}` changed", entry.wheel)),
            Err(_) => miss(format!("`{}` is gone", entry.wheel)),
        }
    }

    /// The entry, or why there is none to use.
    fn read(&self, package: &str) -> Result<Entry, String> {
        let text = fs_err::read_to_string(self.entry_path(package))
            .map_err(|_| "not built before".to_string())?;
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|_| "cache entry unreadable".to_string())?;
        let version = value["format_version"].as_u64().unwrap_or(0);
        if version != u64::from(FORMAT_VERSION) {
            return Err(format!("cache entry has format version {version}"));
        }
        serde_json::from_value(value).map_err(|_| "cache entry unreadable".to_string())
    }

    /// Records that `key` built `wheel`. A wheel the previous entry named, when it has
    /// another name (the version changed), is removed so that the output directory holds
    /// one wheel per package.
    pub fn store(&self, package: &str, key: &CacheKey, wheel: &CachedWheel) -> std::io::Result<()> {
        // A wheel is named within the output directory; a library recipe's output (its
        // manifest in the target's library prefix) lives elsewhere and is named in full.
        let name = match wheel.path.parent() == Some(self.out_dir.as_path()) {
            true => wheel
                .path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned(),
            false => std::path::absolute(&wheel.path)?.display().to_string(),
        };
        if let Ok(previous) = self.read(package) {
            if previous.wheel != name && !Path::new(&previous.wheel).is_absolute() {
                remove_if_present(&self.out_dir.join(&previous.wheel))?;
            }
        }
        let entry = Entry {
            format_version: FORMAT_VERSION,
            key: key.digest(),
            inputs: key.clone(),
            wheel: name,
            sha256: wheel.sha256.clone(),
        };
        let text = serde_json::to_string_pretty(&entry).expect("an entry serializes");
        crate::fsutil::write_atomic(&self.entry_path(package), text.as_bytes())
    }
}

fn remove_if_present(path: &Path) -> std::io::Result<()> {
    match fs_err::remove_file(path) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(error),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::testutil::RecipeDir;

    /// A recipe with a local source tree, a patch and an extra file.
    fn recipe_dir() -> RecipeDir {
        let dir = RecipeDir::new(&[]);
        let root = dir.path().join("pkg");
        fs_err::create_dir_all(root.join("tree")).unwrap();
        fs_err::write(root.join("tree/setup.py"), "setup()").unwrap();
        fs_err::write(root.join("fix.patch"), "patch").unwrap();
        fs_err::write(root.join("extra.c"), "int x;").unwrap();
        let text = "[package]\nname = \"pkg\"\nversion = \"1\"\n[source]\npath = \"tree\"\npatches = [\"fix.patch\"]\nextras = [[\"extra.c\", \"extra.c\"]]\n";
        fs_err::write(root.join("recipe.toml"), text).unwrap();
        dir
    }

    fn shared() -> SharedInputs {
        SharedInputs {
            target: "0.29.5 abc".into(),
            emcc: "3.1.69".into(),
            flags: "-O2 -Oz | -Oz | -sSIDE_MODULE=1 -Oz".into(),
            source_date_epoch: 315_532_800,
            py_compile: false,
            slim: Slim::default(),
        }
    }

    fn key_of(dir: &RecipeDir, shared: &SharedInputs, host: &[(String, String)]) -> String {
        let set = dir.load();
        let recipe = set.get("pkg").unwrap();
        let package = Package::from_recipe(recipe);
        CacheKey::new(recipe, &package, shared, host)
            .unwrap()
            .digest()
    }

    #[test]
    fn every_input_changes_the_key_and_times_do_not() {
        let dir = recipe_dir();
        let root = dir.path().join("pkg");
        let base = key_of(&dir, &shared(), &[]);
        let file = fs_err::File::options()
            .write(true)
            .open(root.join("tree/setup.py"))
            .unwrap();
        file.set_modified(std::time::SystemTime::UNIX_EPOCH)
            .unwrap();
        assert_eq!(
            key_of(&dir, &shared(), &[]),
            base,
            "a new mtime alone must not count"
        );

        let mut seen = vec![base];
        let mut changed = |key: String, what: &str| {
            assert!(!seen.contains(&key), "{what} did not change the key");
            seen.push(key);
        };
        for (file, bytes) in [
            ("tree/setup.py", "setup(x=1)"),
            ("fix.patch", "patch 2"),
            ("extra.c", "int y;"),
        ] {
            fs_err::write(root.join(file), bytes).unwrap();
            changed(key_of(&dir, &shared(), &[]), file);
        }
        let text = fs_err::read_to_string(root.join("recipe.toml")).unwrap();
        fs_err::write(root.join("recipe.toml"), text + "# a comment\n").unwrap();
        changed(key_of(&dir, &shared(), &[]), "recipe.toml");
        let other = |edit: fn(&mut SharedInputs)| {
            let mut shared = shared();
            edit(&mut shared);
            key_of(&dir, &shared, &[])
        };
        changed(other(|s| s.target = "0.29.5 def".into()), "target");
        changed(other(|s| s.emcc = "4.0.9".into()), "emcc");
        changed(
            other(|s| s.flags = "-O2 | | -sSIDE_MODULE=1".into()),
            "flags",
        );
        changed(other(|s| s.source_date_epoch = 1), "SOURCE_DATE_EPOCH");
        changed(other(|s| s.py_compile = true), "py-compile");
        changed(other(|s| s.slim.strip_docs = true), "strip-docs");
        changed(
            other(|s| s.slim.strip_type_stubs = true),
            "strip-type-stubs",
        );
        changed(other(|s| s.slim.strip_sources = true), "strip-sources");
        changed(
            other(|s| s.slim.compression_level = Some(9)),
            "compression level",
        );
        let host = [("lib".to_string(), "1".repeat(64))];
        changed(key_of(&dir, &shared(), &host), "host dependency");
        let host = [("lib".to_string(), "2".repeat(64))];
        changed(key_of(&dir, &shared(), &host), "host dependency's wheel");
    }

    fn key(source: &str) -> CacheKey {
        CacheKey {
            inputs: BTreeMap::from([
                ("source".to_string(), source.to_string()),
                ("emcc".to_string(), "3.1.69".to_string()),
            ]),
        }
    }

    #[test]
    fn outputs_outside_the_output_directory_are_found_again() {
        let out = tempfile::tempdir().unwrap();
        let prefix = tempfile::tempdir().unwrap();
        let manifest = prefix.path().join("libfoo.json");
        fs_err::write(&manifest, "{}").unwrap();
        let cache = Cache::new(out.path());
        let built = CachedWheel {
            path: manifest.clone(),
            sha256: sha256_file(&manifest).unwrap(),
        };
        cache.store("libfoo", &key("a"), &built).unwrap();
        assert_eq!(cache.lookup("libfoo", &key("a")), Lookup::Hit(built));
        assert!(
            manifest.is_file(),
            "a library's output is never removed as a stale wheel"
        );
    }

    #[test]
    fn a_hit_needs_the_same_key_and_the_same_wheel() {
        let out = tempfile::tempdir().unwrap();
        let cache = Cache::new(out.path());
        assert_eq!(
            cache.lookup("pkg", &key("a")),
            Lookup::Miss("not built before".into())
        );
        let path = out.path().join("pkg-1-py3-none-any.whl");
        fs_err::write(&path, "wheel").unwrap();
        let wheel = CachedWheel {
            path: path.clone(),
            sha256: sha256_file(&path).unwrap(),
        };
        cache.store("pkg", &key("a"), &wheel).unwrap();
        assert_eq!(cache.lookup("pkg", &key("a")), Lookup::Hit(wheel.clone()));
        assert_eq!(
            cache.lookup("pkg", &key("b")),
            Lookup::Miss("source changed".into())
        );
        fs_err::write(&path, "tampered").unwrap();
        let why = Lookup::Miss("`pkg-1-py3-none-any.whl` changed".into());
        assert_eq!(cache.lookup("pkg", &key("a")), why);
        fs_err::remove_file(&path).unwrap();
        let why = Lookup::Miss("`pkg-1-py3-none-any.whl` is gone".into());
        assert_eq!(cache.lookup("pkg", &key("a")), why);
    }

    #[test]
    fn a_new_wheel_name_replaces_the_old_wheel() {
        let out = tempfile::tempdir().unwrap();
        let cache = Cache::new(out.path());
        let mut wheels = Vec::new();
        for version in ["1", "2"] {
            let path = out.path().join(format!("pkg-{version}-py3-none-any.whl"));
            fs_err::write(&path, version).unwrap();
            let wheel = CachedWheel {
                sha256: sha256_file(&path).unwrap(),
                path,
            };
            cache.store("pkg", &key(version), &wheel).unwrap();
            wheels.push(wheel.path);
        }
        assert!(!wheels[0].exists());
        assert!(wheels[1].exists());
    }

    #[test]
    fn an_entry_of_another_format_is_a_miss() {
        let out = tempfile::tempdir().unwrap();
        let cache = Cache::new(out.path());
        fs_err::create_dir_all(out.path().join(".emwheel/cache")).unwrap();
        fs_err::write(
            out.path().join(".emwheel/cache/pkg.json"),
            r#"{"format_version": 2}"#,
        )
        .unwrap();
        let why = Lookup::Miss("cache entry has format version 2".into());
        assert_eq!(cache.lookup("pkg", &key("a")), why);
    }
}
