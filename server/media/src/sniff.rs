//! Content sniffing: the real type comes from the bytes, never from the name or the client.
//!
//! Hand-checked magic numbers rather than the `infer` crate: the allow-list is small, and we
//! need finer distinctions than `infer` makes (ISO-BMFF brands for MP4 vs MOV vs M4A vs HEIC,
//! ADTS AAC vs MP3), so a table we can read and test in one screen is the safer choice.
//! Sniffing only looks at the head; the structural checks in `image`/`video`/`audio` then
//! prove the rest of the file is what the head claims.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::MediaError;

/// How many bytes of the head [`sniff`] wants to see.
pub const SNIFF_LEN: usize = 512;

/// Broad kind of a media file; each has its own size limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaKind {
    /// Photo.
    Image,
    /// Video clip.
    Video,
    /// Voice recording.
    Audio,
}

impl fmt::Display for MediaKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Image => "image",
            Self::Video => "video",
            Self::Audio => "audio",
        })
    }
}

/// One accepted media type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaType {
    /// JPEG photo.
    Jpeg,
    /// PNG image (screenshots).
    Png,
    /// WebP image.
    Webp,
    /// HEIC photo (HEVC in HEIF); sniffed and checked but not decoded.
    Heic,
    /// Other HEIF image (`mif1`/`msf1` brands); sniffed and checked but not decoded.
    Heif,
    /// MP4 video.
    Mp4,
    /// QuickTime MOV video (iPhone).
    Mov,
    /// AAC audio in an MP4 container (.m4a).
    M4a,
    /// Raw AAC audio in ADTS frames (.aac).
    Aac,
    /// AMR narrowband or wideband voice recording (.amr).
    Amr,
}

impl MediaType {
    /// Which size limit and processing applies.
    pub fn kind(self) -> MediaKind {
        match self {
            Self::Jpeg | Self::Png | Self::Webp | Self::Heic | Self::Heif => MediaKind::Image,
            Self::Mp4 | Self::Mov => MediaKind::Video,
            Self::M4a | Self::Aac | Self::Amr => MediaKind::Audio,
        }
    }

    /// Canonical MIME type to store and serve.
    pub fn mime(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Webp => "image/webp",
            Self::Heic => "image/heic",
            Self::Heif => "image/heif",
            Self::Mp4 => "video/mp4",
            Self::Mov => "video/quicktime",
            Self::M4a => "audio/mp4",
            Self::Aac => "audio/aac",
            Self::Amr => "audio/amr",
        }
    }

    /// File extension (without dot) for downloads.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            Self::Png => "png",
            Self::Webp => "webp",
            Self::Heic => "heic",
            Self::Heif => "heif",
            Self::Mp4 => "mp4",
            Self::Mov => "mov",
            Self::M4a => "m4a",
            Self::Aac => "aac",
            Self::Amr => "amr",
        }
    }

    /// Parses a declared MIME type (aliases phones send included); `None` if not accepted.
    pub fn from_mime(mime: &str) -> Option<Self> {
        let essence = mime
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        Some(match essence.as_str() {
            "image/jpeg" | "image/jpg" | "image/pjpeg" => Self::Jpeg,
            "image/png" => Self::Png,
            "image/webp" => Self::Webp,
            "image/heic" | "image/heic-sequence" => Self::Heic,
            "image/heif" | "image/heif-sequence" => Self::Heif,
            "video/mp4" => Self::Mp4,
            "video/quicktime" => Self::Mov,
            "audio/mp4" | "audio/m4a" | "audio/x-m4a" => Self::M4a,
            "audio/aac" | "audio/aacp" | "audio/x-aac" => Self::Aac,
            "audio/amr" | "audio/amr-wb" | "audio/3gpp" => Self::Amr,
            _ => return None,
        })
    }
}

impl fmt::Display for MediaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.mime())
    }
}

/// Result of sniffing: the type, and for ISO-BMFF whether the brand was generic
/// (`isom`/`mp41`/...), in which case audio-only MP4s may legitimately be declared `audio/mp4`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sniffed {
    /// The type the head claims.
    pub media_type: MediaType,
    /// True for generic ISO brands that fit both video and audio.
    pub generic_iso_brand: bool,
}

/// Determines the type from the first bytes of a file (pass at least [`SNIFF_LEN`] if present).
pub fn sniff(head: &[u8]) -> Result<Sniffed, MediaError> {
    let plain = |media_type| {
        Ok(Sniffed {
            media_type,
            generic_iso_brand: false,
        })
    };
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return plain(MediaType::Jpeg);
    }
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        return plain(MediaType::Png);
    }
    if head.len() >= 12 && &head[0..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        return plain(MediaType::Webp);
    }
    if head.starts_with(b"#!AMR\n") || head.starts_with(b"#!AMR-WB\n") {
        return plain(MediaType::Amr);
    }
    if head.len() >= 12 && &head[4..8] == b"ftyp" {
        return sniff_ftyp(head);
    }
    if is_adts(skip_id3(head)) {
        return plain(MediaType::Aac);
    }
    Err(MediaError::UnsupportedType {
        detected: name_rejected(head),
    })
}

