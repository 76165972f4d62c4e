//! 执法文书: a case's enforcement documents as PDF, made from the case as it stands.

use actix_web::{web, HttpResponse};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::workflow::visibility;
use crate::auth::Actor;
use crate::documents::{case_documents, render, DocumentKind};
use crate::error::AppError;
use crate::state::AppState;
use crate::workflow::queries;

/// One document of a case.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DocumentEntry {
    /// Name in the URL (`decision`, `notice`, `record-1`, …).
    pub name: String,
    /// Kind.
    pub kind: DocumentKind,
    /// 文书名称.
    pub title: String,
    /// 文号.
    pub number: Option<String>,
}

type Built = Vec<(String, DocumentKind, crate::documents::DocSpec)>;

/// A path id that must be a UUID (`what`: 案件 or 任务, for the message).
fn parse_id(id: &str, what: &str) -> Result<(), AppError> {
    uuid::Uuid::parse_str(id).map(|_| ()).map_err(|_| {
        AppError::unprocessable(
            "invalid_id",
            format!("{what}编号须为 UUID (the id is a UUID)"),
        )
    })
}

/// Set a document and answer it as PDF, named by `X-Content-SHA256`, shown inline as `file`.
async fn pdf_response(
    spec: crate::documents::DocSpec,
    file: &str,
) -> Result<HttpResponse, AppError> {
    let pdf = web::block(move || render(&spec))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let sha = hex::encode(Sha256::digest(&pdf));
    Ok(HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header(("X-Content-SHA256", sha))
        .insert_header((
            "Content-Disposition",
            format!("inline; filename*=UTF-8''{}", urlencode(file)),
        ))
        .body(pdf))
}

async fn build(state: &AppState, actor: &Actor, id: String) -> Result<Built, AppError> {
    parse_id(&id, "案件")?;
    let vis = visibility(state, actor).await?;
    let rules = state.config.case_rules;
    state
        .db(move |conn| {
            let c = queries::visible_case(conn, &vis, &id)?
                .ok_or_else(|| AppError::NotFound("没有这个案件 (no such case)".into()))?;
            documents_of(conn, &c, &rules)
        })
        .await
}

/// The documents of a case as it stands, with the names of the people it mentions.
fn documents_of(
    conn: &mut crate::db::DbConn,
    c: &crate::domain::workflow::Case,
    rules: &crate::domain::workflow::CaseRules,
) -> Result<Built, AppError> {
    let authority = crate::workflow::publication::authority(conn, c)?;
    let mut people = std::collections::HashMap::new();
    let mut ids: Vec<String> = c.procedure.investigators.clone();
    ids.extend(
        c.procedure
            .records
            .iter()
            .flat_map(|r| r.officer_ids.clone()),
    );
    ids.extend(c.procedure.reviews.iter().map(|r| r.by.clone()));
    ids.extend(c.procedure.service.iter().map(|s| s.by.clone()));
    ids.extend(c.procedure.hearing.iter().filter_map(|h| h.host_id.clone()));
    ids.push(c.proposed_by.clone());
    ids.extend(c.decided_by.clone());
    for uid in ids {
        if let Some(u) = crate::store::users::find(conn, &uid)? {
            people.insert(uid, u.display_name);
        }
    }
    let name = |uid: &str| people.get(uid).cloned().unwrap_or_else(|| uid.to_owned());
    Ok(case_documents(c, rules, &authority, &name))
}

/// The documents a case has now (each exists once its step was taken).
#[utoipa::path(get, path = "/api/v1/cases/{id}/documents", tag = "workflow", security(("bearer" = [])),
    params(("id" = String, Path, description = "case id")),
    responses((status = 200, body = Vec<DocumentEntry>), (status = 404, description = "not_found")))]
pub async fn list_documents(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let docs = build(&state, &actor, path.into_inner()).await?;
    let list: Vec<DocumentEntry> = docs
        .into_iter()
        .map(|(name, kind, d)| DocumentEntry {
            name,
            kind,
            title: d.title,
            number: d.number,
        })
        .collect();
    Ok(HttpResponse::Ok().json(list))
}

