//! MP4/MOV/M4A container checks and metadata (duration, size, creation time), and HEIF
//! structure checks, all through the bounded box walker in `bmff`.

use std::io::{Read, Seek};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::bmff::{
    be_i32, be_u32, be_u64, find, fourcc, is_plausible_top_level, BoxHeader, BoxReader,
};
use crate::error::MediaError;

/// Seconds from 1904-01-01 (the MP4 epoch) to 1970-01-01.
const MP4_EPOCH_OFFSET: i64 = 2_082_844_800;

/// What a video container says about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VideoInfo {
    /// Duration in milliseconds, when the movie header gives one.
    pub duration_ms: Option<u64>,
    /// Presentation width of the first video track, in pixels.
    pub width: Option<u32>,
    /// Presentation height of the first video track, in pixels.
    pub height: Option<u32>,
    /// Clockwise rotation from the track matrix (0, 90, 180, 270): portrait phone video.
    pub rotation_degrees: u16,
    /// Creation time from the movie header (UTC by the spec; phones do not always comply).
    pub created_at: Option<DateTime<Utc>>,
    /// Whether the container also has a sound track.
    pub has_audio: bool,
}

/// Tracks found in `moov`, and the movie header values.
#[derive(Debug, Default)]
pub(crate) struct MovieSummary {
    pub duration_ms: Option<u64>,
    pub created_at: Option<DateTime<Utc>>,
    pub video_tracks: Vec<TrackHeader>,
    pub audio_tracks: usize,
}

/// Presentation size and rotation of one video track.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TrackHeader {
    pub width: u32,
    pub height: u32,
    pub rotation: u16,
}

/// Parses and checks an MP4/MOV/M4A file: boxes tile the file, `ftyp` first, one `moov`, media
/// data present. Anything else is a truncated or forged container.
pub(crate) fn read_movie<R: Read + Seek>(
    src: R,
    len: u64,
    max_boxes: u32,
) -> Result<MovieSummary, MediaError> {
    let mut r = BoxReader::new(src, max_boxes);
    let top = check_top_level(&mut r, len)?;
    let moovs: Vec<&BoxHeader> = top.iter().filter(|b| &b.kind == b"moov").collect();
    let [moov] = moovs.as_slice() else {
        return Err(MediaError::corrupt(format!(
            "expected exactly one moov box, found {}",
            moovs.len()
        )));
    };
    if find(&top, b"mdat").is_none() {
        return Err(MediaError::corrupt("no media data (mdat) box"));
    }
    let children = r.children(moov.payload_start, moov.end, false)?;
    let mvhd = find(&children, b"mvhd").ok_or_else(|| MediaError::corrupt("moov without mvhd"))?;
    let mut summary = parse_mvhd(&mut r, mvhd)?;
    for trak in children.iter().filter(|b| &b.kind == b"trak") {
        let parts = r.children(trak.payload_start, trak.end, false)?;
        let handler = match find(&parts, b"mdia") {
            Some(mdia) => {
                let inner = r.children(mdia.payload_start, mdia.end, false)?;
                match find(&inner, b"hdlr") {
                    Some(h) => handler_type(&mut r, h)?,
                    None => None,
                }
            }
            None => None,
        };
        match handler.as_ref() {
            Some(b"vide") => {
                let tkhd = find(&parts, b"tkhd")
                    .ok_or_else(|| MediaError::corrupt("video track without tkhd"))?;
                summary.video_tracks.push(parse_tkhd(&mut r, tkhd)?);
            }
            Some(b"soun") => summary.audio_tracks += 1,
            _ => {}
        }
    }
    Ok(summary)
}

/// Turns a movie summary into the public video description.
pub(crate) fn video_info(m: &MovieSummary) -> VideoInfo {
    let first = m.video_tracks.first();
    VideoInfo {
        duration_ms: m.duration_ms,
        width: first.map(|t| t.width),
        height: first.map(|t| t.height),
        rotation_degrees: first.map_or(0, |t| t.rotation),
        created_at: m.created_at,
        has_audio: m.audio_tracks > 0,
    }
}

/// Checks a HEIF/HEIC file's structure and returns the largest `ispe` (image spatial extent)
/// as its dimensions; pixels are not decoded.
pub(crate) fn read_heif<R: Read + Seek>(
    src: R,
    len: u64,
    max_boxes: u32,
) -> Result<Option<(u32, u32)>, MediaError> {
    let mut r = BoxReader::new(src, max_boxes);
    let top = check_top_level(&mut r, len)?;
    let meta = find(&top, b"meta").ok_or_else(|| MediaError::corrupt("HEIF without meta box"))?;
    // `meta` is a full box: 4 bytes of version/flags before its children.
    let meta_children = r.children(meta.payload_start + 4, meta.end, false)?;
    let Some(iprp) = find(&meta_children, b"iprp") else {
        return Ok(None);
    };
    let props = r.children(iprp.payload_start, iprp.end, false)?;
    let Some(ipco) = find(&props, b"ipco") else {
        return Ok(None);
    };
    let mut best: Option<(u32, u32)> = None;
    for ispe in r
        .children(ipco.payload_start, ipco.end, false)?
        .iter()
        .filter(|b| &b.kind == b"ispe")
    {
        let mut buf = [0u8; 12];
        if r.read_payload(ispe, 0, &mut buf)? < 12 {
            return Err(MediaError::corrupt("short ispe box"));
        }
        let (w, h) = (be_u32(&buf, 4).unwrap_or(0), be_u32(&buf, 8).unwrap_or(0));
        if best.is_none_or(|(bw, bh)| u64::from(w) * u64::from(h) > u64::from(bw) * u64::from(bh)) {
            best = Some((w, h));
        }
    }
    Ok(best)
}

