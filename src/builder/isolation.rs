//! `--sandbox`: a build step (the recipe's scripts and the PEP 517 backend) run with no
//! network and a read-only view of everything outside its build directory, through Linux
//! namespaces made by `unshare`, read-only bind remounts, and `setpriv` dropping every
//! capability. The source fetch and the build venv's pip installs run outside it.

use std::path::{Path, PathBuf};

use super::BuildError;
use crate::process::Cmd;

/// The setup run inside the namespaces (see the template for what it does).
const SETUP: &str = include_str!("../../templates/sandbox.sh");

/// The variable that carries [`SETUP`], so that the command line stays readable.
const SETUP_VARIABLE: &str = "EMWHEEL_SANDBOX_SETUP";

/// How this machine isolates a build step; made by [`Isolation::probe`].
#[derive(Debug, Clone)]
pub struct Isolation {
    unshare: PathBuf,
    flags: Vec<&'static str>,
}

impl Isolation {
    /// Checks that this machine can isolate a build step, by isolating `true`: root can
    /// make the namespaces itself; anyone else needs unprivileged user namespaces.
    pub fn probe() -> Result<Self, BuildError> {
        let unavailable = |reason: String| BuildError::SandboxUnavailable { reason };
        let unshare = which::which("unshare")
            .map_err(|_| unavailable("`unshare` (util-linux) is not on PATH".into()))?;
        for tool in ["mount", "setpriv"] {
            which::which(tool)
                .map_err(|_| unavailable(format!("`{tool}` (util-linux) is not on PATH")))?;
        }
        let mut flags = vec!["--net", "--mount", "--propagation", "private"];
        // SAFETY: geteuid cannot fail.
        if unsafe { libc::geteuid() } != 0 {
            flags.push("--map-root-user");
        }
        let isolation = Isolation { unshare, flags };
        let scratch = tempfile::tempdir()?;
        let writable = fs_err::canonicalize(scratch.path())?;
        let probe =
            Cmd::new("/bin/true").env("PATH", "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin");
        isolation
            .wrap(probe, &writable)
            .run()
            .map_err(|error| unavailable(error.to_string()))?;
        Ok(isolation)
    }

    /// `command`, isolated: no network, and nothing writable but `writable` (a canonical
    /// path) and what lies below it.
    pub fn wrap(&self, command: Cmd, writable: &Path) -> Cmd {
        let mut prefix: Vec<std::ffi::OsString> = self.flags.iter().map(Into::into).collect();
        prefix.extend(
            [
                "--",
                "/bin/sh",
                "-c",
                "eval \"$EMWHEEL_SANDBOX_SETUP\"",
                "emwheel-sandbox",
            ]
            .map(Into::into),
        );
        prefix.push(writable.into());
        command
            .wrapped_in(&self.unshare, prefix)
            .env(SETUP_VARIABLE, SETUP)
    }
}

/// An [`Isolation`] bound to one build directory, the only place its steps may write.
#[derive(Debug, Clone)]
pub struct Confinement {
    isolation: Isolation,
    writable: PathBuf,
}

impl Confinement {
    /// Steps confined to `dir` (made canonical: it becomes a mount point).
    pub fn new(isolation: Isolation, dir: &Path) -> Result<Self, BuildError> {
        let writable = fs_err::canonicalize(dir)?;
        Ok(Confinement {
            isolation,
            writable,
        })
    }

    /// `command`, confined.
    pub fn wrap(&self, command: Cmd) -> Cmd {
        self.isolation.wrap(command, &self.writable)
    }
}

/// Known signs, in a failed step's output, that it tried what the sandbox forbids.
const NETWORK_SIGNS: [&str; 4] = [
    "Network is unreachable",
    "Could not resolve host",
    "Temporary failure in name resolution",
    "Name or service not known",
];

/// A help line when a sandboxed step's `output` shows it tried the network or to write
/// outside `build_dir`.
pub fn sandbox_help(output: &str, build_dir: &Path) -> Option<String> {
    if let Some(sign) = NETWORK_SIGNS.iter().find(|sign| output.contains(*sign)) {
        return Some(format!(
            "`{sign}`: the build ran with `--sandbox`, which has no network; put what it \
             downloads into the recipe (its source, `extras` or patches)"
        ));
    }
    output.contains("Read-only file system").then(|| {
        format!(
            "`Read-only file system`: the build ran with `--sandbox`, which lets it write only \
             inside its build directory `{}`; write below $PKG_BUILD_DIR, $HOME or $TMPDIR",
            build_dir.display()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_names_what_was_forbidden() {
        let dir = Path::new("/tmp/emwheel-x-1");
        let network = sandbox_help("curl: (6) Could not resolve host: pypi.org", dir).unwrap();
        assert!(network.contains("has no network"), "{network}");
        let write = sandbox_help("touch: cannot touch '/x': Read-only file system", dir);
        assert!(write.unwrap().contains("/tmp/emwheel-x-1"));
        assert!(sandbox_help("error: undeclared_function", dir).is_none());
    }

    #[test]
    fn an_isolated_command_has_no_network_and_a_read_only_world() {
        let isolation = Isolation::probe().expect("this machine can sandbox builds");
        let root = tempfile::tempdir().unwrap();
        let writable = fs_err::canonicalize(root.path()).unwrap().join("build");
        fs_err::create_dir(&writable).unwrap();
        let script = "touch inside && ! touch ../outside 2>/dev/null \
                      && ! (exec 3<>/dev/tcp/127.0.0.1/9) 2>/dev/null && echo confined";
        let command = Cmd::new("/bin/bash")
            .args(["-c", script])
            .env("PATH", "/usr/bin:/bin:/usr/sbin:/sbin")
            .dir(&writable);
        let finished = isolation.wrap(command, &writable).run().unwrap();
        assert_eq!(finished.output.trim(), "confined");
        assert!(writable.join("inside").is_file());
        assert!(!root.path().join("outside").exists());
    }
}