/// One document as PDF (Chinese, A4). `X-Content-SHA256` names the bytes: the same case data
/// always gives the same file.
#[utoipa::path(get, path = "/api/v1/cases/{id}/documents/{name}", tag = "workflow", security(("bearer" = [])),
    params(("id" = String, Path, description = "case id"), ("name" = String, Path, description = "document name from the list")),
    responses((status = 200, description = "application/pdf", content_type = "application/pdf"), (status = 404, description = "not_found")))]
pub async fn get_document(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (id, name) = path.into_inner();
    let docs = build(&state, &actor, id).await?;
    let (_, _, spec) = docs
        .into_iter()
        .find(|(n, _, _)| *n == name)
        .ok_or_else(|| {
            AppError::NotFound(format!(
                "本案没有文书 `{name}`（相应步骤尚未办理）(no such document for this case yet)"
            ))
        })?;
    let title = spec.title.clone();
    pdf_response(spec, &format!("{title}.pdf")).await
}

/// Percent-encoding for the RFC 5987 file name (Chinese titles): everything but RFC 5987's
/// attr-chars.
pub(super) fn urlencode(s: &str) -> String {
    use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
    const ATTR: &percent_encoding::AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    utf8_percent_encode(s, ATTR).to_string()
}

/// Roles that keep and hand on case files: the squads that investigated, the legal office, the
/// approver and the administrator.
const CASE_FILE_ROLES: [griddispatch_protocol::Role; 5] = [
    griddispatch_protocol::Role::Officer,
    griddispatch_protocol::Role::SquadLeader,
    griddispatch_protocol::Role::LegalReviewer,
    griddispatch_protocol::Role::Approver,
    griddispatch_protocol::Role::Admin,
];

/// 卷宗: the case file as one ZIP — `00-卷内目录.pdf` (the index, every file with its SHA-256),
/// `documents/` (every enforcement document as it stands), `evidence/` (every piece of evidence
/// of the report, the task and the case, as it arrived), `case.json`, `record.json` (the
/// full-process record) and `manifest.json` (every file's SHA-256). The export is appended to
/// the full-process record (`export_case_file`) with the manifest's SHA-256, which is also sent
/// as `X-Manifest-SHA256`.
#[utoipa::path(get, path = "/api/v1/cases/{id}/file", tag = "workflow", security(("bearer" = [])),
    params(("id" = String, Path, description = "case id")),
    responses((status = 200, description = "application/zip", content_type = "application/zip"),
        (status = 403, description = "forbidden", body = griddispatch_protocol::ErrorBody),
        (status = 404, description = "not_found", body = griddispatch_protocol::ErrorBody),
        (status = 422, description = "invalid_id", body = griddispatch_protocol::ErrorBody)))]