/// Checks a client's declared content type against the sniffed one.
///
/// `None`, empty and `application/octet-stream` mean "not declared" (tus clients often send
/// nothing useful). Pairs that are the same container family (MP4/MOV, HEIC/HEIF) are accepted
/// because phones guess those from the file name; a generic-brand MP4 may be declared as
/// `audio/mp4`, and is then treated as audio (and must have no video track).
pub fn resolve_declared(sniffed: Sniffed, declared: Option<&str>) -> Result<MediaType, MediaError> {
    let Some(raw) = declared
        .map(str::trim)
        .filter(|d| !d.is_empty() && !d.eq_ignore_ascii_case("application/octet-stream"))
    else {
        return Ok(sniffed.media_type);
    };
    let mismatch = || MediaError::TypeMismatch {
        declared: raw.chars().take(100).collect(),
        detected: sniffed.media_type,
    };
    let Some(declared) = MediaType::from_mime(raw) else {
        return Err(mismatch());
    };
    use MediaType::*;
    match (sniffed.media_type, declared) {
        (a, b) if a == b => Ok(a),
        (Mp4, Mov) | (Mov, Mp4) | (Heic, Heif) | (Heif, Heic) => Ok(sniffed.media_type),
        (Mp4, M4a) if sniffed.generic_iso_brand => Ok(M4a),
        _ => Err(mismatch()),
    }
}

