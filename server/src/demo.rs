//! Demo data for `griddispatch demo`: loaded idempotently, so restarting keeps what exists.

use chrono::{NaiveDate, NaiveDateTime};
use griddispatch_protocol::auth::{Certificate, NewUserRequest};
use griddispatch_protocol::Role;

use crate::accounts::{self, AccountError};
use crate::db::DbConn;
use crate::store::users;

/// The password of every demo account (printed at start-up; demo only).
pub const DEMO_PASSWORD: &str = "griddemo2026";

/// One demo sign-in.
#[derive(Debug, Clone)]
pub struct DemoLogin {
    /// Username.
    pub username: &'static str,
    /// Display name.
    pub display_name: &'static str,
    /// Roles.
    pub roles: Vec<Role>,
    /// Whether it was created now (false: it existed already).
    pub created: bool,
}

fn demo_accounts() -> Vec<(&'static str, &'static str, Vec<Role>, Option<&'static str>)> {
    vec![
        ("admin", "系统管理员（演示）", vec![Role::Admin], None),
        (
            "grid_member",
            "网格员 张明（演示）",
            vec![Role::GridMember],
            None,
        ),
        (
            "grid_leader",
            "网格长 李红（演示）",
            vec![Role::GridLeader],
            None,
        ),
        (
            "dispatcher",
            "调度员 王强（演示）",
            vec![Role::Dispatcher],
            None,
        ),
        (
            "duty_chief",
            "值班长 赵刚（演示）",
            vec![Role::DutyChief],
            None,
        ),
        (
            "squad_leader",
            "一中队中队长 陈伟（演示）",
            vec![Role::SquadLeader, Role::Officer],
            Some("豫济执 0001"),
        ),
        (
            "officer",
            "执法队员 刘洋（演示）",
            vec![Role::Officer],
            Some("豫济执 0002"),
        ),
        (
            "officer2",
            "执法队员 孙磊（演示）",
            vec![Role::Officer],
            Some("豫济执 0003"),
        ),
        (
            "legal_reviewer",
            "法制审核员 周敏（演示）",
            vec![Role::LegalReviewer],
            None,
        ),
        (
            "approver",
            "镇政府负责人 吴军（演示）",
            vec![Role::Approver],
            None,
        ),
        (
            "department_liaison",
            "市场监管所联络员 郑丽（演示）",
            vec![Role::DepartmentLiaison],
            None,
        ),
        (
            "police_liaison",
            "派出所联络员 何平（演示）",
            vec![Role::DepartmentLiaison],
            None,
        ),
        (
            "procurator_liaison",
            "检察院联络员 冯静（演示）",
            vec![Role::DepartmentLiaison],
            None,
        ),
    ]
}

/// Create the demo accounts that do not exist yet.
pub fn load(conn: &mut DbConn, now: NaiveDateTime) -> Result<Vec<DemoLogin>, AccountError> {
    let valid_until = NaiveDate::from_ymd_opt(2030, 12, 31);
    let mut out = Vec::new();
    for (username, display_name, roles, cert) in demo_accounts() {
        let exists = users::find_by_username(conn, username)?.is_some();
        if !exists {
            let req = NewUserRequest {
                username: username.into(),
                display_name: display_name.into(),
                password: DEMO_PASSWORD.into(),
                roles: roles.clone(),
                certificate: cert
                    .zip(valid_until)
                    .map(|(number, valid_until)| Certificate {
                        number: number.into(),
                        valid_until,
                    }),
            };
            accounts::create(conn, "demo", &req, now)?;
        }
        out.push(DemoLogin {
            username,
            display_name,
            roles,
            created: !exists,
        });
    }
    Ok(out)
}

/// The demo's departments: (name, kind, domain, liaison account).
const DEMO_DEPARTMENTS: [(&str, crate::departments::DepartmentKind, &str, &str); 4] = [
    (
        "县市场监督管理局",
        crate::departments::DepartmentKind::Functional,
        "食品安全、价格、无照经营",
        "department_liaison",
    ),
    (
        "某某派出所",
        crate::departments::DepartmentKind::Police,
        "治安、涉嫌犯罪案件",
        "police_liaison",
    ),
    (
        "县人民检察院",
        crate::departments::DepartmentKind::Procuratorate,
        "行政执法与刑事司法衔接监督",
        "procurator_liaison",
    ),
    (
        "县产品质量检验所",
        crate::departments::DepartmentKind::Expert,
        "检验、检测、鉴定",
        "",
    ),
];

