//! Structural checks of image files before decoding: each file must end exactly where its
//! format says it ends. Decoders are lenient (a JPEG decoder happily fills a truncated scan
//! with grey, and ignores what follows EOI), so truncation and appended payloads (a ZIP or
//! HTML after the image: a polyglot) are caught here instead.

use crate::error::MediaError;

/// Most secondary images accepted after an MPF primary (gain maps, depth maps).
const MAX_MPF_IMAGES: usize = 8;

/// Checks JPEG segment structure up to EOI; nothing but zero padding may follow it, except
/// further complete JPEGs when the primary declares a Multi-Picture Format index (APP2 `MPF`):
/// that is how Ultra HDR gain maps and depth maps from current phones are stored.
///
/// Phones' "motion photos" append an MP4 after EOI; those are rejected, by design: an
/// evidence photo must be one thing (the app uploads the still and the video separately).
pub(crate) fn check_jpeg(d: &[u8]) -> Result<(), MediaError> {
    let (mut pos, has_mpf) = scan_jpeg(d)?;
    if has_mpf {
        for _ in 0..MAX_MPF_IMAGES {
            let rest = &d[pos..];
            if !rest.starts_with(&[0xFF, 0xD8]) {
                break;
            }
            pos += scan_jpeg(rest)?.0;
        }
    }
    check_trailer(&d[pos..], "JPEG EOI")
}

/// Walks one JPEG; returns the offset just past its EOI and whether it has an MPF index.
fn scan_jpeg(d: &[u8]) -> Result<(usize, bool), MediaError> {
    if !d.starts_with(&[0xFF, 0xD8]) {
        return Err(MediaError::corrupt("missing JPEG SOI"));
    }
    let truncated = || MediaError::corrupt("truncated JPEG (no EOI)");
    let mut pos = 2usize;
    let mut seen_frame = false;
    let mut has_mpf = false;
    loop {
        // Expect a marker, possibly preceded by fill bytes.
        if *d.get(pos).ok_or_else(truncated)? != 0xFF {
            return Err(MediaError::corrupt(format!(
                "expected JPEG marker at {pos}"
            )));
        }
        while d.get(pos) == Some(&0xFF) {
            pos += 1;
        }
        let marker = *d.get(pos).ok_or_else(truncated)?;
        pos += 1;
        match marker {
            0xD9 => break,
            0x01 | 0xD0..=0xD7 => continue,
            0x00 => return Err(MediaError::corrupt("invalid JPEG marker 0x00")),
            _ => {}
        }
        let len = match d.get(pos..pos + 2) {
            Some(b) => usize::from(u16::from_be_bytes([b[0], b[1]])),
            None => return Err(truncated()),
        };
        if len < 2 {
            return Err(MediaError::corrupt("JPEG segment length below 2"));
        }
        if pos + len > d.len() {
            return Err(truncated());
        }
        if matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
            seen_frame = true;
        }
        if marker == 0xE2 && d[pos + 2..pos + len].starts_with(b"MPF\0") {
            has_mpf = true;
        }
        pos += len;
        if marker == 0xDA {
            if !seen_frame {
                return Err(MediaError::corrupt("JPEG scan before frame header"));
            }
            pos = skip_entropy_data(d, pos).ok_or_else(truncated)?;
        }
    }
    if !seen_frame {
        return Err(MediaError::corrupt("JPEG without frame header"));
    }
    Ok((pos, has_mpf))
}

/// The JPEG without its metadata: every APPn segment (EXIF and its GPS, XMP, ICC, MPF, IPTC,
/// makers' notes) except Adobe's APP14, which says how the colours are coded and carries
/// nothing about the photo, every comment, and everything after the first EOI (MPF secondary
/// images). Frame, tables and scans are copied byte for byte, so the picture is exactly the
/// original's. `None` when the structure is not what [`check_jpeg`] accepts.
///
/// Written here rather than with a container crate: it is the walk [`scan_jpeg`] already does,
/// keeping instead of checking.
pub(crate) fn strip_jpeg_metadata(d: &[u8]) -> Option<Vec<u8>> {
    if !d.starts_with(&[0xFF, 0xD8]) {
        return None;
    }
    let mut out = Vec::with_capacity(d.len());
    out.extend_from_slice(&[0xFF, 0xD8]);
    let mut pos = 2usize;
    loop {
        if *d.get(pos)? != 0xFF {
            return None;
        }
        while d.get(pos) == Some(&0xFF) {
            pos += 1;
        }
        let marker = *d.get(pos)?;
        pos += 1;
        match marker {
            0xD9 => {
                out.extend_from_slice(&[0xFF, 0xD9]);
                return Some(out);
            }
            0x00 | 0x01 | 0xD0..=0xD7 => return None,
            _ => {}
        }
        let len = usize::from(u16::from_be_bytes([*d.get(pos)?, *d.get(pos + 1)?]));
        if len < 2 || pos + len > d.len() {
            return None;
        }
        let body = &d[pos + 2..pos + len];
        let metadata = match marker {
            0xEE => !body.starts_with(b"Adobe"),
            0xE0..=0xEF | 0xFE => true,
            _ => false,
        };
        let mut end = pos + len;
        if marker == 0xDA {
            end = skip_entropy_data(d, end)?;
        }
        if !metadata {
            out.extend_from_slice(&[0xFF, marker]);
            out.extend_from_slice(&d[pos..end]);
        }
        pos = end;
    }
}

/// Returns the offset of the marker (its 0xFF) that ends an entropy-coded segment.
fn skip_entropy_data(d: &[u8], mut pos: usize) -> Option<usize> {
    loop {
        let ff = pos + d.get(pos..)?.iter().position(|&b| b == 0xFF)?;
        match d.get(ff + 1)? {
            // Byte stuffing and restart markers belong to the scan.
            0x00 | 0xD0..=0xD7 => pos = ff + 2,
            0xFF => pos = ff + 1,
            _ => return Some(ff),
        }
    }
}

