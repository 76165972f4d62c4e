//! What `gridsync` prints: Chinese first with English in parentheses, or JSON.

use griddispatch_sync::{
    Account, CommandState, Engine, LocalEntity, QueuedCommand, Status, SyncReport,
};
use serde_json::{json, Value};

fn emit(v: &Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
    );
}

/// A plain message.
pub fn line(json: bool, text: &str) {
    if json {
        emit(&json!({"ok": true, "message": text}));
    } else {
        println!("{text}");
    }
}

/// After sign-in.
pub fn login(json: bool, a: &Account) {
    if json {
        emit(&json!(a));
    } else {
        println!(
            "已登录 (signed in): {} {}，角色 (roles): {}，服务器 (server): {}",
            a.username,
            a.display_name,
            a.roles.join(", "),
            a.server_url
        );
    }
}

/// After queueing a command.
pub fn queued(json: bool, name: &str, seq: i64, id: Option<(&str, &str)>) {
    if json {
        let mut v = json!({"queued": name, "device_seq": seq});
        if let Some((k, val)) = id {
            v[k] = json!(val);
        }
        emit(&v);
        return;
    }
    // The id alone on the first line, so that scripts can take it.
    if let Some((_, val)) = id {
        println!("{val}");
    }
    println!(
        "已保存，待同步 (queued): {name} #{seq}；联网后执行 gridsync sync 发送 (run gridsync sync when online)"
    );
}

fn short(s: &str, n: usize) -> String {
    let mut out: String = s.chars().take(n).collect();
    if s.chars().count() > n {
        out.push('…');
    }
    out
}

fn dash(v: Option<&str>) -> &str {
    v.unwrap_or("-")
}

fn queued_for(outbox: &[QueuedCommand], id: &str) -> Vec<String> {
    outbox
        .iter()
        .filter(|c| c.state == CommandState::Pending && c.subject_id.as_deref() == Some(id))
        .map(|c| format!("{}#{}", c.command_type, c.device_seq))
        .collect()
}

/// Local reports, and reports queued but not yet sent.
pub fn reports(json: bool, engine: &Engine) -> griddispatch_sync::Result<()> {
    let list = engine.reports()?;
    let outbox = engine
        .outbox(Some(CommandState::Pending), 10_000)
        .unwrap_or_default();
    let unsent: Vec<&QueuedCommand> = outbox
        .iter()
        .filter(|c| c.command_type == "create_report")
        .collect();
    if json {
        emit(&json!({"reports": list, "unsent": unsent}));
        return Ok(());
    }
    if list.is_empty() && unsent.is_empty() {
        println!(
            "本机没有线索，先执行 gridsync sync (no reports on this device; run gridsync sync)"
        );
        return Ok(());
    }
    for c in unsent.iter().rev() {
        println!(
            "{}  待发送 (queued)  {}  {}",
            dash(c.subject_id.as_deref()),
            dash(c.command["category_code"].as_str()),
            short(c.command["description"].as_str().unwrap_or(""), 40)
        );
    }
    for r in &list {
        let queued = queued_for(&outbox, &r.id);
        println!(
            "{}  {}  {}  {}{}",
            r.id,
            dash(r.status.as_deref()),
            dash(r.category_code.as_deref()),
            short(r.summary.as_deref().unwrap_or(""), 40),
            if queued.is_empty() {
                String::new()
            } else {
                format!("  [待发送 (queued): {}]", queued.join(", "))
            }
        );
    }
    Ok(())
}

fn report_line(reports: &[LocalEntity], id: Option<&str>) -> String {
    id.and_then(|id| reports.iter().find(|r| r.id == id))
        .and_then(|r| r.summary.as_deref())
        .map(|s| short(s, 30))
        .unwrap_or_default()
}

/// Local tasks with the commands queued for each.
pub fn tasks(json: bool, engine: &Engine) -> griddispatch_sync::Result<()> {
    let list = engine.tasks()?;
    let reports = engine.reports()?;
    let outbox = engine
        .outbox(Some(CommandState::Pending), 10_000)
        .unwrap_or_default();
    if json {
        let items: Vec<Value> = list
            .iter()
            .map(|t| json!({"task": t, "queued": queued_for(&outbox, &t.id)}))
            .collect();
        emit(&json!({"tasks": items}));
        return Ok(());
    }
    if list.is_empty() {
        println!("本机没有任务，先执行 gridsync sync (no tasks on this device; run gridsync sync)");
        return Ok(());
    }
    for t in &list {
        let due = t.data.get("due_at").and_then(Value::as_str).unwrap_or("-");
        let queued = queued_for(&outbox, &t.id);
        println!(
            "{}  {}  {}  截止 (due) {}  {}{}",
            t.id,
            dash(t.status.as_deref()),
            dash(t.category_code.as_deref()),
            due,
            report_line(&reports, t.report_id.as_deref()),
            if queued.is_empty() {
                String::new()
            } else {
                format!("  [待发送 (queued): {}]", queued.join(", "))
            }
        );
    }
    Ok(())
}

