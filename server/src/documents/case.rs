//! The documents of a case (行政处罚法; seed 002 第十九条, seed 003 三(三)), built from what the
//! case holds — each exists once the step that makes it has been taken.

use chrono::NaiveDateTime;
use griddispatch_protocol::case::{
    CaseDecision, CaseRecordKind, PreservationMeasure, Sanction, SanctionKind, ServiceMethod,
};
use serde::Serialize;

use super::{DocSpec, Para};
use crate::domain::workflow::{Case, CaseRules};

/// The documents a case can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// 立案审批表.
    Filing,
    /// 询问笔录 / 现场检查（勘验）笔录 / 先行登记保存通知书 (one per record, `record-<n>`).
    Record,
    /// 先行登记保存物品处理决定书 (one per decided preservation, `preservation-<n>`).
    PreservationDecision,
    /// 行政处罚事先告知书.
    Notice,
    /// 听证通知书.
    HearingNotice,
    /// 听证笔录.
    HearingRecord,
    /// 法制审核意见书.
    Review,
    /// 集体讨论记录.
    Discussion,
    /// 行政处罚决定书 / 不予行政处罚决定书.
    Decision,
    /// 送达回证.
    Service,
    /// 催告书 (行政强制法 art. 35, 54).
    Reminder,
    /// 结案报告.
    Closing,
}

fn day(t: NaiveDateTime) -> chrono::NaiveDate {
    crate::domain::time::china_date(t)
}

fn when(t: NaiveDateTime) -> String {
    (t + crate::domain::time::china_offset())
        .format("%Y年%m月%d日 %H:%M")
        .to_string()
}

fn fen(f: i64) -> String {
    format!("{}.{:02}元", f / 100, f % 100)
}

fn sanction(s: &Sanction) -> String {
    let kind = match s.kind {
        SanctionKind::Warning => "警告",
        SanctionKind::Fine => "罚款",
        SanctionKind::Confiscation => "没收违法所得、非法财物",
        SanctionKind::SuspendLicence => "暂扣许可证件",
        SanctionKind::LowerQualification => "降低资质等级",
        SanctionKind::RevokeLicence => "吊销许可证件",
        SanctionKind::OrderClosure => "责令停产停业、责令关闭",
        SanctionKind::RestrictPractice => "限制从业",
    };
    match s.amount_fen {
        Some(f) => format!("{kind}人民币{}.{:02}元", f / 100, f % 100),
        None => kind.to_owned(),
    }
}

