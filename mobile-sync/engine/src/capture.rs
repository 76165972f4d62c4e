//! Evidence capture: the file is copied into the data directory and hashed at once, so what
//! is uploaded later is exactly what was captured, whatever happens to the phone's gallery.

use std::io::{Read, Write};
use std::path::Path;

use chrono::Utc;
use griddispatch_protocol::command::Position;
use sha2::{Digest, Sha256};

use crate::engine::{Engine, FILES_DIR};
use crate::error::{Error, Result};
use crate::store::NewUpload;

/// Guess a MIME type from a file name (the server checks the bytes anyway).
pub fn guess_content_type(path: &Path) -> Option<&'static str> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    Some(match ext.as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "webp" => "image/webp",
        "heic" => "image/heic",
        "heif" => "image/heif",
        "mp4" => "video/mp4",
        "mov" => "video/quicktime",
        "m4a" => "audio/mp4",
        "aac" => "audio/aac",
        "amr" => "audio/amr",
        _ => return None,
    })
}

impl Engine {
    /// Take a photo, video or recording into the data directory: copy it, compute its
    /// SHA-256 and queue its upload. Returns the new attachment id (UUIDv7) for commands.
    pub fn capture(
        &self,
        path: impl AsRef<Path>,
        content_type: Option<&str>,
        position: Option<Position>,
    ) -> Result<String> {
        self.capture_labelled(path, content_type, position, None)
    }

    /// [`Engine::capture`] of a rectification's photo labelled `before` (整改前) or `after`
    /// (整改后); the server refuses an `after` photo taken before the officers arrived.
    pub fn capture_labelled(
        &self,
        path: impl AsRef<Path>,
        content_type: Option<&str>,
        position: Option<Position>,
        phase: Option<&str>,
    ) -> Result<String> {
        if let Some(p) = phase {
            if p != "before" && p != "after" {
                return Err(Error::Invalid(format!(
                    "标签须为 before 或 after (the label must be before or after, not `{p}`)"
                )));
            }
        }
        let path = path.as_ref();
        let user = self.owner()?;
        let content_type = match content_type {
            Some(c) => c.to_owned(),
            None => guess_content_type(path)
                .ok_or_else(|| {
                    Error::Invalid(format!(
                        "无法判断文件类型，请指定 (cannot tell the type of {}; give it)",
                        path.display()
                    ))
                })?
                .to_owned(),
        };
        let file_name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("evidence")
            .to_owned();
        let attachment_id = uuid::Uuid::now_v7().to_string();
        let rel = format!("{FILES_DIR}/{attachment_id}");
        let dest = self.dir.join(&rel);
        std::fs::create_dir_all(self.dir.join(FILES_DIR))?;
        let (size, sha256) = match copy_hashing(path, &dest) {
            Ok(v) => v,
            Err(e) => {
                let _ = std::fs::remove_file(&dest);
                return Err(e);
            }
        };
        if size == 0 {
            let _ = std::fs::remove_file(&dest);
            return Err(Error::Invalid(format!(
                "文件为空 (empty file): {}",
                path.display()
            )));
        }
        let new = NewUpload {
            attachment_id: attachment_id.clone(),
            user_id: user,
            file_name,
            local_path: rel,
            content_type,
            size,
            sha256,
            captured_at: Utc::now(),
            position,
            phase: phase.map(str::to_owned),
        };
        if let Err(e) = self.lock().insert_upload(&new) {
            let _ = std::fs::remove_file(&dest);
            return Err(e);
        }
        Ok(attachment_id)
    }
}

/// Copy `from` to `to` (fsynced), returning its size and SHA-256 (hex) — of the bytes written,
/// so the hash describes exactly the copy that will be uploaded.
fn copy_hashing(from: &Path, to: &Path) -> Result<(u64, String)> {
    let mut src = std::fs::File::open(from).map_err(|e| {
        Error::Invalid(format!(
            "无法读取文件 (cannot read) {}: {e}",
            from.display()
        ))
    })?;
    let mut dst = std::fs::File::create(to)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut size = 0u64;
    loop {
        let n = src.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        dst.write_all(&buf[..n])?;
        size += n as u64;
    }
    dst.sync_all()?;
    Ok((size, hex::encode(hasher.finalize())))
}

/// SHA-256 (hex) of a file.
pub(crate) fn sha256_file(path: &Path) -> Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::tests::offline_engine;

    #[test]
    fn capture_copies_the_file_and_hashes_it_at_capture_time() {
        let dir = tempfile::tempdir().unwrap();
        let engine = offline_engine(&dir.path().join("data"));
        let photo = dir.path().join("IMG_0001.JPG");
        std::fs::write(&photo, b"first bytes").unwrap();
        let id = engine.capture(&photo, None, None).unwrap();
        // The phone's gallery may change or delete its file afterwards.
        std::fs::write(&photo, b"edited later").unwrap();
        let up = &engine.uploads().unwrap()[0];
        assert_eq!(up.attachment_id, id);
        assert_eq!(up.content_type, "image/jpeg");
        assert_eq!(up.size, 11);
        assert_eq!(up.sha256, hex::encode(Sha256::digest(b"first bytes")));
        assert_eq!(std::fs::read(engine.file_path(up)).unwrap(), b"first bytes");
        assert_eq!(uuid::Uuid::parse_str(&id).unwrap().get_version_num(), 7);
        assert_eq!(engine.status().unwrap().pending_uploads, 1);
    }

    #[test]
    fn capture_refuses_empty_and_unknown_files() {
        let dir = tempfile::tempdir().unwrap();
        let engine = offline_engine(&dir.path().join("data"));
        let empty = dir.path().join("a.jpg");
        std::fs::write(&empty, b"").unwrap();
        assert!(matches!(
            engine.capture(&empty, None, None),
            Err(Error::Invalid(_))
        ));
        let odd = dir.path().join("notes.txt");
        std::fs::write(&odd, b"x").unwrap();
        assert!(matches!(
            engine.capture(&odd, None, None),
            Err(Error::Invalid(_))
        ));
        assert!(engine.uploads().unwrap().is_empty());
        assert_eq!(
            std::fs::read_dir(dir.path().join("data/files"))
                .unwrap()
                .count(),
            0
        );
    }

    #[test]
    fn a_file_changed_after_capture_is_marked_failed_and_not_retried() {
        let dir = tempfile::tempdir().unwrap();
        let engine = offline_engine(&dir.path().join("data"));
        let photo = dir.path().join("p.jpg");
        std::fs::write(&photo, b"original").unwrap();
        engine.capture(&photo, None, None).unwrap();
        let copy = engine.file_path(&engine.uploads().unwrap()[0]);
        std::fs::write(copy, b"tampered").unwrap();
        // Offline: the pull fails, but the bad file is judged before any byte is sent.
        assert!(engine.sync().unwrap_err().is_transient());
        let status = engine.status().unwrap();
        assert_eq!(status.pending_uploads, 0);
        assert_eq!(status.failed_uploads.len(), 1);
        assert_eq!(
            status.failed_uploads[0].code.as_deref(),
            Some("local_file_changed")
        );
        assert!(status.last_error.is_some());
    }
}