pub async fn get_case_file(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    use crate::store::attachments;
    use griddispatch_media::storage::ObjectKey;

    let id = path.into_inner();
    parse_id(&id, "案件")?;
    actor.require_any(&CASE_FILE_ROLES)?;
    let vis = visibility(&state, &actor).await?;
    let rules = state.config.case_rules;
    let case_id = id.clone();
    let (case, docs, evidence, missing, case_json, record_json, authority) = state
        .db(move |conn| {
            let c = queries::visible_case(conn, &vis, &case_id)?
                .ok_or_else(|| AppError::NotFound("没有这个案件 (no such case)".into()))?;
            let docs = documents_of(conn, &c, &rules)?;
            let authority = crate::workflow::publication::authority(conn, &c)?;
            let report = crate::store::workflow::report(conn, &c.report_id)?;
            let task = crate::store::workflow::task(conn, &c.task_id)?;
            let mut ids: Vec<String> = Vec::new();
            if let Some(r) = &report {
                ids.extend(r.attachment_ids.iter().cloned());
            }
            if let Some(t) = &task {
                ids.extend(t.outcome_attachment_ids.iter().cloned());
            }
            for r in &c.procedure.records {
                ids.extend(r.attachment_ids.iter().cloned());
            }
            if let Some(h) = &c.procedure.hearing {
                ids.extend(h.attachment_ids.iter().cloned());
            }
            let mut seen = std::collections::HashSet::new();
            ids.retain(|i| seen.insert(i.clone()));
            let mut rows = Vec::new();
            let mut missing = Vec::new();
            for a in ids {
                match attachments::find(conn, &a)? {
                    Some(row) => rows.push(row),
                    None => missing.push(a),
                }
            }
            let history = crate::store::audit::history(
                conn,
                Some(&c.report_id),
                Some(&c.task_id),
                Some(&c.id),
            )?;
            let record = serde_json::to_value(vis.records(history))
                .map_err(|e| AppError::Internal(e.to_string()))?;
            Ok((
                c.clone(),
                docs,
                rows,
                missing,
                vis.serve(&c),
                record,
                authority,
            ))
        })
        .await?;

    // Evidence first (it may be large and comes from the media store), then the rest on a
    // blocking thread.
    let dir = tempfile::tempdir().map_err(|e| AppError::Internal(e.to_string()))?;
    std::fs::create_dir_all(dir.path().join("evidence"))
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let mut evidence_files = Vec::new();
    for (i, row) in evidence.iter().enumerate() {
        let ext = row
            .filename
            .as_deref()
            .and_then(|f| f.rsplit_once('.'))
            .map(|(_, e)| e.to_ascii_lowercase())
            .filter(|e| e.len() <= 5 && e.chars().all(|c| c.is_ascii_alphanumeric()))
            .unwrap_or_else(|| "bin".to_owned());
        let rel = format!("evidence/{:02}-{}.{ext}", i + 1, row.id);
        let key = ObjectKey::parse(&row.original_key)?;
        state
            .media
            .storage
            .get_to_file(&key, &dir.path().join(&rel))
            .await?;
        let kind = match row.kind.as_str() {
            "photo" => "照片",
            "video" => "视频",
            "audio" => "录音",
            other => other,
        };
        let mut title = format!("{kind} {}", row.id);
        if let Some(p) = &row.proves {
            title.push_str(&format!("，证明：{p}"));
        }
        evidence_files.push((rel, title, row.sha256.clone()));
    }
    let now = crate::db::now();
    let parts = crate::documents::CaseFileParts {
        case_id: case.id.clone(),
        number: case.number.clone(),
        status: case.status.as_str().to_owned(),
        authority,
        date: crate::domain::time::china_date(now),
        generated_at: now
            .and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        documents: docs
            .into_iter()
            .map(|(name, _, spec)| (name, spec))
            .collect(),
        evidence: evidence_files
            .iter()
            .map(|(p, t, _)| (p.clone(), t.clone()))
            .collect(),
        missing_evidence: missing,
        json: vec![
            ("case.json".to_owned(), case_json),
            ("record.json".to_owned(), record_json),
        ],
    };
    let (dir, zip_path, manifest, manifest_sha) = web::block(move || {
        let built = crate::documents::build_case_file(dir.path(), parts);
        built.map(|(zip, manifest, sha)| (dir, zip, manifest, sha))
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
    .map_err(|e| AppError::Internal(e.to_string()))?;
    // The evidence must be what arrived: a file whose bytes no longer match the SHA-256 taken
    // at upload is not handed on.
    for (path, _, recorded) in &evidence_files {
        let entry = manifest.files.iter().find(|f| &f.path == path);
        if entry.is_none_or(|f| &f.sha256 != recorded) {
            return Err(AppError::Internal(format!(
                "evidence {path} no longer matches the SHA-256 recorded at upload"
            )));
        }
    }
    let actor_id = actor.user_id.clone();
    let export_case = case.id.clone();
    let record_payload = serde_json::json!({
        "case_id": case.id, "number": case.number, "manifest_sha256": manifest_sha,
        "files": manifest.files.iter().map(|f| serde_json::json!({"path": f.path, "sha256": f.sha256})).collect::<Vec<_>>(),
    });
    state
        .db(move |conn| {
            crate::store::audit::record_action_on(
                conn,
                &actor_id,
                "export_case_file",
                Some(&export_case),
                &record_payload,
                &serde_json::Value::Null,
                &serde_json::Value::Null,
                now,
            )?;
            Ok(())
        })
        .await?;
    let size = std::fs::metadata(&zip_path)
        .map_err(|e| AppError::Internal(e.to_string()))?
        .len();
    let file = std::fs::File::open(&zip_path).map_err(|e| AppError::Internal(e.to_string()))?;
    // Read the ZIP in chunks off the async threads; the temporary directory goes with the
    // last chunk.
    let stream = futures_util::stream::unfold(Some((file, dir)), |state| async move {
        let (mut file, dir) = state?;
        let read = web::block(move || {
            use std::io::Read;
            let mut buf = vec![0u8; 256 * 1024];
            let n = file.read(&mut buf)?;
            buf.truncate(n);
            Ok::<_, std::io::Error>((file, buf))
        })
        .await;
        match read {
            Ok(Ok((_, buf))) if buf.is_empty() => None,
            Ok(Ok((file, buf))) => Some((
                Ok::<_, std::io::Error>(actix_web::web::Bytes::from(buf)),
                Some((file, dir)),
            )),
            Ok(Err(e)) => Some((Err(e), None)),
            Err(e) => Some((Err(std::io::Error::other(e.to_string())), None)),
        }
    });
    let name = format!(
        "卷宗-{}.zip",
        case.number.clone().unwrap_or_else(|| case.id.clone())
    );
    Ok(HttpResponse::Ok()
        .content_type("application/zip")
        .insert_header(("X-Manifest-SHA256", manifest_sha))
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename*=UTF-8''{}", urlencode(&name)),
        ))
        .body(actix_web::body::SizedStream::new(size, Box::pin(stream))))
}