/// Every document the case has now: (name used in the URL, kind, the document).
pub fn case_documents(
    c: &Case,
    rules: &CaseRules,
    authority: &str,
    name: &dyn Fn(&str) -> String,
) -> Vec<(String, DocumentKind, DocSpec)> {
    let p = &c.procedure;
    let mut out = Vec::new();
    let doc = |title: &str, number: Option<String>, paras: Vec<Para>, at: NaiveDateTime| DocSpec {
        title: title.to_owned(),
        number,
        paras,
        authority: authority.to_owned(),
        date: day(at),
    };
    let names = |ids: &[String]| ids.iter().map(|i| name(i)).collect::<Vec<_>>().join("、");
    let party = p
        .notice
        .as_ref()
        .map(|n| n.party.name.clone())
        .unwrap_or_default();

    if let (Some(number), Some(at)) = (&c.number, p.filed_at) {
        out.push((
            "filing".to_owned(),
            DocumentKind::Filing,
            doc(
                "立案审批表",
                Some(number.clone()),
                vec![
                    Para::Field("案由".into(), c.finding.clone()),
                    Para::Field(
                        "违法行为认定".into(),
                        format!("{}（{}）", c.finding, c.issuing_unit),
                    ),
                    Para::Field("涉嫌违反".into(), c.suspected_provision.clone()),
                    Para::Field(
                        "立案建议".into(),
                        format!("{}，{}", name(&c.proposed_by), when(c.proposed_at)),
                    ),
                    Para::Field(
                        "审批意见".into(),
                        format!(
                            "同意立案。{}，{}",
                            c.decided_by.as_deref().map(name).unwrap_or_default(),
                            when(at)
                        ),
                    ),
                ],
                at,
            ),
        ));
    }
    for (i, r) in p.records.iter().enumerate() {
        let title = match r.kind {
            CaseRecordKind::Inquiry => "询问笔录",
            CaseRecordKind::Inspection => "现场检查（勘验）笔录",
            CaseRecordKind::EvidencePreservation => "先行登记保存通知书",
        };
        out.push((
            format!("record-{}", i + 1),
            DocumentKind::Record,
            doc(
                title,
                c.number.clone(),
                vec![
                    Para::Field("时间".into(), when(r.at)),
                    Para::Field(
                        "执法人员".into(),
                        format!("{}（已出示执法证件）", names(&r.officer_ids)),
                    ),
                    Para::Field("内容".into(), r.content.clone()),
                    Para::Field(
                        "证据".into(),
                        format!("{} 件（见案卷证据目录）", r.attachment_ids.len()),
                    ),
                ],
                r.at,
            ),
        ));
    }
    for (i, r) in p.records.iter().enumerate() {
        let Some(d) = &r.preservation else { continue };
        let measure = match d.measure {
            PreservationMeasure::Return => "解除先行登记保存，退还当事人",
            PreservationMeasure::Test => "送交检验、检测或者鉴定",
            PreservationMeasure::Transfer => "移送有关部门处理",
            PreservationMeasure::Confiscate => "依法予以没收，随行政处罚决定执行",
        };
        out.push((
            format!("preservation-{}", i + 1),
            DocumentKind::PreservationDecision,
            doc(
                "先行登记保存物品处理决定书",
                c.number.clone(),
                vec![
                    Para::Field("当事人".into(), party.clone()),
                    Para::Text(format!(
                        "本机关于{}对有关证据先行登记保存（{}）。根据《中华人民共和国行政处罚法》第五十六条的规定，现作出如下处理决定：{measure}。",
                        when(r.at),
                        r.content.trim_end_matches('。')
                    )),
                    Para::Field("理由".into(), d.note.clone()),
                ],
                d.at,
            ),
        ));
    }
    if let Some(n) = &p.notice {
        let mut paras = vec![
            Para::Field("当事人".into(), n.party.name.clone()),
            Para::Text(format!("经调查，你（单位）{}。", n.facts.trim_end_matches('。'))),
            Para::Text(format!("依据{}，本机关拟对你（单位）作出如下行政处罚：{}。", n.legal_basis, n.sanctions.iter().map(sanction).collect::<Vec<_>>().join("；"))),
            Para::Text(format!("根据《中华人民共和国行政处罚法》第四十四条、第四十五条的规定，你（单位）有权进行陈述和申辩，请于{}前提出；逾期视为放弃。", when(n.statement_until))),
        ];
        if n.hearing_right {
            paras.push(Para::Text(format!("根据第六十三条、第六十四条的规定，你（单位）有权要求听证，请于收到本告知书之日起{}个工作日内（{}前）提出。", rules.hearing_request_working_days, when(n.hearing_request_until))));
        }
        out.push((
            "notice".into(),
            DocumentKind::Notice,
            doc("行政处罚事先告知书", c.number.clone(), paras, n.at),
        ));
    }
    if let Some(h) = &p.hearing {
        if let (Some(at), Some(noticed)) = (h.hearing_at, h.noticed_at) {
            out.push(("hearing-notice".into(), DocumentKind::HearingNotice, doc("听证通知书", c.number.clone(), vec![
                Para::Field("当事人".into(), party.clone()),
                Para::Text(format!("根据你（单位）的申请，本机关定于{}举行听证，由{}主持，{}举行。", when(at), h.host_id.as_deref().map(name).unwrap_or_default(), if h.public { "公开" } else { "不公开" })),
                Para::Text("你（单位）可以亲自参加听证，也可以委托一至二人代理；无正当理由拒不出席的，视为放弃听证权利。".into()),
            ], noticed)));
        }
        if let (Some(record), Some(held)) = (&h.record, h.held_at) {
            out.push((
                "hearing-record".into(),
                DocumentKind::HearingRecord,
                doc(
                    "听证笔录",
                    c.number.clone(),
                    vec![
                        Para::Field(
                            "主持人".into(),
                            h.host_id.as_deref().map(name).unwrap_or_default(),
                        ),
                        Para::Field("记录".into(), record.clone()),
                    ],
                    held,
                ),
            ));
        }
    }
    if let Some(r) = p.reviews.last() {
        out.push((
            "review".into(),
            DocumentKind::Review,
            doc(
                "法制审核意见书",
                c.number.clone(),
                vec![
                    Para::Field("审核人员".into(), name(&r.by)),
                    Para::Field(
                        "审核结论".into(),
                        if r.passed {
                            "同意".into()
                        } else {
                            "退回补充调查".into()
                        },
                    ),
                    Para::Field("审核意见".into(), r.opinion.clone()),
                ],
                r.at,
            ),
        ));
    }
    if let Some(d) = &p.discussion {
        out.push((
            "discussion".into(),
            DocumentKind::Discussion,
            doc(
                "集体讨论记录",
                c.number.clone(),
                vec![
                    Para::Field("参加人员".into(), d.participants.join("、")),
                    Para::Field("讨论记录".into(), d.minutes.clone()),
                    Para::Field("结论".into(), d.conclusion.clone()),
                ],
                d.at,
            ),
        ));
    }
    if let Some(d) = &p.decision {
        let (title, paras) = match &d.decision {
            CaseDecision::Penalty { sanctions, facts, legal_basis, discretion, statements_answer } => {
                let fine = sanctions.iter().any(|s| s.kind == SanctionKind::Fine);
                let mut paras = vec![
                    Para::Field("当事人".into(), party.clone()),
                    Para::Text(format!("经查，{}。", facts.trim_end_matches('。'))),
                    Para::Text(format!("陈述申辩及采纳情况：{statements_answer}")),
                    Para::Text(format!("依据{legal_basis}，按照{discretion}，本机关决定：{}。", sanctions.iter().map(sanction).collect::<Vec<_>>().join("；"))),
                ];
                if fine {
                    paras.push(Para::Text(format!("罚款自收到本决定书之日起{}日内缴至指定银行（罚缴分离，执法人员不收缴罚款）。逾期不缴纳的，每日按罚款数额的百分之三加处罚款，加处罚款的数额不超出罚款的数额。", rules.payment_days)));
                }
                paras.push(Para::Text("如不服本决定，可以在收到本决定书之日起六十日内申请行政复议，或者在六个月内依法向人民法院提起行政诉讼。".into()));
                ("行政处罚决定书", paras)
            }
            CaseDecision::NoPenalty { facts, legal_basis, reason } => ("不予行政处罚决定书", vec![
                Para::Field("当事人".into(), party.clone()),
                Para::Text(format!("经查，{}。", facts.trim_end_matches('。'))),
                Para::Text(format!("鉴于{}，依据{legal_basis}，本机关决定不予行政处罚。", reason.trim_end_matches('。'))),
                Para::Text("如不服本决定，可以在收到本决定书之日起六十日内申请行政复议，或者在六个月内依法向人民法院提起行政诉讼。".into()),
            ]),
        };
        out.push((
            "decision".into(),
            DocumentKind::Decision,
            doc(title, Some(d.number.clone()), paras, d.at),
        ));
        if let Some(s) = &p.service {
            let method = match s.method {
                ServiceMethod::InPerson => "直接送达",
                ServiceMethod::LeftAtAddress => "留置送达",
                ServiceMethod::Post => "邮寄送达",
                ServiceMethod::Electronic => "电子送达（经当事人同意）",
                ServiceMethod::PublicNotice => "公告送达",
            };
            out.push((
                "service".into(),
                DocumentKind::Service,
                doc(
                    "送达回证",
                    Some(d.number.clone()),
                    vec![
                        Para::Field("送达文书".into(), format!("{title}（{}）", d.number)),
                        Para::Field("受送达人".into(), party.clone()),
                        Para::Field("送达方式".into(), method.into()),
                        Para::Field("送达时间".into(), when(s.at)),
                        Para::Field("送达人".into(), name(&s.by)),
                        Para::Field("受送达人签收".into(), "".into()),
                    ],
                    s.at,
                ),
            ));
        }
    }
    if let (Some(r), Some(d)) = (&p.reminder, &p.decision) {
        let fine = p.fine_fen();
        let mut paras = vec![
            Para::Text(format!("{party}：")),
            Para::Text(format!(
                "本机关于{}作出{}行政处罚决定书，对你（单位）处以罚款人民币{}，决定书已于{}送达。",
                day(d.at).format("%Y年%m月%d日"),
                d.number,
                fen(fine),
                p.service
                    .as_ref()
                    .map(|s| day(s.at).format("%Y年%m月%d日").to_string())
                    .unwrap_or_default()
            )),
        ];
        if let Some(plan) = p
            .payment_plan
            .as_ref()
            .filter(|pl| pl.approved == Some(true))
        {
            let parts = plan
                .instalments
                .iter()
                .map(|i| {
                    format!(
                        "{}前缴纳{}",
                        i.due_on.format("%Y年%m月%d日"),
                        fen(i.amount_fen)
                    )
                })
                .collect::<Vec<_>>()
                .join("；");
            paras.push(Para::Text(format!(
                "经你（单位）申请，本机关依照《中华人民共和国行政处罚法》第六十六条批准{}：{parts}。你（单位）未按期缴纳。",
                match plan.kind {
                    griddispatch_protocol::case::PaymentPlanKind::Deferral => "延期缴纳",
                    griddispatch_protocol::case::PaymentPlanKind::Instalments => "分期缴纳",
                }
            )));
        } else {
            paras.push(Para::Text(format!(
                "你（单位）未在收到决定书之日起{}日内缴纳罚款。",
                rules.payment_days
            )));
        }
        paras.push(Para::Text(format!(
            "根据《中华人民共和国行政处罚法》第七十二条第一款第（一）项的规定，到期不缴纳罚款的，每日按罚款数额的百分之三加处罚款，加处罚款的数额不超出罚款的数额。截至本催告书作出之日，你（单位）应缴纳罚款及加处罚款共计人民币{}。",
            fen(r.amount_fen)
        )));
        paras.push(Para::Text(format!(
            "根据《中华人民共和国行政强制法》第三十五条、第五十四条的规定，现催告你（单位）于{}前（收到本催告书之日起{}个工作日内）到指定银行缴纳上述款项。你（单位）有权进行陈述和申辩。逾期仍不履行的，本机关将依法申请人民法院强制执行。",
            when(r.pay_by),
            rules.reminder_working_days
        )));
        paras.push(Para::Field("经办人".into(), name(&r.by)));
        out.push((
            "reminder".into(),
            DocumentKind::Reminder,
            doc("催告书", Some(r.number.clone()), paras, r.at),
        ));
    }
    if let Some(a) = &p.archive {
        let mut paras = vec![
            Para::Field("案件".into(), c.finding.clone()),
            Para::Field("当事人".into(), party),
        ];
        if let Some(d) = &p.decision {
            paras.push(Para::Field("处理结果".into(), d.number.clone()));
        }
        if let Some(pay) = &p.payment {
            paras.push(Para::Field(
                "执行情况".into(),
                format!(
                    "已缴纳人民币{}.{:02}元（含加处罚款{}.{:02}元），凭证号{}",
                    pay.amount_fen / 100,
                    pay.amount_fen % 100,
                    pay.surcharge_fen / 100,
                    pay.surcharge_fen % 100,
                    pay.reference
                ),
            ));
        }
        if p.payment.is_none() {
            if let Some(ca) = &p.court_application {
                paras.push(Para::Field(
                    "执行情况".into(),
                    format!(
                        "当事人经催告（{}）逾期仍未履行，已于{}申请{}强制执行，申请执行金额人民币{}",
                        p.reminder.as_ref().map(|r| r.number.as_str()).unwrap_or_default(),
                        day(ca.at).format("%Y年%m月%d日"),
                        ca.court,
                        fen(ca.amount_fen)
                    ),
                ));
            }
        }
        paras.push(Para::Field("结案报告".into(), a.closing_report.clone()));
        out.push((
            "closing".into(),
            DocumentKind::Closing,
            doc("结案报告", c.number.clone(), paras, a.at),
        ));
    }
    out
}
