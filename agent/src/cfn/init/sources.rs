//! `sources`: `{dest: url}`. The archive type comes from the URL's path as upstream
//! reads it: `.tgz`/`.tar.gz`, `.tbz2`/`.tar.bz2`, `.zip`, `.tar`, plain `.gz`/`.bz2`
//! (decompressed to `dest/<name without the suffix>`), and GitHub `…/tarball/<ref>` and
//! `…/zipball/<ref>` URLs. Upstream pipes `curl | tar` through a shell; here the file is
//! downloaded with reqwest and unpacked in-process (tar, flate2, bzip2, zip), with
//! entries that would land outside `dest` refused by those crates. A URL whose type cannot
//! be told is an error (upstream silently does nothing).

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::{Context, InitError, kind};

/// An archive type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Archive {
    /// tar + gzip.
    Tgz,
    /// tar + bzip2.
    Tbz2,
    /// zip.
    Zip,
    /// Plain tar.
    Tar,
    /// One gzip-compressed file.
    Gz,
    /// One bzip2-compressed file.
    Bz2,
}

/// The path part of `url` (no query or fragment).
fn url_path(url: &str) -> &str {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    &url[..end]
}

/// The archive type of `url`, as upstream's `_source_type`.
pub fn archive_type(url: &str) -> Option<Archive> {
    let path = url_path(url).to_lowercase();
    let name = path.rsplit('/').next().unwrap_or_default();
    let ends = |s: &str| name.ends_with(s);
    if ends(".tar.gz") || ends(".tgz") {
        Some(Archive::Tgz)
    } else if ends(".tar.bz2") || ends(".tbz2") {
        Some(Archive::Tbz2)
    } else if ends(".zip") {
        Some(Archive::Zip)
    } else if ends(".tar") {
        Some(Archive::Tar)
    } else if ends(".gz") {
        Some(Archive::Gz)
    } else if ends(".bz2") {
        Some(Archive::Bz2)
    } else {
        github_ball(&path)
    }
}

/// GitHub's `http(s)://…github.com/<owner>/<repo>/(tarball|zipball)/<ref>`.
fn github_ball(path: &str) -> Option<Archive> {
    let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    if parts.len() > 2 && parts[0].starts_with("http") && parts[2].ends_with("github.com") {
        match parts[parts.len() - 2] {
            "tarball" => return Some(Archive::Tgz),
            "zipball" => return Some(Archive::Zip),
            _ => {}
        }
    }
    None
}

/// Downloads and unpacks every source.
pub fn apply(
    sources: &Map<String, Value>,
    at: &str,
    ctx: &mut Context<'_>,
) -> Result<(), InitError> {
    for (dest, url) in sources {
        let here = format!("{at}.{dest}");
        let url = match url {
            Value::String(u) => u,
            other => {
                return Err(InitError::invalid(
                    &here,
                    format!("the URL must be a string, not {}", kind(other)),
                ));
            }
        };
        let archive = archive_type(url).ok_or_else(|| {
            InitError::invalid(
                &here,
                format!("cannot tell the archive type of {url:?} (tar, tgz, tbz2, zip, gz, bz2 or a GitHub tarball/zipball URL)"),
            )
        })?;
        let dest = ctx.rooted(dest);
        let io = |path: &Path| {
            let path = path.to_path_buf();
            let here = here.clone();
            move |source| InitError::Io {
                at: here,
                path,
                source,
            }
        };
        std::fs::create_dir_all(&dest).map_err(io(&dest))?;
        let tmp = tempfile::tempdir().map_err(io(Path::new("temporary directory")))?;
        let file = tmp.path().join("download");
        ctx.fetcher
            .fetch(url, &file)
            .map_err(|reason| InitError::Download {
                at: here.clone(),
                url: url.clone(),
                reason,
            })?;
        tracing::info!(at = %here, url = %url, dest = %dest.display(), "unpacking");
        unpack(archive, &file, &dest, url).map_err(|reason| {
            InitError::invalid(&here, format!("cannot unpack {url}: {reason}"))
        })?;
    }
    Ok(())
}

