//! 卷宗: a case's file as one package (ZIP) — the index (卷内目录) as PDF, every enforcement
//! document, every piece of evidence as it arrived, the full-process record, and a manifest with
//! each file's SHA-256, so that whoever receives the package (an archive, a court, a reviewing
//! body) can check that nothing was changed. Assembled in a temporary directory (evidence may be
//! large videos), zipped with the `zip` crate.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{render, DocError, DocSpec, Para};

/// One file in the package, as the manifest lists it.
#[derive(Debug, Clone, Serialize)]
pub struct FileEntry {
    /// Path inside the ZIP.
    pub path: String,
    /// What it is (文书名称, the evidence's kind and id, …).
    pub title: String,
    /// SHA-256 of its bytes, hex.
    pub sha256: String,
    /// Bytes.
    pub size: u64,
}

/// The manifest (`manifest.json`): the case and every file.
#[derive(Debug, Serialize)]
pub struct Manifest {
    /// Case id.
    pub case_id: String,
    /// 案号, once filed.
    pub number: Option<String>,
    /// The case's state when the package was made.
    pub status: String,
    /// When the package was made (RFC 3339).
    pub generated_at: String,
    /// Every file but the manifest itself, the index first.
    pub files: Vec<FileEntry>,
    /// Evidence the case names whose upload has not arrived (not in the package).
    pub missing_evidence: Vec<String>,
}

/// What goes into a case file, gathered by the caller.
pub struct CaseFileParts {
    /// Case id, 案号 and state.
    pub case_id: String,
    /// 案号.
    pub number: Option<String>,
    /// State.
    pub status: String,
    /// Issuing body, for the index.
    pub authority: String,
    /// Today (China), for the index.
    pub date: NaiveDate,
    /// Now, RFC 3339.
    pub generated_at: String,
    /// The enforcement documents, in procedure order: (URL name, document).
    pub documents: Vec<(String, DocSpec)>,
    /// Evidence already copied into `dir`: (path relative to `dir`, title).
    pub evidence: Vec<(String, String)>,
    /// Named evidence not arrived.
    pub missing_evidence: Vec<String>,
    /// JSON files: (path, value) — the case as the reader may see it, the record.
    pub json: Vec<(String, serde_json::Value)>,
}

/// Why the package could not be made.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// A document could not be set.
    #[error(transparent)]
    Doc(#[from] DocError),
    /// Writing the temporary files or the ZIP failed.
    #[error("the case file could not be written: {0}")]
    Io(#[from] std::io::Error),
    /// The ZIP writer refused.
    #[error("the case file could not be zipped: {0}")]
    Zip(#[from] zip::result::ZipError),
}

fn sha256_of(path: &Path) -> std::io::Result<(String, u64)> {
    let mut hasher = Sha256::new();
    let mut file = std::fs::File::open(path)?;
    let size = std::io::copy(&mut file, &mut hasher)?;
    Ok((hex::encode(hasher.finalize()), size))
}

/// A file name without characters archives or file systems trip over.
fn safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_alphanumeric() || "-_.（）".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Build the package in `dir` (which already holds the evidence files) and return the path of
/// the ZIP and the manifest's SHA-256.
pub fn build_case_file(
    dir: &Path,
    parts: CaseFileParts,
) -> Result<(PathBuf, Manifest, String), FileError> {
    let mut files: Vec<FileEntry> = Vec::new();
    std::fs::create_dir_all(dir.join("documents"))?;
    for (i, (name, spec)) in parts.documents.iter().enumerate() {
        let path = format!(
            "documents/{:02}-{}-{}.pdf",
            i + 1,
            safe(name),
            safe(&spec.title)
        );
        std::fs::write(dir.join(&path), render(spec)?)?;
        let (sha256, size) = sha256_of(&dir.join(&path))?;
        let title = match &spec.number {
            Some(n) => format!("{} {n}", spec.title),
            None => spec.title.clone(),
        };
        files.push(FileEntry {
            path,
            title,
            sha256,
            size,
        });
    }
    for (path, title) in &parts.evidence {
        let (sha256, size) = sha256_of(&dir.join(path))?;
        files.push(FileEntry {
            path: path.clone(),
            title: title.clone(),
            sha256,
            size,
        });
    }
    for (path, value) in &parts.json {
        let bytes = serde_json::to_vec_pretty(value).map_err(std::io::Error::other)?;
        std::fs::write(dir.join(path), &bytes)?;
        let (sha256, size) = sha256_of(&dir.join(path))?;
        files.push(FileEntry {
            path: path.clone(),
            title: path.clone(),
            sha256,
            size,
        });
    }
    // 卷内目录: one line per file with its SHA-256, in the package order.
    let mut paras: Vec<Para> = vec![
        Para::Field(
            "案号".into(),
            parts.number.clone().unwrap_or_else(|| "（未立案）".into()),
        ),
        Para::Field("案件状态".into(), parts.status.clone()),
        Para::Field("制作时间".into(), parts.generated_at.clone()),
    ];
    for (i, f) in files.iter().enumerate() {
        paras.push(Para::Field(
            format!("{}", i + 1),
            format!(
                "{}（{}，{} 字节）SHA-256 {}",
                f.title, f.path, f.size, f.sha256
            ),
        ));
    }
    for id in &parts.missing_evidence {
        paras.push(Para::Field("未到达的证据".into(), id.clone()));
    }
    let index = DocSpec {
        title: "卷内目录".into(),
        number: parts.number.clone(),
        paras,
        authority: parts.authority.clone(),
        date: parts.date,
    };
    let index_path = "00-卷内目录.pdf".to_owned();
    std::fs::write(dir.join(&index_path), render(&index)?)?;
    let (sha256, size) = sha256_of(&dir.join(&index_path))?;
    files.insert(
        0,
        FileEntry {
            path: index_path,
            title: "卷内目录".into(),
            sha256,
            size,
        },
    );
    let manifest = Manifest {
        case_id: parts.case_id,
        number: parts.number,
        status: parts.status,
        generated_at: parts.generated_at,
        files,
        missing_evidence: parts.missing_evidence,
    };
    let manifest_bytes = serde_json::to_vec_pretty(&manifest).map_err(std::io::Error::other)?;
    let manifest_sha = hex::encode(Sha256::digest(&manifest_bytes));

    let zip_path = dir.join("case-file.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&zip_path)?);
    let deflated = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    // Photos and videos are compressed already: stored as they are.
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    zip.start_file("manifest.json", deflated)?;
    zip.write_all(&manifest_bytes)?;
    for f in &manifest.files {
        let opts = if f.path.starts_with("evidence/") {
            stored
        } else {
            deflated
        };
        zip.start_file(f.path.as_str(), opts.large_file(f.size >= u32::MAX as u64))?;
        std::io::copy(&mut std::fs::File::open(dir.join(&f.path))?, &mut zip)?;
    }
    zip.finish()?;
    Ok((zip_path, manifest, manifest_sha))
}
