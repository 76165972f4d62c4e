//! A small, bounded ISO-BMFF (MP4/MOV/M4A/HEIF) box walker.
//!
//! Why not the `mp4` crate: it reads whole boxes into memory with sizes taken from the file,
//! only understands MP4 (not QuickTime quirks or HEIF item properties), and we need only a
//! handful of fixed-layout boxes. This walker reads headers with seeks, never allocates from a
//! size found in the file, counts boxes against a budget, and insists that boxes tile their
//! parent exactly, which is what catches truncated uploads and appended payloads.

use std::io::{Read, Seek, SeekFrom};

use crate::error::MediaError;

/// One box header: its four-character type and where it lives in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BoxHeader {
    /// Four-character type, e.g. `moov`.
    pub kind: [u8; 4],
    /// Offset of the first payload byte.
    pub payload_start: u64,
    /// Offset one past the last byte of the box.
    pub end: u64,
}

impl BoxHeader {
    /// Payload length in bytes.
    pub fn payload_len(&self) -> u64 {
        self.end - self.payload_start
    }
}

/// Walks boxes of a seekable source, counting them against a budget.
pub(crate) struct BoxReader<R> {
    src: R,
    budget: u32,
}

impl<R: Read + Seek> BoxReader<R> {
    /// Wraps a source; at most `max_boxes` headers will be read in total.
    pub fn new(src: R, max_boxes: u32) -> Self {
        Self {
            src,
            budget: max_boxes,
        }
    }

    /// Lists the boxes tiling `[start, end)`. `open_end` allows a final size-0 box
    /// ("extends to end of file"), legal only at the top level.
    pub fn children(
        &mut self,
        start: u64,
        end: u64,
        open_end: bool,
    ) -> Result<Vec<BoxHeader>, MediaError> {
        let mut out = Vec::new();
        let mut pos = start;
        while pos < end {
            if self.budget == 0 {
                return Err(MediaError::corrupt("too many boxes in container"));
            }
            self.budget -= 1;
            if end - pos < 8 {
                return Err(MediaError::corrupt("truncated box header"));
            }
            let mut head = [0u8; 8];
            self.read_at(pos, &mut head)?;
            let size32 = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
            let kind = [head[4], head[5], head[6], head[7]];
            let mut header_len = 8u64;
            let size = match size32 {
                0 if open_end => end - pos,
                0 => return Err(MediaError::corrupt("size-0 box inside a container")),
                1 => {
                    if end - pos < 16 {
                        return Err(MediaError::corrupt("truncated large box header"));
                    }
                    let mut large = [0u8; 8];
                    self.read_at(pos + 8, &mut large)?;
                    header_len = 16;
                    u64::from_be_bytes(large)
                }
                n => u64::from(n),
            };
            if &kind == b"uuid" {
                header_len += 16;
            }
            if size < header_len {
                return Err(MediaError::corrupt(format!(
                    "box {} smaller than its header",
                    fourcc(&kind)
                )));
            }
            let box_end = pos.checked_add(size).filter(|e| *e <= end).ok_or_else(|| {
                MediaError::corrupt(format!(
                    "box {} extends past its parent (truncated file?)",
                    fourcc(&kind)
                ))
            })?;
            out.push(BoxHeader {
                kind,
                payload_start: pos + header_len,
                end: box_end,
            });
            pos = box_end;
        }
        Ok(out)
    }

    /// Reads up to `buf.len()` bytes of a box's payload (from `offset` into it); returns how many.
    pub fn read_payload(
        &mut self,
        b: &BoxHeader,
        offset: u64,
        buf: &mut [u8],
    ) -> Result<usize, MediaError> {
        let avail = b.payload_len().saturating_sub(offset);
        let n = usize::try_from(avail).unwrap_or(usize::MAX).min(buf.len());
        self.read_at(b.payload_start + offset, &mut buf[..n])?;
        Ok(n)
    }

    fn read_at(&mut self, pos: u64, buf: &mut [u8]) -> Result<(), MediaError> {
        self.src.seek(SeekFrom::Start(pos))?;
        self.src.read_exact(buf).map_err(|e| {
            if e.kind() == std::io::ErrorKind::UnexpectedEof {
                MediaError::corrupt("unexpected end of file")
            } else {
                MediaError::Io(e)
            }
        })
    }
}

/// First box of `kind` in a list.
pub(crate) fn find<'a>(boxes: &'a [BoxHeader], kind: &[u8; 4]) -> Option<&'a BoxHeader> {
    boxes.iter().find(|b| &b.kind == kind)
}

/// Printable form of a four-character code, for error messages.
pub(crate) fn fourcc(kind: &[u8; 4]) -> String {
    kind.iter()
        .map(|&c| {
            if c.is_ascii_graphic() || c == b' ' {
                c as char
            } else {
                '?'
            }
        })
        .collect()
}

/// Whether a top-level box type looks like a real four-character code (catches appended junk).
pub(crate) fn is_plausible_top_level(kind: &[u8; 4]) -> bool {
    kind.iter()
        .all(|&c| c.is_ascii_alphanumeric() || c == b' ' || c == b'-' || c == b'_')
}

/// Big-endian u32 at `at`, if the slice is long enough.
pub(crate) fn be_u32(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4)
        .map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

/// Big-endian u64 at `at`, if the slice is long enough.
pub(crate) fn be_u64(b: &[u8], at: usize) -> Option<u64> {
    b.get(at..at + 8).map(|s| {
        let mut a = [0u8; 8];
        a.copy_from_slice(s);
        u64::from_be_bytes(a)
    })
}

/// Big-endian i32 at `at`, if the slice is long enough.
pub(crate) fn be_i32(b: &[u8], at: usize) -> Option<i32> {
    be_u32(b, at).map(|v| i32::from_be_bytes(v.to_be_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn bx(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut v = ((payload.len() + 8) as u32).to_be_bytes().to_vec();
        v.extend_from_slice(kind);
        v.extend_from_slice(payload);
        v
    }

    #[test]
    fn boxes_must_tile_their_parent() {
        let data = [bx(b"ftyp", b"isom\0\0\0\0"), bx(b"free", b"")].concat();
        let mut r = BoxReader::new(Cursor::new(&data), 100);
        let boxes = r.children(0, data.len() as u64, true).unwrap();
        assert_eq!(boxes.len(), 2);
        assert_eq!(&boxes[1].kind, b"free");

        let mut cut = data.clone();
        cut.truncate(data.len() - 3);
        let mut r = BoxReader::new(Cursor::new(&cut), 100);
        let e = r.children(0, data.len() as u64 - 3, true).unwrap_err();
        assert_eq!(e.code(), "corrupt_file");
    }

    #[test]
    fn box_budget_is_enforced() {
        let data: Vec<u8> = (0..50).flat_map(|_| bx(b"free", b"")).collect();
        let mut r = BoxReader::new(Cursor::new(&data), 10);
        assert_eq!(
            r.children(0, data.len() as u64, true).unwrap_err().code(),
            "corrupt_file"
        );
    }

    #[test]
    fn huge_declared_box_size_is_truncation_not_allocation() {
        let mut data = bx(b"ftyp", b"isom\0\0\0\0");
        data.extend_from_slice(&[0, 0, 0, 1]);
        data.extend_from_slice(b"mdat");
        data.extend_from_slice(&u64::MAX.to_be_bytes());
        let mut r = BoxReader::new(Cursor::new(&data), 100);
        assert_eq!(
            r.children(0, data.len() as u64, true).unwrap_err().code(),
            "corrupt_file"
        );
    }
}