fn sniff_ftyp(head: &[u8]) -> Result<Sniffed, MediaError> {
    let major = &head[8..12];
    // Compatible brands follow the minor version; bounded by the box size and what we have.
    let box_len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
    let end = box_len.min(head.len());
    let compatible: Vec<&[u8]> = head.get(16..end).unwrap_or(&[]).chunks_exact(4).collect();
    let has = |brands: &[&[u8; 4]]| {
        brands
            .iter()
            .any(|b| major == &b[..] || compatible.contains(&&b[..]))
    };
    let found = |media_type, generic_iso_brand| {
        Ok(Sniffed {
            media_type,
            generic_iso_brand,
        })
    };
    if has(&[b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"]) {
        return found(MediaType::Heic, false);
    }
    if has(&[b"mif1", b"msf1"]) && !has(&[b"avif", b"avis"]) {
        return found(MediaType::Heif, false);
    }
    match major {
        b"qt  " => found(MediaType::Mov, false),
        b"M4A " | b"M4B " => found(MediaType::M4a, false),
        b"isom" | b"iso2" | b"iso3" | b"iso4" | b"iso5" | b"iso6" | b"mp41" | b"mp42" | b"mp71"
        | b"avc1" | b"dash" | b"MSNV" => found(MediaType::Mp4, true),
        // 3GP containers are a common Android recording format but not on the allow-list.
        _ => Err(MediaError::UnsupportedType {
            detected: Some("iso-bmff"),
        }),
    }
}

/// ADTS sync word with layer 00 (MPEG audio layers 1-3, i.e. MP3, have non-zero layer bits).
pub(crate) fn is_adts(b: &[u8]) -> bool {
    b.len() >= 7 && b[0] == 0xFF && b[1] & 0xF6 == 0xF0
}

/// Skips an ID3v2 tag, which some recorders put before ADTS frames.
pub(crate) fn skip_id3(b: &[u8]) -> &[u8] {
    let len = id3_len(b);
    b.get(len..).unwrap_or(&[])
}

/// Length of a leading ID3v2 tag (header + syncsafe size), 0 if none.
pub(crate) fn id3_len(b: &[u8]) -> usize {
    if b.len() >= 10 && b.starts_with(b"ID3") {
        let size = b[6..10]
            .iter()
            .fold(0usize, |acc, &x| (acc << 7) | usize::from(x & 0x7F));
        let footer = if b[5] & 0x10 != 0 { 10 } else { 0 };
        10 + size + footer
    } else {
        0
    }
}

/// Names a few commonly attempted non-media types, for logs only.
fn name_rejected(head: &[u8]) -> Option<&'static str> {
    let lower: Vec<u8> = head
        .iter()
        .take(64)
        .map(u8::to_ascii_lowercase)
        .skip_while(u8::is_ascii_whitespace)
        .collect();
    if head.starts_with(b"%PDF") {
        Some("pdf")
    } else if head.starts_with(b"\x7fELF") {
        Some("elf")
    } else if head.starts_with(b"PK\x03\x04") {
        Some("zip")
    } else if head.starts_with(b"MZ") {
        Some("pe")
    } else if head.starts_with(b"GIF8") {
        Some("gif")
    } else if lower.starts_with(b"<!doctype html") || lower.starts_with(b"<html") {
        Some("html")
    } else if lower.starts_with(b"<?xml") || lower.starts_with(b"<svg") {
        Some("xml")
    } else if head.starts_with(b"ID3")
        || (head.len() > 1 && head[0] == 0xFF && head[1] & 0xE0 == 0xE0)
    {
        Some("mp3")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ftyp(major: &[u8; 4], compat: &[&[u8; 4]]) -> Vec<u8> {
        let mut v = Vec::new();
        let len = 16 + 4 * compat.len();
        v.extend_from_slice(&(len as u32).to_be_bytes());
        v.extend_from_slice(b"ftyp");
        v.extend_from_slice(major);
        v.extend_from_slice(&[0, 0, 0, 0]);
        for c in compat {
            v.extend_from_slice(&c[..]);
        }
        v
    }

    fn kind_of(head: &[u8]) -> Result<MediaType, MediaError> {
        sniff(head).map(|s| s.media_type)
    }

    #[test]
    fn magic_numbers_are_recognised() {
        assert_eq!(kind_of(b"\xFF\xD8\xFF\xE0rest").ok(), Some(MediaType::Jpeg));
        assert_eq!(kind_of(b"\x89PNG\r\n\x1a\nrest").ok(), Some(MediaType::Png));
        assert_eq!(kind_of(b"RIFF\0\0\0\0WEBPVP8 ").ok(), Some(MediaType::Webp));
        assert_eq!(kind_of(b"#!AMR\n\x3c").ok(), Some(MediaType::Amr));
        assert_eq!(kind_of(b"#!AMR-WB\n").ok(), Some(MediaType::Amr));
        assert_eq!(
            kind_of(&ftyp(b"qt  ", &[b"qt  "])).ok(),
            Some(MediaType::Mov)
        );
        assert_eq!(
            kind_of(&ftyp(b"M4A ", &[b"isom"])).ok(),
            Some(MediaType::M4a)
        );
        assert_eq!(
            kind_of(&ftyp(b"isom", &[b"mp41"])).ok(),
            Some(MediaType::Mp4)
        );
        assert_eq!(
            kind_of(&ftyp(b"heic", &[b"mif1"])).ok(),
            Some(MediaType::Heic)
        );
        assert_eq!(
            kind_of(&ftyp(b"mif1", &[b"heic"])).ok(),
            Some(MediaType::Heic)
        );
        assert_eq!(
            kind_of(&ftyp(b"mif1", &[b"miaf"])).ok(),
            Some(MediaType::Heif)
        );
        assert_eq!(
            kind_of(&[0xFF, 0xF1, 0x50, 0x80, 0x02, 0x1F, 0xFC]).ok(),
            Some(MediaType::Aac)
        );
    }

    #[test]
    fn unknown_types_are_unsupported() {
        for head in [
            &b"%PDF-1.7\n"[..],
            b"\x7fELF\x02\x01\x01\0",
            b"<!DOCTYPE html><html>",
            b"  <html><script>",
            b"PK\x03\x04\x14\0",
            b"GIF89a",
            b"ID3\x04\0\0\0\0\0\0\xFF\xFB\x90\x64\0\0\0",
            b"",
        ] {
            let err = kind_of(head).unwrap_err();
            assert_eq!(err.code(), "unsupported_type", "{head:?}");
        }
        assert_eq!(
            kind_of(&ftyp(b"avif", &[b"mif1", b"avif"]))
                .unwrap_err()
                .code(),
            "unsupported_type"
        );
        assert_eq!(
            kind_of(&ftyp(b"3gp4", &[b"3gp4"])).unwrap_err().code(),
            "unsupported_type"
        );
    }

    #[test]
    fn declared_type_must_agree() {
        let jpeg = sniff(b"\xFF\xD8\xFF\xE0").unwrap();
        assert_eq!(
            resolve_declared(jpeg, Some("image/jpeg")).unwrap(),
            MediaType::Jpeg
        );
        assert_eq!(
            resolve_declared(jpeg, Some("IMAGE/JPEG; q=1")).unwrap(),
            MediaType::Jpeg
        );
        assert_eq!(resolve_declared(jpeg, None).unwrap(), MediaType::Jpeg);
        assert_eq!(
            resolve_declared(jpeg, Some("application/octet-stream")).unwrap(),
            MediaType::Jpeg
        );
        assert_eq!(
            resolve_declared(jpeg, Some("image/png"))
                .unwrap_err()
                .code(),
            "type_mismatch"
        );
        assert_eq!(
            resolve_declared(jpeg, Some("text/html"))
                .unwrap_err()
                .code(),
            "type_mismatch"
        );
        let mp4 = sniff(&ftyp(b"isom", &[])).unwrap();
        assert_eq!(
            resolve_declared(mp4, Some("audio/mp4")).unwrap(),
            MediaType::M4a
        );
        assert_eq!(
            resolve_declared(mp4, Some("video/quicktime")).unwrap(),
            MediaType::Mp4
        );
        assert_eq!(
            resolve_declared(mp4, Some("image/jpeg"))
                .unwrap_err()
                .code(),
            "type_mismatch"
        );
        let mov = sniff(&ftyp(b"qt  ", &[])).unwrap();
        assert_eq!(
            resolve_declared(mov, Some("audio/mp4")).unwrap_err().code(),
            "type_mismatch"
        );
    }
}
