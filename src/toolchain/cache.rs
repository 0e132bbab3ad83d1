//! Compiler caches (ccache, sccache) put in front of emcc's clang through
//! `EM_COMPILER_WRAPPER`, so rebuilds and other machines reuse compiled objects.
//!
//! Measured here: ccache 4.7 caches emcc 3.1.69's clang calls, locally and in a shared Redis
//! (`CCACHE_REMOTE_STORAGE=redis://…`). sccache up to 0.17 refuses them as uncacheable
//! (`-Xclang -iwithsysroot/…`, which emcc 3.1.69 passes); newer emcc may differ.

use std::fmt;
use std::path::PathBuf;

/// Which compiler cache to use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum CompilerCache {
    /// No cache.
    #[default]
    None,
    /// ccache (its own `CCACHE_*` settings apply, e.g. `CCACHE_REMOTE_STORAGE`).
    Ccache,
    /// sccache (its own `SCCACHE_*` settings apply, e.g. `SCCACHE_REDIS_ENDPOINT`).
    Sccache,
}

/// A cache that is not installed.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("`{0}` not found on PATH")]
#[diagnostic(help("install it (`apt-get install {0}`), or pass `--compiler-cache none`"))]
pub struct CacheNotFound(&'static str);

impl fmt::Display for CompilerCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CompilerCache::None => "none",
            CompilerCache::Ccache => "ccache",
            CompilerCache::Sccache => "sccache",
        })
    }
}

impl CompilerCache {
    /// The environment a build needs for this cache: `EM_COMPILER_WRAPPER` with the cache's
    /// full path (emcc execs it without a PATH search), the user's own settings for it, and
    /// a cache directory under emwheel's home unless the user chose one (a build's HOME is
    /// its own throwaway directory).
    pub fn environment(&self) -> Result<Vec<(String, String)>, CacheNotFound> {
        let (program, prefix, dir_variable) = match self {
            CompilerCache::None => return Ok(Vec::new()),
            CompilerCache::Ccache => ("ccache", "CCACHE_", "CCACHE_DIR"),
            CompilerCache::Sccache => ("sccache", "SCCACHE_", "SCCACHE_DIR"),
        };
        let path = which::which(program).map_err(|_| CacheNotFound(program))?;
        let mut vars: Vec<(String, String)> = std::env::vars()
            .filter(|(name, _)| name.starts_with(prefix))
            .collect();
        if !vars.iter().any(|(name, _)| name == dir_variable) {
            vars.push((
                dir_variable.into(),
                default_dir(program).display().to_string(),
            ));
        }
        vars.push(("EM_COMPILER_WRAPPER".into(), path.display().to_string()));
        Ok(vars)
    }
}

fn default_dir(program: &str) -> PathBuf {
    crate::home::home().join("compiler-cache").join(program)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_cache_adds_nothing() {
        assert!(CompilerCache::None.environment().unwrap().is_empty());
    }
}
