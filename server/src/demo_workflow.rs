//! Demo reports for `griddispatch demo`: categories, and a handful of reports in different
//! states, made through the command path (so each has its audit record). Idempotent: nothing
//! is added when any report exists.

use geo::InteriorPoint;
use griddispatch_protocol::case::{CaseRecordKind, Party, Sanction, SanctionKind};
use griddispatch_protocol::command::{Command, Outcome, PartyKind, Position, ReportSource};

use crate::db::{self, DbConn};
use crate::demo_categories::demo_categories;
use crate::state::AppState;
use crate::store::{categories, grid as grid_store, users};
use crate::workflow::{execute, Env, Issuer};

fn id() -> String {
    uuid::Uuid::now_v7().to_string()
}

fn user(conn: &mut DbConn, name: &str) -> anyhow::Result<Issuer> {
    let u = users::find_by_username(conn, name)?
        .ok_or_else(|| anyhow::anyhow!("demo user {name} missing"))?;
    Ok(Issuer {
        user_id: u.id,
        is_system: false,
        occurred_at: None,
    })
}

/// Seed categories and demo reports; returns how many reports were made.
pub fn load(conn: &mut DbConn, state: &AppState) -> anyhow::Result<usize> {
    if categories::list(conn)?.is_empty() {
        for c in demo_categories() {
            categories::put(conn, &c)?;
        }
    }
    let existing: i64 = {
        use crate::schema::reports;
        use diesel::prelude::*;
        reports::table.count().get_result(conn)?
    };
    let Some(grid) = state.grid.load_full() else {
        return Ok(0);
    };
    if existing > 0 {
        return Ok(0);
    }
    let town = grid_data::demo_town()?;
    let village = town
        .level(grid_data::CellLevel::Village)
        .next()
        .ok_or_else(|| anyhow::anyhow!("demo town has no village"))?;
    let p = village
        .geometry
        .interior_point()
        .ok_or_else(|| anyhow::anyhow!("no interior point"))?;
    let here = Position {
        lat: p.y(),
        lon: p.x(),
        crs: None,
    };
    let Some(squad) = grid_store::find_squad(conn, "squad1")? else {
        return Ok(0);
    };
    let calendar = state.calendar.load_full();
    let env = Env {
        grid: Some(&grid.index),
        grid_version: grid.version,
        calendar: &calendar,
        now: db::now(),
        case_rules: state.config.case_rules,
        merge_rules: state.config.merge_rules,
    };
    let gm = user(conn, "grid_member")?;
    let checker = user(conn, "gm_200")?;
    let disp = user(conn, "dispatcher")?;
    let lead = user(conn, "squad_leader")?;
    let off1 = user(conn, "officer")?;
    let off2 = user(conn, "officer2")?;
    let boss = user(conn, "approver")?;
    let mut run = |who: &Issuer, cmd: Command| -> anyhow::Result<()> {
        execute(conn, &env, who, &cmd, Some(&here))
            .map_err(|e| anyhow::anyhow!("demo {}: {e}", cmd.name()))?;
        Ok(())
    };
    let report = |category: &str, text: &str| {
        let rid = id();
        (
            rid.clone(),
            Command::CreateReport {
                report_id: rid,
                source: ReportSource::GridPatrol,
                category_code: category.into(),
                description: text.into(),
                position: Some(here.clone()),
                attachment_ids: vec![id()],
                contact: None,
                occurred_at: None,
                address: None,
            },
        )
    };
    let officers = vec![off1.user_id.clone(), off2.user_id.clone()];
    // 1. Waiting for triage.
    let (_, c) = report("0401", "菜市场东口流动摊贩占道经营，堵塞人行道（演示）");
    run(&gm, c)?;
    // 2. Dispatched, waiting for the squad to accept.
    let (r2, c) = report("0101", "村口垃圾堆放未清运（演示）");
    run(&gm, c)?;
    run(
        &disp,
        Command::DispatchReport {
            report_id: r2,
            task_id: id(),
            squad_id: squad.id.clone(),
        },
    )?;
    // 3. On site.
    let (r3, c) = report("0202", "电线杆乱张贴小广告（演示）");
    run(&gm, c)?;
    let t3 = id();
    run(
        &disp,
        Command::DispatchReport {
            report_id: r3,
            task_id: t3.clone(),
            squad_id: squad.id.clone(),
        },
    )?;
    run(
        &lead,
        Command::AcceptTask {
            task_id: t3.clone(),
            officer_ids: officers.clone(),
        },
    )?;
    run(
        &off1,
        Command::ArriveOnSite {
            task_id: t3,
            position: here.clone(),
        },
    )?;
    // 4. The whole loop, closed.
    let (r4, c) = report("0404", "农田秸秆露天焚烧（演示）");
    run(&gm, c)?;
    let t4 = id();
    run(
        &disp,
        Command::DispatchReport {
            report_id: r4.clone(),
            task_id: t4.clone(),
            squad_id: squad.id.clone(),
        },
    )?;
    run(
        &lead,
        Command::AcceptTask {
            task_id: t4.clone(),
            officer_ids: officers.clone(),
        },
    )?;
    run(
        &off1,
        Command::ArriveOnSite {
            task_id: t4.clone(),
            position: here.clone(),
        },
    )?;
    run(
        &off1,
        Command::HandleTask {
            task_id: t4.clone(),
            outcome: Outcome::Rectified {
                note: "已当场扑灭并责令清理（演示）".into(),
            },
            attachment_ids: vec![id(), id()],
            case_id: None,
        },
    )?;
    run(
        &lead,
        Command::CloseTask {
            task_id: t4.clone(),
        },
    )?;
    run(
        &checker,
        Command::RecheckTask {
            task_id: t4,
            passed: true,
            note: Some("现场已无焚烧（演示）".into()),
            attachment_ids: vec![],
        },
    )?;
    run(&disp, Command::CloseReport { report_id: r4 })?;
    // 5. Rejected.
    let (r5, c) = report("0601", "邻里噪音纠纷（演示）");
    run(&gm, c)?;
    run(
        &disp,
        Command::RejectReport {
            report_id: r5,
            reason: "不属于综合行政执法事项，已告知调解渠道（演示）".into(),
        },
    )?;
    // 6. A case filed from illegal construction.
    let (r6, c) = report("0301", "农户未经批准加盖二层（演示）");
    run(&gm, c)?;
    let t6 = id();
    run(
        &disp,
        Command::DispatchReport {
            report_id: r6,
            task_id: t6.clone(),
            squad_id: squad.id.clone(),
        },
    )?;
    run(
        &lead,
        Command::AcceptTask {
            task_id: t6.clone(),
            officer_ids: officers.clone(),
        },
    )?;
    run(
        &off1,
        Command::ArriveOnSite {
            task_id: t6.clone(),
            position: here.clone(),
        },
    )?;
    let case_id = id();
    run(
        &off1,
        Command::HandleTask {
            task_id: t6,
            outcome: Outcome::CaseNeeded {
                finding: "未取得乡村建设规划许可证进行建设（演示）".into(),
                issuing_unit: "承留示范镇自然资源所（演示）".into(),
                suspected_provision: "《中华人民共和国城乡规划法》第六十五条".into(),
            },
            attachment_ids: vec![id()],
            case_id: Some(case_id.clone()),
        },
    )?;
    run(
        &boss,
        Command::FileCase {
            case_id: case_id.clone(),
        },
    )?;
    // …investigated, the party notified and waiving the statement period, now with the legal
    // office (法制审核): the legal reviewer and the approver find work waiting.
    run(
        &boss,
        Command::StartInvestigation {
            case_id: case_id.clone(),
            officer_ids: officers.clone(),
        },
    )?;
    run(
        &off1,
        Command::AddCaseRecord {
            case_id: case_id.clone(),
            record_id: id(),
            kind: CaseRecordKind::Inspection,
            officer_ids: officers.clone(),
            certificates_shown: true,
            content: "现场检查：二层新建砖混结构约 60 平方米，未见乡村建设规划许可证（演示）"
                .into(),
            attachment_ids: vec![],
        },
    )?;
    run(
        &off1,
        Command::NotifyParty {
            case_id: case_id.clone(),
            party: Party {
                kind: PartyKind::Person,
                name: "王某（演示）".into(),
                id_number: None,
                address: Some("承留示范镇某村（演示）".into()),
            },
            facts: "未取得乡村建设规划许可证，在宅基地上加盖二层约 60 平方米（演示）".into(),
            legal_basis: "《中华人民共和国城乡规划法》第六十五条".into(),
            sanctions: vec![Sanction {
                kind: SanctionKind::Fine,
                amount_fen: Some(500_000),
            }],
        },
    )?;
    run(
        &off1,
        Command::RecordStatement {
            case_id: case_id.clone(),
            content: "对事实无异议，放弃陈述申辩（演示）".into(),
            waived: true,
        },
    )?;
    run(&off1, Command::SubmitForReview { case_id })?;
    Ok(6)
}