fn check_top_level<R: Read + Seek>(
    r: &mut BoxReader<R>,
    len: u64,
) -> Result<Vec<BoxHeader>, MediaError> {
    let top = r.children(0, len, true)?;
    if top.first().map(|b| &b.kind) != Some(b"ftyp") {
        return Err(MediaError::corrupt("container does not start with ftyp"));
    }
    if let Some(bad) = top.iter().find(|b| !is_plausible_top_level(&b.kind)) {
        return Err(MediaError::Polyglot(format!(
            "unexpected top-level box {:?}",
            fourcc(&bad.kind)
        )));
    }
    Ok(top)
}

fn parse_mvhd<R: Read + Seek>(
    r: &mut BoxReader<R>,
    mvhd: &BoxHeader,
) -> Result<MovieSummary, MediaError> {
    let mut buf = [0u8; 32];
    let n = r.read_payload(mvhd, 0, &mut buf)?;
    let b = &buf[..n];
    let short = || MediaError::corrupt("short mvhd box");
    let (created, timescale, duration) = match b.first() {
        Some(0) => (
            be_u32(b, 4).map(u64::from).ok_or_else(short)?,
            be_u32(b, 12).ok_or_else(short)?,
            // All ones means "unknown".
            Some(be_u32(b, 16).ok_or_else(short)?)
                .filter(|d| *d != u32::MAX)
                .map(u64::from),
        ),
        Some(1) => (
            be_u64(b, 4).ok_or_else(short)?,
            be_u32(b, 20).ok_or_else(short)?,
            Some(be_u64(b, 24).ok_or_else(short)?).filter(|d| *d != u64::MAX),
        ),
        _ => return Err(MediaError::corrupt("unknown mvhd version")),
    };
    if timescale == 0 {
        return Err(MediaError::corrupt("mvhd timescale is zero"));
    }
    let duration_ms = duration
        .map(|d| u128::from(d) * 1000 / u128::from(timescale))
        .and_then(|ms| u64::try_from(ms).ok());
    let created_at = i64::try_from(created)
        .ok()
        .filter(|s| *s > 0)
        .and_then(|s| DateTime::from_timestamp(s - MP4_EPOCH_OFFSET, 0));
    Ok(MovieSummary {
        duration_ms,
        created_at,
        ..MovieSummary::default()
    })
}

fn parse_tkhd<R: Read + Seek>(
    r: &mut BoxReader<R>,
    tkhd: &BoxHeader,
) -> Result<TrackHeader, MediaError> {
    let mut buf = [0u8; 96];
    let n = r.read_payload(tkhd, 0, &mut buf)?;
    let b = &buf[..n];
    // Matrix and size offsets differ by version because the time fields widen to 64 bits.
    let (matrix_at, size_at) = match b.first() {
        Some(0) => (40, 76),
        Some(1) => (52, 88),
        _ => return Err(MediaError::corrupt("unknown tkhd version")),
    };
    let short = || MediaError::corrupt("short tkhd box");
    // Width and height are 16.16 fixed point.
    let width = be_u32(b, size_at).ok_or_else(short)? >> 16;
    let height = be_u32(b, size_at + 4).ok_or_else(short)? >> 16;
    let a = be_i32(b, matrix_at).ok_or_else(short)?;
    let bb = be_i32(b, matrix_at + 4).ok_or_else(short)?;
    const ONE: i32 = 0x1_0000;
    const MINUS_ONE: i32 = -0x1_0000;
    let rotation = match (a, bb) {
        (0, ONE) => 90,
        (MINUS_ONE, 0) => 180,
        (0, MINUS_ONE) => 270,
        _ => 0,
    };
    Ok(TrackHeader {
        width,
        height,
        rotation,
    })
}

fn handler_type<R: Read + Seek>(
    r: &mut BoxReader<R>,
    hdlr: &BoxHeader,
) -> Result<Option<[u8; 4]>, MediaError> {
    let mut buf = [0u8; 12];
    if r.read_payload(hdlr, 0, &mut buf)? < 12 {
        return Ok(None);
    }
    Ok(Some([buf[8], buf[9], buf[10], buf[11]]))
}
