//! Enforcement documents (执法文书) as PDF: a document is described as data (title, number,
//! labelled paragraphs, the issuing body and date) and set on A4 in one layout, in Chinese,
//! with the bundled CJK font subset into the file (`server/fonts/`). `krilla` writes the PDF;
//! the layout here is only line breaking and placement, which the documents' plain form needs.

mod case;
mod file;
mod task;
mod transfer;

pub use case::{case_documents, DocumentKind};
pub use file::{build_case_file, CaseFileParts, FileEntry, FileError, Manifest};
pub use task::{simple_penalty_decision, SimpleDecisionContext};
pub use transfer::{assistance_letter, transfer_letter};

use chrono::NaiveDate;
use krilla::geom::{Point, Size};
use krilla::page::PageSettings;
use krilla::text::{Font, TextDirection};
use krilla::Document;

/// The font every document is set in (WenQuanYi Micro Hei, Apache-2.0; see server/fonts/).
static FONT_BYTES: &[u8] = include_bytes!("../../fonts/wqy-microhei.ttc");

const PAGE_W: f32 = 595.0;
const PAGE_H: f32 = 842.0;
const MARGIN_X: f32 = 72.0;
const MARGIN_TOP: f32 = 72.0;
const MARGIN_BOTTOM: f32 = 72.0;
const BODY: f32 = 12.0;
const LINE: f32 = 21.0;
const TITLE: f32 = 20.0;

/// One paragraph of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Para {
    /// `label：text`, the label in the first line.
    Field(String, String),
    /// Running text, indented two characters as Chinese documents are.
    Text(String),
}

/// A document to set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocSpec {
    /// 文书名称, e.g. 行政处罚决定书.
    pub title: String,
    /// 文号, e.g. 罚决〔2026〕1号.
    pub number: Option<String>,
    /// The body.
    pub paras: Vec<Para>,
    /// Issuing body (作出机关), above the seal line.
    pub authority: String,
    /// Date under the issuing body.
    pub date: NaiveDate,
}

/// Why a document could not be made.
#[derive(Debug, thiserror::Error)]
pub enum DocError {
    /// The bundled font does not load (a broken build).
    #[error("the bundled document font cannot be read")]
    Font,
    /// The PDF writer refused.
    #[error("the PDF could not be written: {0}")]
    Pdf(String),
}

/// Width of `text` at `size`, in points: CJK and full-width forms take a full em, the rest
/// about half (the font's Latin glyphs are proportional; half an em is a safe upper bound for
/// the digits and letters these documents carry).
fn width(text: &str, size: f32) -> f32 {
    text.chars()
        .map(|c| if (c as u32) < 0x2E80 { 0.55 } else { 1.0 })
        .sum::<f32>()
        * size
}

/// Break `text` into lines no wider than `max` at `size` (Chinese breaks between any two
/// characters; explicit newlines are kept).
fn wrap(text: &str, size: f32, max: f32) -> Vec<String> {
    let mut lines = Vec::new();
    for raw in text.split('\n') {
        let mut line = String::new();
        for ch in raw.chars() {
            let mut next = line.clone();
            next.push(ch);
            if width(&next, size) > max && !line.is_empty() {
                lines.push(std::mem::take(&mut line));
                line.push(ch);
            } else {
                line = next;
            }
        }
        lines.push(line);
    }
    lines
}

/// Set a document as PDF bytes. The same document always gives the same bytes (no clock, no
/// random ids), so its SHA-256 identifies it.
pub fn render(doc: &DocSpec) -> Result<Vec<u8>, DocError> {
    let font = Font::new(FONT_BYTES.into(), 0).ok_or(DocError::Font)?;
    // Lines to place: (x, size, text); `None` breaks the page when it is full.
    let mut items: Vec<(f32, f32, String)> = Vec::new();
    let body_w = PAGE_W - 2.0 * MARGIN_X;
    items.push((
        (PAGE_W - width(&doc.title, TITLE)) / 2.0,
        TITLE,
        doc.title.clone(),
    ));
    if let Some(n) = &doc.number {
        items.push((PAGE_W - MARGIN_X - width(n, BODY), BODY, n.clone()));
    }
    items.push((MARGIN_X, BODY, String::new()));
    for p in &doc.paras {
        let text = match p {
            Para::Field(label, text) => format!("{label}：{text}"),
            Para::Text(text) => format!("\u{3000}\u{3000}{text}"),
        };
        for line in wrap(&text, BODY, body_w) {
            items.push((MARGIN_X, BODY, line));
        }
    }
    items.push((MARGIN_X, BODY, String::new()));
    let date = format!(
        "{}年{}月{}日",
        doc.date.format("%Y"),
        doc.date.format("%-m"),
        doc.date.format("%-d")
    );
    for line in [doc.authority.clone(), "（印章）".to_owned(), date] {
        items.push((
            PAGE_W - MARGIN_X - width(&line, BODY).max(8.0 * BODY),
            BODY,
            line,
        ));
    }

    // A4 is a valid size; the error arm is never taken.
    let a4 = Size::from_wh(PAGE_W, PAGE_H).ok_or_else(|| DocError::Pdf("page size".into()))?;
    let mut pdf = Document::new();
    let mut rest = items.as_slice();
    while !rest.is_empty() {
        let mut page = pdf.start_page_with(PageSettings::new(a4));
        let mut surface = page.surface();
        let mut y = MARGIN_TOP;
        let mut used = 0;
        for (x, size, text) in rest {
            let step = if *size > BODY { LINE * 1.6 } else { LINE };
            if y + step > PAGE_H - MARGIN_BOTTOM && used > 0 {
                break;
            }
            y += step;
            if !text.is_empty() {
                surface.draw_text(
                    Point::from_xy(*x, y),
                    font.clone(),
                    *size,
                    text,
                    false,
                    TextDirection::Auto,
                );
            }
            used += 1;
        }
        surface.finish();
        page.finish();
        rest = &rest[used..];
    }
    pdf.finish().map_err(|e| DocError::Pdf(format!("{e:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_break_within_the_page_width_and_keep_every_character() {
        let text = "当事人于二〇二六年十一月在村东头未取得建设工程规划许可证建设砖混结构房屋一间，面积约四十平方米。".repeat(3);
        let lines = wrap(&text, BODY, 200.0);
        assert!(lines.len() > 3);
        assert!(lines.iter().all(|l| width(l, BODY) <= 200.0));
        assert_eq!(lines.concat(), text);
    }

    #[test]
    fn a_document_renders_to_the_same_pdf_every_time_and_spans_pages_when_long() {
        let doc = DocSpec {
            title: "行政处罚决定书".into(),
            number: Some("罚决〔2026〕1号".into()),
            paras: (0..60)
                .map(|i| Para::Text(format!("第{i}段：未取得建设工程规划许可证进行建设。")))
                .collect(),
            authority: "承留示范镇人民政府".into(),
            date: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap_or_default(),
        };
        let a = render(&doc).unwrap();
        let b = render(&doc).unwrap();
        assert!(a.starts_with(b"%PDF-"));
        assert_eq!(a, b, "deterministic");
        // The font is subset: far smaller than the 4 MB font file.
        assert!(a.len() < 400_000, "{} bytes", a.len());
    }
}