/// Checks PNG chunk structure: IHDR first, IEND last, lengths within the file, a bounded
/// number of chunks, and nothing after IEND. Returns the IHDR dimensions.
pub(crate) fn check_png(d: &[u8], max_chunks: u32) -> Result<(u32, u32), MediaError> {
    const SIG: &[u8] = b"\x89PNG\r\n\x1a\n";
    if !d.starts_with(SIG) {
        return Err(MediaError::corrupt("missing PNG signature"));
    }
    let truncated = || MediaError::corrupt("truncated PNG (no IEND)");
    let mut pos = SIG.len();
    let mut chunks = 0u32;
    let mut dims = None;
    loop {
        chunks += 1;
        if chunks > max_chunks {
            return Err(MediaError::corrupt("too many PNG chunks"));
        }
        let head = d.get(pos..pos + 8).ok_or_else(truncated)?;
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
        let kind = [head[4], head[5], head[6], head[7]];
        if len > 0x7FFF_FFFF || !kind.iter().all(u8::is_ascii_alphabetic) {
            return Err(MediaError::corrupt("invalid PNG chunk header"));
        }
        let data_start = pos + 8;
        let end = data_start
            .checked_add(len as usize)
            .and_then(|e| e.checked_add(4))
            .filter(|e| *e <= d.len())
            .ok_or_else(truncated)?;
        if chunks == 1 {
            if &kind != b"IHDR" || len != 13 {
                return Err(MediaError::corrupt("PNG does not start with IHDR"));
            }
            let w = &d[data_start..data_start + 8];
            dims = Some((
                u32::from_be_bytes([w[0], w[1], w[2], w[3]]),
                u32::from_be_bytes([w[4], w[5], w[6], w[7]]),
            ));
        }
        pos = end;
        if &kind == b"IEND" {
            break;
        }
    }
    check_trailer(&d[pos..], "PNG IEND")?;
    dims.ok_or_else(|| MediaError::corrupt("PNG without IHDR"))
}

/// Checks that the RIFF size of a WebP file matches the file exactly.
pub(crate) fn check_webp(d: &[u8]) -> Result<(), MediaError> {
    let riff = d
        .get(4..8)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or_else(|| MediaError::corrupt("short WebP header"))?;
    // RIFF payloads are padded to an even length.
    let expected = 8 + u64::from(riff) + u64::from(riff % 2);
    let actual = d.len() as u64;
    if actual < expected {
        return Err(MediaError::corrupt("truncated WebP"));
    }
    check_trailer(
        &d[usize::try_from(expected).unwrap_or(d.len())..],
        "WebP RIFF",
    )
}

/// Anything but zero padding after the format's end is a second payload.
fn check_trailer(rest: &[u8], what: &str) -> Result<(), MediaError> {
    if rest.iter().all(|&b| b == 0) {
        Ok(())
    } else {
        Err(MediaError::Polyglot(format!(
            "{} bytes of data after {what}",
            rest.len()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny_jpeg() -> Vec<u8> {
        // SOI, SOF0 (1x1, 1 component), SOS, one stuffed byte, a restart marker, EOI.
        let mut v = vec![0xFF, 0xD8];
        v.extend_from_slice(&[0xFF, 0xC0, 0x00, 0x0B, 8, 0, 1, 0, 1, 1, 1, 0x11, 0]);
        v.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x08, 1, 1, 0, 0, 0x3F, 0]);
        v.extend_from_slice(&[0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56]);
        v.extend_from_slice(&[0xFF, 0xD9]);
        v
    }

    #[test]
    fn jpeg_structure_accepts_stuffing_and_restarts() {
        check_jpeg(&tiny_jpeg()).unwrap();
    }

    #[test]
    fn jpeg_without_eoi_is_truncated() {
        let mut j = tiny_jpeg();
        j.truncate(j.len() - 2);
        assert_eq!(check_jpeg(&j).unwrap_err().code(), "corrupt_file");
    }

    #[test]
    fn jpeg_with_appended_zip_is_polyglot() {
        let mut j = tiny_jpeg();
        j.extend_from_slice(b"PK\x03\x04\x14\0\0\0");
        assert_eq!(check_jpeg(&j).unwrap_err().code(), "polyglot");
        let mut j = tiny_jpeg();
        j.extend_from_slice(&[0, 0, 0]);
        check_jpeg(&j).unwrap();
    }

    #[test]
    fn secondary_jpegs_are_accepted_only_with_an_mpf_index() {
        let mut with_mpf = vec![0xFF, 0xD8, 0xFF, 0xE2, 0x00, 0x06];
        with_mpf.extend_from_slice(b"MPF\0");
        with_mpf.extend_from_slice(&tiny_jpeg()[2..]);
        let two = [with_mpf.clone(), tiny_jpeg()].concat();
        check_jpeg(&two).unwrap();
        let two_then_zip = [two, b"PK\x03\x04".to_vec()].concat();
        assert_eq!(check_jpeg(&two_then_zip).unwrap_err().code(), "polyglot");
        let plain_two = [tiny_jpeg(), tiny_jpeg()].concat();
        assert_eq!(check_jpeg(&plain_two).unwrap_err().code(), "polyglot");
    }

    #[test]
    fn jpeg_magic_followed_by_html_is_corrupt() {
        let fake = b"\xFF\xD8\xFF\xE0<html><script>alert(1)</script></html>";
        assert!(check_jpeg(fake).is_err());
    }
}
