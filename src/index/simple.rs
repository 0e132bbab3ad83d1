//! A static package index: the PEP 503 HTML form and the PEP 691 JSON form of the simple
//! API, with PEP 658/714 metadata files, the wheels, and a `pyodide-lock.json`, so that
//! `micropip.install(…, index_urls=[…])`, `pip download --index-url …` and Pyodide's
//! `lockFileURL` work from any static file host.
//!
//! Layout: `simple/index.{html,json}`, `simple/<project>/index.{html,json}`,
//! `files/<wheel>` and `files/<wheel>.metadata`, `pyodide-lock.json`.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::json;

use super::lock::Lockfile;
use super::{read_all, wheels_in, IndexError};
use crate::fsutil::write_atomic;
use crate::hash::sha256_bytes;
use crate::wheel::{normalize, WheelMetadata};

/// The PEP 691 API version written.
const API_VERSION: &str = "1.1";

/// Where the site's files live and how links are written.
pub struct Site<'a> {
    /// The directory holding the wheels (and their tests and library archives).
    pub dist: &'a Path,
    /// The site directory.
    pub dir: &'a Path,
    /// The URL the site will be served from (`…/` for absolute links); relative if absent.
    pub base_url: Option<&'a str>,
    /// The target's lockfile: its `info`, schema and base packages.
    pub base_lock: &'a Path,
    /// Where the base packages' files are downloaded from (Pyodide's CDN for the target).
    pub base_packages_url: &'a str,
}

/// One wheel as the index lists it.
struct Listed {
    file_name: String,
    metadata: WheelMetadata,
}

/// Writes the site for every wheel in `site.dist`; returns the number of projects.
pub fn write_site(site: &Site) -> Result<usize, IndexError> {
    let wheels = wheels_in(site.dist)?;
    let metadata = read_all(&wheels)?;
    let mut projects: BTreeMap<String, Vec<Listed>> = BTreeMap::new();
    for (path, metadata) in wheels.iter().zip(metadata) {
        let file_name = file_name(path);
        copy_wheel(path, &metadata, site.dir)?;
        projects
            .entry(normalize(&metadata.name))
            .or_default()
            .push(Listed {
                file_name,
                metadata,
            });
    }
    for (project, files) in &projects {
        write_project(site, project, files)?;
    }
    write_root(site, projects.keys())?;
    write_lock(site, &projects)?;
    Ok(projects.len())
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned()
}

fn copy_wheel(path: &Path, metadata: &WheelMetadata, site: &Path) -> Result<(), IndexError> {
    let files = site.join("files");
    let name = file_name(path);
    write_atomic(&files.join(&name), &fs_err::read(path)?)?;
    write_atomic(&files.join(format!("{name}.metadata")), &metadata.raw)?;
    Ok(())
}

/// A link to a file from a project page (`simple/<project>/`).
fn file_url(site: &Site, file_name: &str) -> String {
    match site.base_url {
        Some(base) => format!("{}/files/{file_name}", base.trim_end_matches('/')),
        None => format!("../../files/{file_name}"),
    }
}

fn write_project(site: &Site, project: &str, files: &[Listed]) -> Result<(), IndexError> {
    let dir = site.dir.join("simple").join(project);
    let mut anchors = String::new();
    let mut entries = Vec::new();
    for listed in files {
        let url = file_url(site, &listed.file_name);
        let metadata_sha = sha256_bytes(&listed.metadata.raw);
        let requires_python = listed.metadata.requires_python.clone();
        anchors.push_str(&anchor(
            &url,
            &listed.metadata.sha256,
            &metadata_sha,
            requires_python.as_deref(),
            &listed.file_name,
        ));
        entries.push(json!({
            "filename": listed.file_name,
            "url": url,
            "hashes": { "sha256": listed.metadata.sha256 },
            "requires-python": requires_python,
            "core-metadata": { "sha256": metadata_sha },
            "dist-info-metadata": { "sha256": metadata_sha },
        }));
    }
    let mut versions: Vec<&str> = files.iter().map(|f| f.metadata.version.as_str()).collect();
    versions.dedup();
    let document = json!({
        "meta": { "api-version": API_VERSION },
        "name": project,
        "versions": versions,
        "files": entries,
    });
    write_atomic(
        &dir.join("index.html"),
        page(&format!("Links for {project}"), &anchors).as_bytes(),
    )?;
    write_atomic(&dir.join("index.json"), pretty(&document).as_bytes())?;
    Ok(())
}

/// A PEP 503 anchor with its hash fragment, `data-requires-python` and PEP 714 metadata.
fn anchor(
    url: &str,
    sha256: &str,
    metadata_sha: &str,
    requires_python: Option<&str>,
    text: &str,
) -> String {
    let requires = requires_python
        .map(|spec| format!(" data-requires-python=\"{}\"", html_escape(spec)))
        .unwrap_or_default();
    format!(
        "    <a href=\"{url}#sha256={sha256}\"{requires} data-dist-info-metadata=\"sha256={metadata_sha}\" data-core-metadata=\"sha256={metadata_sha}\">{text}</a><br/>\n"
    )
}

fn write_root<'a>(
    site: &Site,
    projects: impl Iterator<Item = &'a String>,
) -> Result<(), IndexError> {
    let projects: Vec<&String> = projects.collect();
    let anchors: String = projects
        .iter()
        .map(|project| format!("    <a href=\"{project}/\">{project}</a><br/>\n"))
        .collect();
    let document = json!({
        "meta": { "api-version": API_VERSION },
        "projects": projects.iter().map(|name| json!({ "name": name })).collect::<Vec<_>>(),
    });
    let dir = site.dir.join("simple");
    write_atomic(
        &dir.join("index.html"),
        page("Simple index", &anchors).as_bytes(),
    )?;
    write_atomic(&dir.join("index.json"), pretty(&document).as_bytes())?;
    Ok(())
}

/// The site's lockfile: the base packages from the target's CDN, the site's wheels from
/// `files/`, relative to the lockfile (Pyodide resolves them against the lockfile's URL).
fn write_lock(site: &Site, projects: &BTreeMap<String, Vec<Listed>>) -> Result<(), IndexError> {
    let mut lock = Lockfile::from_base(site.base_lock, true)?;
    lock.rebase_package_files(site.base_packages_url);
    for listed in projects.values().flatten() {
        lock.add_wheel(&listed.metadata, &format!("files/{}", listed.file_name))?;
    }
    for archive in lock.add_archives(site.dist, "files/")? {
        let name = archive.file_name().unwrap_or_default();
        write_atomic(&site.dir.join("files").join(name), &fs_err::read(&archive)?)?;
    }
    lock.write(&site.dir.join("pyodide-lock.json"))
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html>\n  <head>\n    <meta name=\"pypi:repository-version\" content=\"1.1\">\n    <title>{title}</title>\n  </head>\n  <body>\n    <h1>{title}</h1>\n{body}  </body>\n</html>\n"
    )
}

fn pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).expect("JSON serializes") + "\n"
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_carry_hashes_and_requires_python() {
        let html = anchor("../../files/x.whl", "ab", "cd", Some(">=3.8,<4"), "x.whl");
        assert!(
            html.contains("href=\"../../files/x.whl#sha256=ab\""),
            "{html}"
        );
        assert!(
            html.contains("data-requires-python=\"&gt;=3.8,&lt;4\""),
            "{html}"
        );
        assert!(html.contains("data-core-metadata=\"sha256=cd\""), "{html}");
        assert!(
            html.contains("data-dist-info-metadata=\"sha256=cd\""),
            "{html}"
        );
    }
}