/// 当场行政处罚决定书: the decision of a task handled with a simple-procedure penalty, as PDF —
/// the paper an officer hands the party on the spot (time, place, facts, basis, the penalty,
/// payment at the bank, the rights of review and litigation, the officers and their
/// certificates). `X-Content-SHA256` names the bytes.
#[utoipa::path(get, path = "/api/v1/tasks/{id}/decision", tag = "workflow", security(("bearer" = [])),
    params(("id" = String, Path, description = "task id")),
    responses((status = 200, description = "application/pdf", content_type = "application/pdf"),
        (status = 404, description = "not_found: no such task, or not handled with a simple-procedure penalty", body = griddispatch_protocol::ErrorBody),
        (status = 422, description = "invalid_id", body = griddispatch_protocol::ErrorBody)))]
pub async fn get_task_decision(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    parse_id(&id, "任务")?;
    let vis = visibility(&state, &actor).await?;
    let payment_days = state.config.case_rules.payment_days;
    let spec = state
        .db(move |conn| {
            // Only a reader who may see the task (the same rule as GET /tasks/{id}).
            if queries::task_detail(conn, &vis, &id)?.is_none() {
                return Err(AppError::NotFound("没有这个任务 (no such task)".into()));
            }
            let task = crate::store::workflow::task(conn, &id)?
                .ok_or_else(|| AppError::NotFound("没有这个任务 (no such task)".into()))?;
            let report = crate::store::workflow::report(conn, &task.report_id)?;
            let authority =
                crate::workflow::publication::authority_of_report(conn, &task.report_id)?;
            let mut place = report
                .as_ref()
                .and_then(|r| r.address.clone())
                .unwrap_or_default();
            if place.is_empty() {
                if let Some(cell) = report.as_ref().and_then(|r| r.cell.clone()) {
                    if let Some(v) = crate::store::grid::find_cell(conn, cell.version, &cell.village)? {
                        place = v.name;
                    }
                }
            }
            let mut officers = Vec::new();
            let mut ids = task.officer_ids.clone();
            if let Some(by) = &task.handled_by {
                if !ids.contains(by) {
                    ids.insert(0, by.clone());
                }
            }
            for uid in ids {
                if let Some(u) = crate::store::users::find(conn, &uid)? {
                    officers.push(match u.cert_number {
                        Some(n) => format!("{}（执法证号 {n}）", u.display_name),
                        None => u.display_name,
                    });
                }
            }
            let ctx = crate::documents::SimpleDecisionContext {
                authority: &authority,
                place: &place,
                officers,
                payment_days,
            };
            crate::documents::simple_penalty_decision(&task, &ctx).ok_or_else(|| {
                AppError::NotFound(
                    "此任务没有当场处罚决定（未按简易程序处罚）(this task has no on-the-spot penalty decision)"
                        .into(),
                )
            })
        })
        .await?;
    let number = spec.number.clone().unwrap_or_else(|| "decision".into());
    pdf_response(spec, &format!("当场行政处罚决定书-{number}.pdf")).await
}
