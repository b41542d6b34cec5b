//! A local directory standing in for Amazon S3.
//!
//! Bucket `b` is the directory `<root>/b/`; object key `k` is the file `<root>/b/k` (a key's
//! `/`s are directories). Used by the operations that read from or write to S3: bulk
//! operations (and export/import). Keys and bucket names are checked so that no object
//! escapes the root: no `..`, `.` or empty path segments, no absolute paths, no backslashes.
//!
//! Objects are listed in key order, as S3's `ListObjectsV2` returns them. Reading an object
//! compressed with gzip is [`S3Dir::read_gzip`]; writing one is [`S3Dir::put`].

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// A directory of buckets. Cheap to clone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Dir {
    root: PathBuf,
}

/// One object found by [`S3Dir::list`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Object {
    /// The object key (always with `/` separators).
    pub key: String,
    /// Size in bytes.
    pub size: u64,
}

/// Why an S3 location cannot be used.
fn bad_location(message: String) -> Error {
    Error::Validation(message)
}

/// Checks one bucket name or key: relative, no `..`/`.`/empty segments, no backslash or NUL.
fn check_segments(what: &str, s: &str, allow_trailing_slash: bool) -> Result<()> {
    let trimmed = if allow_trailing_slash {
        s.strip_suffix('/').unwrap_or(s)
    } else {
        s
    };
    if trimmed.is_empty() {
        return Ok(());
    }
    let bad = trimmed.starts_with('/')
        || trimmed.contains('\\')
        || trimmed.contains('\0')
        || trimmed
            .split('/')
            .any(|seg| seg.is_empty() || seg == "." || seg == "..");
    if bad {
        return Err(bad_location(format!(
            "Invalid S3 {what} for the local S3 directory: {s:?}"
        )));
    }
    Ok(())
}

impl S3Dir {
    /// A directory of buckets at `root` (created when an object is first written).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        S3Dir { root: root.into() }
    }

    /// A fresh root for an engine built without [`crate::EngineBuilder::s3_dir`]:
    /// `ddb-harness-s3-<pid>-<n>` under the system temp dir, `n` counting calls in the process.
    pub fn default_root() -> PathBuf {
        default_root()
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The directory of `bucket`; an error for a name that is not one path segment.
    pub fn bucket_dir(&self, bucket: &str) -> Result<PathBuf> {
        if bucket.is_empty() || bucket.contains('/') {
            return Err(bad_location(format!(
                "Invalid S3 bucket for the local S3 directory: {bucket:?}"
            )));
        }
        check_segments("bucket", bucket, false)?;
        Ok(self.root.join(bucket))
    }

    /// The file of object `key` in `bucket`.
    pub fn object_path(&self, bucket: &str, key: &str) -> Result<PathBuf> {
        if key.is_empty() || key.ends_with('/') {
            return Err(bad_location(format!(
                "Invalid S3 key for the local S3 directory: {key:?}"
            )));
        }
        check_segments("key", key, false)?;
        Ok(self.bucket_dir(bucket)?.join(key))
    }

    /// Whether `bucket` exists (its directory does).
    pub fn bucket_exists(&self, bucket: &str) -> bool {
        self.bucket_dir(bucket).is_ok_and(|d| d.is_dir())
    }

    /// The objects of `bucket` whose key starts with `prefix`, in key order. A missing bucket is
    /// `ResourceNotFound`-free: the caller decides; here it is an empty list.
    pub fn list(&self, bucket: &str, prefix: &str) -> Result<Vec<S3Object>> {
        check_segments("key prefix", prefix, true)?;
        let dir = self.bucket_dir(bucket)?;
        let mut out = Vec::new();
        if dir.is_dir() {
            walk(&dir, String::new(), &mut out)?;
        }
        out.retain(|o| o.key.starts_with(prefix));
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    /// The bytes of an object.
    pub fn get(&self, bucket: &str, key: &str) -> Result<Vec<u8>> {
        let path = self.object_path(bucket, key)?;
        std::fs::read(&path)
            .map_err(|e| Error::Internal(format!("cannot read {}: {e}", path.display())))
    }

    /// The bytes of a gzip-compressed object, decompressed.
    pub fn read_gzip(&self, bucket: &str, key: &str) -> Result<Vec<u8>> {
        gunzip(&self.get(bucket, key)?)
            .map_err(|e| Error::Validation(format!("object {key} is not valid gzip: {e}")))
    }

    /// Writes an object (creating its directories), replacing any object with that key.
    pub fn put(&self, bucket: &str, key: &str, bytes: &[u8]) -> Result<()> {
        let path = self.object_path(bucket, key)?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::Internal(format!("cannot create {}: {e}", dir.display())))?;
        }
        std::fs::write(&path, bytes)
            .map_err(|e| Error::Internal(format!("cannot write {}: {e}", path.display())))
    }
}