/// One sync attempt.
pub fn sync_result(json: bool, r: &griddispatch_sync::Result<SyncReport>) {
    let now = chrono::Local::now().format("%H:%M:%S %:z");
    match r {
        Ok(r) if json => {
            emit(&json!({"ok": r.complete(), "refused": r.refused_any(), "report": r}))
        }
        Err(e) if json => {
            emit(&json!({"ok": false, "error": {"code": e.code(), "message": e.to_string()}}))
        }
        Ok(r) => {
            println!(
                "[{now}] 同步完成 (synced): 发送 {} 条 (applied), 重复 {} 条 (duplicates), 被拒 {} 条 (rejected), 上传 {} 个文件 (uploaded), 接收 {} 项变化 (changes){}",
                r.applied,
                r.duplicates,
                r.rejected.len(),
                r.uploaded,
                r.pulled,
                if r.reset { "，本地数据已重建 (local view rebuilt)" } else { "" }
            );
            for x in &r.rejected {
                println!(
                    "  被拒绝 (rejected) #{}: {} ({})",
                    x.device_seq,
                    dash(x.message.as_deref()),
                    dash(x.code.as_deref())
                );
            }
            for u in &r.upload_failed {
                println!(
                    "  文件无法上传 (upload refused) {} {}: {} ({})",
                    u.attachment_id,
                    u.file_name,
                    dash(u.message.as_deref()),
                    dash(u.code.as_deref())
                );
            }
            for u in &r.held {
                println!(
                    "  文件未上传，其操作被拒绝，保留在本机 (not uploaded: its command was rejected; kept on this device) {} {}",
                    u.attachment_id, u.file_name
                );
            }
            if let Some(e) = &r.upload_error {
                println!("  文件稍后续传 (uploads resume later): {e}");
            }
        }
        Err(e) => eprintln!("[{now}] 同步失败 (sync failed): {e}"),
    }
}

/// `gridsync status`.
pub fn status(json: bool, s: &Status) {
    if json {
        emit(&json!(s));
        return;
    }
    match &s.account {
        Some(a) if a.signed_in => println!(
            "用户 (user): {} {}  服务器 (server): {}",
            a.username, a.display_name, a.server_url
        ),
        Some(a) => println!(
            "用户 (user): {} — 登录已失效，请重新登录 (signed out: {})",
            a.username,
            dash(a.signed_out_reason.as_deref())
        ),
        None => println!("未登录 (not signed in)"),
    }
    println!("设备 (device): {}", s.device_id);
    println!("待发送操作 (queued commands): {}", s.queued_commands);
    if s.queued_other_users > 0 {
        println!(
            "其他用户待发送 (other users' queued commands): {}",
            s.queued_other_users
        );
    }
    println!("待上传文件 (pending uploads): {}", s.pending_uploads);
    println!(
        "上次同步 (last sync): {}",
        s.last_sync_at
            .map(|t| t
                .with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M:%S %:z")
                .to_string())
            .unwrap_or_else(|| "从未 (never)".into())
    );
    if let Some(e) = &s.last_error {
        println!("上次错误 (last error): {e}");
    }
    println!(
        "本机数据 (local data): 线索 {} (reports), 任务 {} (tasks), 案件 {} (cases)",
        s.reports, s.tasks, s.cases
    );
    if !s.rejected_commands.is_empty() {
        println!("被拒绝的操作 (rejected commands):");
        for c in &s.rejected_commands {
            println!(
                "  #{} {} {}: {} ({})",
                c.device_seq,
                c.command_type,
                dash(c.subject_id.as_deref()),
                dash(c.message.as_deref()),
                dash(c.code.as_deref())
            );
        }
    }
    for u in &s.held_uploads {
        println!(
            "未上传的文件，其操作被拒绝，保留在本机 (held: its command was rejected) {} {} {}",
            u.attachment_id, u.file_name, u.local_path
        );
    }
    for u in &s.failed_uploads {
        println!(
            "无法上传的文件 (failed upload) {} {}: {} ({})",
            u.attachment_id,
            u.file_name,
            dash(u.message.as_deref()),
            dash(u.code.as_deref())
        );
    }
}
