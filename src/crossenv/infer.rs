//! The target an input names: a wheel's tags and a lockfile's `info` say which Pyodide they
//! are for, so a command on them needs `--target` only when several installed targets fit.

use std::fmt;

use super::{list_with_default, platform_tag, python_xy, resolve, Target, TargetError};
use crate::wheel::WheelName;

/// What an input says of its target: its wheel platform tag and, when it names one, the
/// CPython tag (an `abi3` wheel fits every later Python).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputTags {
    /// `cp313`, or `None` when the input fits several Pythons.
    pub python_tag: Option<String>,
    /// `pyemscripten_2025_0_wasm32`.
    pub platform_tag: String,
}

impl fmt::Display for InputTags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.python_tag {
            Some(python) => write!(f, "{python}-{}", self.platform_tag),
            None => f.write_str(&self.platform_tag),
        }
    }
}

impl InputTags {
    /// A wheel's tags; `None` for a pure wheel, which fits every target.
    pub fn of_wheel(name: &WheelName) -> Option<Self> {
        if name.platform_tag == "any" {
            return None;
        }
        let python_tag = (name.abi_tag == name.python_tag).then(|| name.python_tag.clone());
        Some(InputTags {
            python_tag,
            platform_tag: name.platform_tag.clone(),
        })
    }

    /// A lockfile's tags, from its `info` (`python`, `abi_version`, `platform`).
    pub fn of_lock_info(info: &serde_json::Value) -> Option<Self> {
        let python = info["python"].as_str()?;
        let platform = info["platform"].as_str()?;
        let abi = info["abi_version"].as_str().unwrap_or_default();
        Some(InputTags {
            python_tag: Some(format!("cp{}", python_xy(python).replace('.', ""))),
            platform_tag: platform_tag(abi, platform),
        })
    }

    fn fits(&self, target: &Target) -> bool {
        let python_ok = self
            .python_tag
            .as_ref()
            .is_none_or(|tag| *tag == target.python_tag());
        python_ok && self.platform_tag == target.info.platform_tag
    }
}

/// The target for inputs with these tags: `--target` (`name`) when given, which must fit
/// them; else the default target when it fits; else the one installed target that fits.
/// Inputs without tags leave the choice to [`resolve`].
pub fn resolve_for(name: Option<&str>, inputs: &[InputTags]) -> Result<Target, TargetError> {
    let Some(first) = inputs.first() else {
        return resolve(name);
    };
    if let Some(other) = inputs
        .iter()
        .find(|tags| tags.platform_tag != first.platform_tag)
    {
        return Err(invalid(
            format!("the inputs are for different targets: `{first}` and `{other}`"),
            "give one command the inputs of one target".to_string(),
        ));
    }
    if let Some(name) = name {
        let target = resolve(Some(name))?;
        return match inputs.iter().find(|tags| !tags.fits(&target)) {
            None => Ok(target),
            Some(tags) => Err(invalid(
                format!(
                    "`--target {name}` is `{}-{}`, but the input is for `{tags}`",
                    target.python_tag(),
                    target.info.platform_tag
                ),
                "drop `--target` to use the target the input names, or give inputs built for it"
                    .to_string(),
            )),
        };
    }
    let (mut targets, default) = list_with_default()?;
    let fits = |target: &Target| inputs.iter().all(|tags| tags.fits(target));
    if let Some(index) = default.or((!targets.is_empty()).then_some(0)) {
        if fits(&targets[index]) {
            return Ok(targets.swap_remove(index));
        }
    }
    let fitting: Vec<usize> = (0..targets.len()).filter(|i| fits(&targets[*i])).collect();
    match fitting.as_slice() {
        [one] => Ok(targets.swap_remove(*one)),
        [] => Err(invalid(
            format!("no installed target is `{first}` (installed: {})", names(&targets)),
            "install the Pyodide version the input was built for (`emwheel target install VERSION`)"
                .to_string(),
        )),
        several => {
            let names: Vec<&str> = several.iter().map(|i| targets[*i].info.name.as_str()).collect();
            Err(invalid(
                format!("the input `{first}` fits several targets: {}", names.join(", ")),
                "choose one with `--target`".to_string(),
            ))
        }
    }
}

fn names(targets: &[Target]) -> String {
    let names: Vec<&str> = targets.iter().map(|t| t.info.name.as_str()).collect();
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    }
}

fn invalid(message: String, help: String) -> TargetError {
    TargetError::Invalid { message, help }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_info_gives_the_tags_of_its_target() {
        let info = serde_json::json!({"abi_version": "2025_0", "arch": "wasm32",
            "platform": "emscripten_4_0_9", "python": "3.13.2"});
        let tags = InputTags::of_lock_info(&info).unwrap();
        assert_eq!(tags.to_string(), "cp313-pyemscripten_2025_0_wasm32");
    }

    #[test]
    fn wheel_tags_fit_targets_of_their_python_and_platform() {
        let target = super::super::test_target();
        let wheel = |name: &str| name.parse::<WheelName>().unwrap();
        let own = wheel("a-1-cp314-cp314-pyemscripten_2026_0_wasm32.whl");
        assert!(InputTags::of_wheel(&own).unwrap().fits(&target));
        let abi3 = wheel("a-1-cp38-abi3-pyemscripten_2026_0_wasm32.whl");
        assert!(InputTags::of_wheel(&abi3).unwrap().fits(&target));
        let other = wheel("a-1-cp313-cp313-pyemscripten_2025_0_wasm32.whl");
        assert!(!InputTags::of_wheel(&other).unwrap().fits(&target));
        assert!(InputTags::of_wheel(&wheel("a-1-py3-none-any.whl")).is_none());
    }
}
