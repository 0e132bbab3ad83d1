//! A small static file server for trying a site on loopback (`emwheel serve`): the PEP 691
//! JSON form for clients that ask for it, the HTML form otherwise, CORS for browsers, and a
//! bounded lifetime.

use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, Instant};

/// The PEP 691 JSON media type.
const JSON_MEDIA_TYPE: &str = "application/vnd.pypi.simple.v1+json";

/// What a server serves: the site, directories mounted at URL prefixes, and pages held in
/// memory.
#[derive(Debug, Clone, Default)]
pub struct Routes {
    /// The site directory, for every path nothing else claims.
    pub site: PathBuf,
    /// `(prefix, dir)`: a path starting with `/prefix/` is served from `dir`.
    pub mounts: Vec<(String, PathBuf)>,
    /// `(path, html)`: a page at an exact path.
    pub pages: Vec<(String, String)>,
}

impl Routes {
    /// The directory and the path below it that a request path maps to.
    fn root_for<'a>(&'a self, path: &'a str) -> (&'a Path, &'a str) {
        for (prefix, dir) in &self.mounts {
            if let Some(rest) = path.strip_prefix(&format!("/{prefix}/")) {
                return (dir, rest);
            }
        }
        (&self.site, path)
    }
}

/// Serves `routes` on `address` until `lifetime` passes (forever without one). `on_bound`
/// learns the bound address (port 0 picks a free one) before the first request.
pub fn serve(
    routes: &Routes,
    address: &str,
    lifetime: Option<Duration>,
    on_bound: impl FnOnce(SocketAddr),
) -> io::Result<()> {
    let listener = TcpListener::bind(address)?;
    listener.set_nonblocking(true)?;
    on_bound(listener.local_addr()?);
    let deadline = lifetime.map(|lifetime| Instant::now() + lifetime);
    while deadline.is_none_or(|deadline| Instant::now() < deadline) {
        match listener.accept() {
            Ok((stream, _)) => {
                let routes = routes.clone();
                std::thread::spawn(move || {
                    // A client that hangs up mid-response is its own business.
                    let _ = handle(stream, &routes);
                });
            }
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

/// A parsed request: method, path, host and whether it asks for the JSON form.
struct Request {
    method: String,
    path: String,
    host: Option<String>,
    wants_json: bool,
}

fn read_request(stream: &TcpStream) -> io::Result<Request> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or("/");
    let path = target.split(['?', '#']).next().unwrap_or("/").to_string();
    let (mut wants_json, mut host) = (false, None);
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header.trim().is_empty() {
            break;
        }
        let lower = header.to_ascii_lowercase();
        if lower.starts_with("accept:") && lower.contains(JSON_MEDIA_TYPE) {
            wants_json = true;
        }
        if lower.starts_with("host:") {
            host = Some(header[5..].trim().to_string());
        }
    }
    Ok(Request {
        method,
        path,
        host,
        wants_json,
    })
}

fn handle(mut stream: TcpStream, routes: &Routes) -> io::Result<()> {
    let request = read_request(&stream)?;
    if request.method != "GET" && request.method != "HEAD" {
        return respond(
            &mut stream,
            "405 Method Not Allowed",
            "text/plain",
            b"",
            &request,
        );
    }
    if let Some((_, page)) = routes.pages.iter().find(|(path, _)| *path == request.path) {
        let html = "text/html; charset=utf-8";
        return respond(&mut stream, "200 OK", html, page.as_bytes(), &request);
    }
    let (root, below) = routes.root_for(&request.path);
    let Some(path) = safe_relative(below).map(|relative| root.join(relative)) else {
        return not_found(&mut stream, &request);
    };
    if path.is_dir() && !request.path.ends_with('/') {
        let header = format!(
            "HTTP/1.1 301 Moved Permanently\r\nLocation: {}/\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            request.path
        );
        return stream.write_all(header.as_bytes());
    }
    let (file, content_type) = resolve(&path, request.wants_json);
    let Ok(mut body) = fs_err::read(&file) else {
        return not_found(&mut stream, &request);
    };
    if content_type == JSON_MEDIA_TYPE {
        body = absolute_file_urls(&body, &request);
    }
    respond(&mut stream, "200 OK", content_type, &body, &request)
}

fn not_found(stream: &mut TcpStream, request: &Request) -> io::Result<()> {
    respond(
        stream,
        "404 Not Found",
        "text/plain",
        b"not found\n",
        request,
    )
}

/// Resolves a PEP 691 page's relative file URLs against the request's URL. PEP 691 allows
/// relative URLs, but micropip 0.11 fetches them unresolved (it resolves them only in the
/// HTML form).
fn absolute_file_urls(body: &[u8], request: &Request) -> Vec<u8> {
    let page = serde_json::from_slice::<serde_json::Value>(body);
    let (Some(host), Ok(mut page)) = (&request.host, page) else {
        return body.to_vec();
    };
    for file in page["files"].as_array_mut().into_iter().flatten() {
        if let Some(url) = file["url"].as_str().filter(|url| !url.contains("://")) {
            file["url"] = format!("http://{host}{}", join_url_path(&request.path, url)).into();
        }
    }
    serde_json::to_vec_pretty(&page).unwrap_or_else(|_| body.to_vec())
}

/// `../../files/x.whl` against `/simple/six/` is `/files/x.whl`.
fn join_url_path(directory: &str, relative: &str) -> String {
    if relative.starts_with('/') {
        return relative.to_string();
    }
    let mut parts: Vec<&str> = directory
        .split('/')
        .filter(|part| !part.is_empty())
        .collect();
    for part in relative.split('/') {
        match part {
            ".." => {
                parts.pop();
            }
            "." | "" => {}
            part => parts.push(part),
        }
    }
    format!("/{}", parts.join("/"))
}

/// The file for a path (a directory's index in the asked-for form) and its media type.
fn resolve(path: &Path, wants_json: bool) -> (PathBuf, &'static str) {
    if path.is_dir() {
        let json = path.join("index.json");
        if wants_json && json.is_file() {
            return (json, JSON_MEDIA_TYPE);
        }
        return (path.join("index.html"), "text/html; charset=utf-8");
    }
    (path.to_path_buf(), media_type(path))
}

fn media_type(path: &Path) -> &'static str {
    match path.extension().and_then(|ext| ext.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "json" => "application/json",
        "whl" | "zip" => "application/zip",
        "js" | "mjs" => "text/javascript",
        "wasm" => "application/wasm",
        "metadata" | "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// The request path as a path below the site, or `None` if it would leave it.
fn safe_relative(request_path: &str) -> Option<PathBuf> {
    let decoded = percent_decode(request_path)?;
    let mut relative = PathBuf::new();
    for component in Path::new(&decoded).components() {
        match component {
            Component::Normal(part) => relative.push(part),
            Component::RootDir | Component::CurDir => {}
            Component::ParentDir | Component::Prefix(_) => return None,
        }
    }
    Some(relative)
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' {
            let hex = std::str::from_utf8(bytes.get(index + 1..index + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            index += 3;
        } else {
            out.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8(out)
        .ok()
        .filter(|decoded| !decoded.contains('\0'))
}

fn respond(
    stream: &mut TcpStream,
    status: &str,
    content_type: &str,
    body: &[u8],
    request: &Request,
) -> io::Result<()> {
    let header = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nAccess-Control-Allow-Origin: *\r\nVary: Accept\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(header.as_bytes())?;
    if request.method != "HEAD" {
        stream.write_all(body)?;
    }
    stream.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_that_leave_the_site_are_refused() {
        assert_eq!(
            safe_relative("/simple/six/"),
            Some(PathBuf::from("simple/six"))
        );
        assert_eq!(
            safe_relative("/files/a%2Bb.whl"),
            Some(PathBuf::from("files/a+b.whl"))
        );
        assert_eq!(safe_relative("/../etc/passwd"), None);
        assert_eq!(safe_relative("/files/%2e%2e/%2e%2e/etc/passwd"), None);
        assert_eq!(safe_relative("/files/%00"), None);
    }

    #[test]
    fn relative_urls_resolve_against_the_page() {
        assert_eq!(
            join_url_path("/simple/six/", "../../files/six.whl"),
            "/files/six.whl"
        );
        assert_eq!(
            join_url_path("/sub/simple/six/", "../../files/x.whl"),
            "/sub/files/x.whl"
        );
        assert_eq!(
            join_url_path("/simple/six/", "/files/x.whl"),
            "/files/x.whl"
        );
    }

    #[test]
    fn directories_serve_the_asked_for_form() {
        let dir = tempfile::tempdir().unwrap();
        fs_err::write(dir.path().join("index.html"), "h").unwrap();
        fs_err::write(dir.path().join("index.json"), "j").unwrap();
        assert_eq!(resolve(dir.path(), true).1, JSON_MEDIA_TYPE);
        assert!(resolve(dir.path(), false).0.ends_with("index.html"));
    }

    #[test]
    fn serves_files_over_loopback_until_the_deadline() {
        let dir = tempfile::tempdir().unwrap();
        fs_err::create_dir_all(dir.path().join("simple/six")).unwrap();
        fs_err::write(dir.path().join("simple/six/index.json"), "{}").unwrap();
        fs_err::write(dir.path().join("simple/six/index.html"), "<html>").unwrap();
        let (sender, receiver) = std::sync::mpsc::channel();
        let site = Routes {
            site: dir.path().to_path_buf(),
            ..Routes::default()
        };
        let server = std::thread::spawn(move || {
            serve(
                &site,
                "127.0.0.1:0",
                Some(Duration::from_secs(3)),
                |address| sender.send(address).unwrap(),
            )
        });
        let address = receiver.recv().unwrap();
        let get = |accept: &str| {
            let mut stream = TcpStream::connect(address).unwrap();
            let request =
                format!("GET /simple/six/ HTTP/1.1\r\nHost: x\r\nAccept: {accept}\r\n\r\n");
            stream.write_all(request.as_bytes()).unwrap();
            let mut response = String::new();
            io::Read::read_to_string(&mut stream, &mut response).unwrap();
            response
        };
        assert!(get(JSON_MEDIA_TYPE).contains(&format!("Content-Type: {JSON_MEDIA_TYPE}")));
        let page = r#"{"files": [{"url": "../../files/six.whl"}, {"url": "https://x/y.whl"}]}"#;
        fs_err::write(dir.path().join("simple/six/index.json"), page).unwrap();
        let json = get(JSON_MEDIA_TYPE);
        assert!(json.contains("\"http://x/files/six.whl\""), "{json}");
        assert!(json.contains("\"https://x/y.whl\""), "{json}");
        assert!(get("text/html").ends_with("<html>"));
        server.join().unwrap().unwrap();
    }
}