/// Unpacks `file` of type `archive` into `dest`.
pub fn unpack(archive: Archive, file: &Path, dest: &Path, url: &str) -> Result<(), String> {
    let open = || {
        File::open(file)
            .map(BufReader::new)
            .map_err(|e| e.to_string())
    };
    let untar = |reader: Box<dyn std::io::Read>| {
        let mut tar = tar::Archive::new(reader);
        tar.set_preserve_permissions(true);
        // As `tar -x` does: owners kept only when running as root.
        tar.set_preserve_ownerships(nix::unistd::geteuid().is_root());
        tar.set_overwrite(true);
        tar.unpack(dest).map_err(|e| chain(&e))
    };
    match archive {
        Archive::Tgz => untar(Box::new(flate2::read::MultiGzDecoder::new(open()?))),
        Archive::Tbz2 => untar(Box::new(bzip2::read::MultiBzDecoder::new(open()?))),
        Archive::Tar => untar(Box::new(open()?)),
        Archive::Zip => {
            let mut zip = zip::ZipArchive::new(open()?).map_err(|e| e.to_string())?;
            zip.extract(dest).map_err(|e| e.to_string())
        }
        Archive::Gz | Archive::Bz2 => {
            let out = dest.join(single_name(url));
            let mut writer = File::create(&out).map_err(|e| format!("{}: {e}", out.display()))?;
            let mut reader: Box<dyn std::io::Read> = if archive == Archive::Gz {
                Box::new(flate2::read::MultiGzDecoder::new(open()?))
            } else {
                Box::new(bzip2::read::MultiBzDecoder::new(open()?))
            };
            std::io::copy(&mut reader, &mut writer)
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
    }
}

/// An error and its sources (tar's own message leaves out the io error under it).
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    while let Some(s) = next {
        out.push_str(": ");
        out.push_str(&s.to_string());
        next = s.source();
    }
    out
}

/// `name.gz` → `name`: the file a single-file download becomes.
fn single_name(url: &str) -> PathBuf {
    let base = url_path(url).rsplit('/').next().unwrap_or("download");
    let stem = base
        .rsplit_once('.')
        .map(|(s, _)| s)
        .filter(|s| !s.is_empty())
        .unwrap_or("download");
    PathBuf::from(stem)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfn::init::test_support::FakeFetcher;
    use crate::cfn::run::FakeRunner;
    use serde_json::json;

    #[test]
    fn types_come_from_the_url_path() {
        use Archive::*;
        for (url, want) in [
            ("http://h/a.tar.gz", Some(Tgz)),
            ("http://h/a.TGZ", Some(Tgz)),
            ("http://h/a.tar.bz2", Some(Tbz2)),
            ("http://h/a.tbz2", Some(Tbz2)),
            ("http://h/a.zip?x=1", Some(Zip)),
            ("http://h/a.tar", Some(Tar)),
            ("http://h/a.txt.gz", Some(Gz)),
            ("http://h/a.bz2", Some(Bz2)),
            ("https://github.com/o/r/tarball/master", Some(Tgz)),
            ("https://api.github.com/repos/o/r/zipball/v1/", Some(Zip)),
            ("https://example.com/o/r/tarball/master", None),
            ("http://h/a.rpm", None),
        ] {
            assert_eq!(archive_type(url), want, "{url}");
        }
        assert_eq!(
            single_name("http://h/x/notes.txt.gz"),
            PathBuf::from("notes.txt")
        );
    }

    #[test]
    fn a_tarball_and_a_gz_file_unpack_under_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::fast(),
        ));
        let mut header = tar::Header::new_gnu();
        header.set_size(5);
        header.set_mode(0o640);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(0);
        header.set_cksum();
        tar.append_data(&mut header, "sub/hello.txt", &b"hello"[..])
            .unwrap();
        let tgz = tar.into_inner().unwrap().finish().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, b"plain").unwrap();
        let gz = gz.finish().unwrap();
        let mut fetcher = FakeFetcher(vec![
            ("http://h/app.tgz".into(), tgz),
            ("http://h/n.txt.gz".into(), gz),
        ]);
        let mut runner = FakeRunner::default();
        let mut ctx = Context {
            runner: &mut runner,
            fetcher: &mut fetcher,
            root: Some(dir.path().to_path_buf()),
        };
        let sources = json!({"/opt/app": "http://h/app.tgz", "/opt/n": "http://h/n.txt.gz"});
        apply(sources.as_object().unwrap(), "S", &mut ctx).unwrap();
        let hello = dir.path().join("opt/app/sub/hello.txt");
        assert_eq!(std::fs::read_to_string(&hello).unwrap(), "hello");
        assert_eq!(
            std::fs::read_to_string(dir.path().join("opt/n/n.txt")).unwrap(),
            "plain"
        );
        let e = apply(
            json!({"/x": "http://h/missing.tgz"}).as_object().unwrap(),
            "S",
            &mut ctx,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "S./x: cannot download http://h/missing.tgz: HTTP 404 Not Found"
        );
        let e = apply(
            json!({"/x": "http://h/a.rpm"}).as_object().unwrap(),
            "S",
            &mut ctx,
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("S./x: cannot tell the archive type"),
            "{e}"
        );
    }
}