/// Create the demo departments that do not exist yet (after the accounts); returns how many.
pub fn load_departments(
    conn: &mut DbConn,
    now: NaiveDateTime,
) -> Result<usize, crate::error::AppError> {
    let admin = users::find_by_username(conn, "admin")?
        .map(|u| u.id)
        .unwrap_or_else(|| "system".into());
    let mut created = 0;
    for (name, kind, domain, liaison) in DEMO_DEPARTMENTS {
        if crate::store::departments::find_by_name(conn, name)?.is_some() {
            continue;
        }
        let input = crate::departments::DepartmentInput {
            name: name.into(),
            kind,
            domain: domain.into(),
            phone: String::new(),
            address: String::new(),
            active: true,
            liaisons: if liaison.is_empty() {
                vec![]
            } else {
                vec![liaison.into()]
            },
        };
        crate::departments::create(conn, &admin, &input, now)?;
        created += 1;
    }
    Ok(created)
}

/// The demo's joint meetings, when there are none: last month's, held, with its minutes and two
/// decided items (one overdue, so the next agenda reports it), and next week's, taking topics,
/// with one submitted by the market regulator. Returns how many meetings were made.
pub fn load_meetings(
    conn: &mut DbConn,
    cfg: &crate::config::MeetingsConfig,
    now: NaiveDateTime,
) -> Result<usize, crate::error::AppError> {
    use crate::meetings::{self, ItemInput, MeetingInput, MinutesInput, TopicInput};
    use griddispatch_protocol::Role;
    if crate::store::meetings::latest(conn)?.is_some() {
        return Ok(0);
    }
    let id_of = |conn: &mut DbConn, name: &str| -> Result<String, crate::error::AppError> {
        crate::store::departments::find_by_name(conn, name)?
            .map(|d| d.id)
            .ok_or_else(|| {
                crate::error::AppError::Internal(format!("demo department {name} missing"))
            })
    };
    let market = id_of(conn, "县市场监督管理局")?;
    let police = id_of(conn, "某某派出所")?;
    let admin = users::find_by_username(conn, "admin")?
        .map(|u| u.id)
        .unwrap_or_else(|| "system".into());
    let day = chrono::Duration::days(1);
    let rfc = |t: NaiveDateTime| {
        t.and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    let held = meetings::create(
        conn,
        &admin,
        &MeetingInput {
            title: "上月综合行政执法联席会议（演示）".into(),
            scheduled_at: now - day * 30,
            place: "镇政府三楼会议室".into(),
            chair_department_id: None,
            members: vec![market.clone(), police.clone()],
        },
        cfg,
        now - day * 40,
    )?;
    let item =
        |title: &str, owner: &str, person: &str, due: NaiveDateTime, standard: &str| ItemInput {
            title: Some(title.into()),
            owner_department_id: Some(owner.into()),
            owner_person: Some(person.into()),
            due_at: Some(rfc(due)),
            standard: Some(standard.into()),
        };
    meetings::issue_minutes(
        conn,
        &admin,
        &[Role::Admin],
        &held.id,
        &MinutesInput {
            minutes: "会议通报了上月执法协作情况，研究了沿街占道经营和无照经营的联合整治。".into(),
            items: vec![
                item(
                    "沿街无照经营熟食摊点联合整治",
                    &market,
                    "市场监管所 王科长",
                    now - day * 5,
                    "主要街道无照熟食摊点清零，形成整治台账",
                ),
                item(
                    "夜间噪声扰民联合巡查",
                    &police,
                    "派出所 李所长",
                    now + day * 20,
                    "每周联合巡查两次，投诉按时回复",
                ),
            ],
        },
        cfg,
        now - day * 29,
    )?;
    let next = meetings::create(
        conn,
        &admin,
        &MeetingInput {
            title: "本月综合行政执法联席会议（演示）".into(),
            scheduled_at: now + day * 7,
            place: "镇政府三楼会议室".into(),
            chair_department_id: None,
            members: vec![market.clone(), police],
        },
        cfg,
        now,
    )?;
    if let Some(liaison) = users::find_by_username(conn, "department_liaison")? {
        meetings::submit_topic(
            conn,
            &liaison.id,
            &[Role::DepartmentLiaison],
            &next.id,
            &TopicInput {
                title: "校园周边食品摊贩联合整治".into(),
                description: "开学以来校园周边流动摊贩增多，建议联合整治。".into(),
            },
            cfg,
            now,
        )?;
    }
    meetings::sweep(conn, now)?;
    Ok(2)
}
