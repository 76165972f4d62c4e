//! Audio checks and durations: AMR by frame counting, raw AAC by ADTS frames, M4A via `video`.

use std::io::{Read, Seek, SeekFrom};

use serde::{Deserialize, Serialize};

use crate::error::MediaError;
use crate::sniff::{id3_len, is_adts};

/// What an audio recording says about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AudioInfo {
    /// Duration in milliseconds, when it can be determined.
    pub duration_ms: Option<u64>,
}

/// Total frame sizes in bytes (header byte included) per AMR-NB frame type; `None` = reserved.
const AMR_NB_SIZES: [Option<u64>; 16] = [
    Some(13),
    Some(14),
    Some(16),
    Some(18),
    Some(20),
    Some(21),
    Some(27),
    Some(32),
    Some(6),
    None,
    None,
    None,
    None,
    None,
    None,
    Some(1),
];
/// Same for AMR-WB.
const AMR_WB_SIZES: [Option<u64>; 16] = [
    Some(18),
    Some(24),
    Some(33),
    Some(37),
    Some(41),
    Some(47),
    Some(51),
    Some(59),
    Some(61),
    Some(6),
    None,
    None,
    None,
    None,
    Some(1),
    Some(1),
];
/// ADTS sampling-frequency index table.
const ADTS_RATES: [u64; 13] = [
    96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
];

/// Walks every AMR frame (20 ms each); a reserved frame type or a cut last frame is corruption.
pub(crate) fn amr_info<R: Read>(src: R) -> Result<AudioInfo, MediaError> {
    let mut bytes = std::io::BufReader::new(src).bytes();
    let mut magic = Vec::with_capacity(9);
    for b in bytes.by_ref().take(6) {
        magic.push(b?);
    }
    let table = if magic == b"#!AMR\n" {
        &AMR_NB_SIZES
    } else if magic == b"#!AMR-" {
        let mut rest = Vec::with_capacity(3);
        for b in bytes.by_ref().take(3) {
            rest.push(b?);
        }
        if rest != b"WB\n" {
            return Err(MediaError::corrupt("bad AMR-WB magic"));
        }
        &AMR_WB_SIZES
    } else {
        return Err(MediaError::corrupt("bad AMR magic"));
    };
    let mut frames: u64 = 0;
    while let Some(header) = bytes.next() {
        let header = header?;
        let ft = usize::from((header >> 3) & 0x0F);
        let size = table[ft].ok_or_else(|| MediaError::corrupt("reserved AMR frame type"))?;
        for _ in 1..size {
            match bytes.next() {
                Some(b) => {
                    b?;
                }
                None => return Err(MediaError::corrupt("truncated AMR frame")),
            }
        }
        frames += 1;
    }
    if frames == 0 {
        return Err(MediaError::corrupt("AMR file without frames"));
    }
    Ok(AudioInfo {
        duration_ms: Some(frames * 20),
    })
}

/// Walks ADTS frames of a raw AAC file (after an optional ID3v2 tag) without loading it;
/// bytes that are not a frame are corruption or an appended payload.
pub(crate) fn adts_info<R: Read + Seek>(src: R, len: u64) -> Result<AudioInfo, MediaError> {
    let mut r = std::io::BufReader::new(src);
    let mut head = [0u8; 10];
    let n = read_up_to(&mut r, &mut head)?;
    let mut pos = id3_len(&head[..n]) as u64;
    let mut samples: u64 = 0;
    let mut rate: Option<u64> = None;
    r.seek(SeekFrom::Start(pos))?;
    while pos < len {
        let mut frame = [0u8; 7];
        let got = read_up_to(&mut r, &mut frame)?;
        if !is_adts(&frame[..got]) {
            return Err(if samples == 0 {
                MediaError::corrupt("no ADTS frame")
            } else if got < 7 && frame[..got].iter().all(|&b| b == 0xFF) {
                MediaError::corrupt("truncated ADTS frame header")
            } else {
                MediaError::Polyglot("non-ADTS data after audio frames".into())
            });
        }
        let idx = usize::from((frame[2] >> 2) & 0x0F);
        let this_rate = *ADTS_RATES
            .get(idx)
            .ok_or_else(|| MediaError::corrupt("bad ADTS sampling rate"))?;
        let frame_len = (u64::from(frame[3] & 0x03) << 11)
            | (u64::from(frame[4]) << 3)
            | u64::from(frame[5] >> 5);
        if frame_len < 7 {
            return Err(MediaError::corrupt("ADTS frame shorter than its header"));
        }
        if frame_len > len - pos {
            return Err(MediaError::corrupt("truncated ADTS frame"));
        }
        rate.get_or_insert(this_rate);
        samples += 1024 * (u64::from(frame[6] & 0x03) + 1);
        pos += frame_len;
        // Relative seeks keep BufReader's buffer; frames are a few hundred bytes apart.
        r.seek_relative(i64::try_from(frame_len - 7).unwrap_or(i64::MAX))?;
    }
    let rate = rate.ok_or_else(|| MediaError::corrupt("AAC file without frames"))?;
    Ok(AudioInfo {
        duration_ms: Some(samples * 1000 / rate),
    })
}

/// Reads until `buf` is full or the source ends; returns the count.
fn read_up_to<R: Read>(r: &mut R, buf: &mut [u8]) -> Result<usize, MediaError> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adts_frame(payload: usize) -> Vec<u8> {
        let len = payload + 7;
        // MPEG-4, no CRC, AAC LC, 44.1 kHz (index 4), stereo, one raw data block.
        let mut f = vec![
            0xFF,
            0xF1,
            0x50,
            0x80 | ((len >> 11) & 0x03) as u8,
            ((len >> 3) & 0xFF) as u8,
            (((len & 0x07) << 5) | 0x1F) as u8,
            0xFC,
        ];
        f.resize(len, 0x21);
        f
    }

    #[test]
    fn adts_duration_counts_frames() {
        let data: Vec<u8> = (0..431).flat_map(|_| adts_frame(20)).collect();
        let info = adts_info(std::io::Cursor::new(&data), data.len() as u64).unwrap();
        // 431 frames × 1024 samples / 44100 Hz ≈ 10 s.
        assert_eq!(info.duration_ms, Some(10_007));
    }

    #[test]
    fn truncated_or_padded_adts_is_rejected() {
        let mut data: Vec<u8> = (0..3).flat_map(|_| adts_frame(20)).collect();
        data.truncate(data.len() - 5);
        assert_eq!(
            adts_info(std::io::Cursor::new(&data), data.len() as u64)
                .unwrap_err()
                .code(),
            "corrupt_file"
        );
        let mut data: Vec<u8> = (0..3).flat_map(|_| adts_frame(20)).collect();
        data.extend_from_slice(b"PK\x03\x04zip payload");
        assert_eq!(
            adts_info(std::io::Cursor::new(&data), data.len() as u64)
                .unwrap_err()
                .code(),
            "polyglot"
        );
    }

    #[test]
    fn amr_reserved_frame_type_is_corrupt() {
        let mut data = b"#!AMR\n".to_vec();
        data.push(9 << 3);
        assert_eq!(amr_info(&data[..]).unwrap_err().code(), "corrupt_file");
    }
}