/// See [`S3Dir::default_root`].
pub(crate) fn default_root() -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    std::env::temp_dir().join(format!("ddb-harness-s3-{}-{n}", std::process::id()))
}

/// Decompresses gzip bytes (all members).
pub fn gunzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes).read_to_end(&mut out)?;
    Ok(out)
}

fn walk(dir: &Path, prefix: String, out: &mut Vec<S3Object>) -> Result<()> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Error::Internal(format!("cannot list {}: {e}", dir.display())))?;
    for entry in entries {
        let entry =
            entry.map_err(|e| Error::Internal(format!("cannot list {}: {e}", dir.display())))?;
        let Ok(name) = entry.file_name().into_string() else {
            continue; // Not UTF-8: no S3 key names it.
        };
        let key = format!("{prefix}{name}");
        let meta = entry
            .metadata()
            .map_err(|e| Error::Internal(format!("cannot stat {key}: {e}")))?;
        if meta.is_dir() {
            walk(&entry.path(), format!("{key}/"), out)?;
        } else if meta.is_file() {
            out.push(S3Object {
                key,
                size: meta.len(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn temp_root(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "ddb-s3dir-{name}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn objects_round_trip_and_list_in_key_order_under_a_prefix() {
        let root = temp_root("roundtrip");
        let s3 = S3Dir::new(&root);
        s3.put("bkt", "in/b.json", b"2").expect("put");
        s3.put("bkt", "in/a.json", b"1").expect("put");
        s3.put("bkt", "other/c.json", b"333").expect("put");
        assert_eq!(s3.get("bkt", "in/a.json").expect("get"), b"1");
        let keys: Vec<(String, u64)> = s3
            .list("bkt", "in/")
            .expect("list")
            .into_iter()
            .map(|o| (o.key, o.size))
            .collect();
        assert_eq!(
            keys,
            vec![("in/a.json".to_string(), 1), ("in/b.json".to_string(), 1)]
        );
        assert_eq!(s3.list("bkt", "").expect("list").len(), 3);
        assert!(s3.list("missing", "").expect("list").is_empty());
        assert!(s3.bucket_exists("bkt"));
        assert!(!s3.bucket_exists("missing"));
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn gzip_objects_are_decompressed() {
        let root = temp_root("gzip");
        let s3 = S3Dir::new(&root);
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(b"hello").expect("compress");
        s3.put("bkt", "x.gz", &enc.finish().expect("finish"))
            .expect("put");
        assert_eq!(s3.read_gzip("bkt", "x.gz").expect("gunzip"), b"hello");
        s3.put("bkt", "plain", b"not gzip").expect("put");
        assert!(s3.read_gzip("bkt", "plain").is_err());
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn paths_cannot_escape_the_root() {
        let s3 = S3Dir::new("/nonexistent-root");
        for (bucket, key) in [
            ("..", "a"),
            ("b", "../a"),
            ("b", "a/../../x"),
            ("b", "/etc/passwd"),
            ("b", "a//b"),
            ("b", "a\\b"),
            ("a/b", "k"),
            ("", "k"),
            ("b", ""),
        ] {
            assert!(
                s3.object_path(bucket, key).is_err(),
                "{bucket:?} {key:?} accepted"
            );
        }
        assert!(s3.list("b", "../").is_err());
        assert_eq!(
            s3.object_path("b", "dir/k.json").expect("valid"),
            PathBuf::from("/nonexistent-root/b/dir/k.json")
        );
    }
}
