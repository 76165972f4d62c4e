//! 案件移送函: the transfer letter, made from the report and its transfer once sent — always
//! in the brigade's (the town government's enforcement authority's) name.

use super::{DocSpec, Para};
use crate::domain::workflow::{CaseRules, Report, Transfer};

/// The letter of a sent transfer (None before it is sent).
pub fn transfer_letter(
    r: &Report,
    t: &Transfer,
    authority: &str,
    rules: &CaseRules,
) -> Option<DocSpec> {
    let packet = t.packet.as_ref()?;
    let sent = t.sent_at?;
    let mut paras = vec![
        Para::Text(format!("{}：", t.department_name)),
        Para::Text(format!(
            "我单位在日常巡查和受理投诉举报中发现下列事项，经审查不属于本单位管辖，依据《关于深入推进城市执法体制改革改进城市管理工作的指导意见》及相关职责分工规定，现移送你单位依法处理。请于收到本函之日起 {} 日内书面答复是否接收，并于作出处理决定之日起 {} 日内反馈处理结果。",
            rules.transfer_answer_days, rules.transfer_outcome_days
        )),
        Para::Field("事项".into(), r.description.clone()),
        Para::Field(
            "地点".into(),
            r.address.clone().unwrap_or_else(|| {
                r.cell
                    .as_ref()
                    .map(|c| c.village.clone())
                    .unwrap_or_default()
            }),
        ),
        Para::Field("移送理由".into(), t.reason.clone()),
        Para::Field("违法事实认定".into(), packet.finding.clone()),
        Para::Field("证据清单".into(), packet.evidence_list.clone()),
    ];
    if let Some(e) = &packet.expert_conclusions {
        paras.push(Para::Field("检验鉴定/专家意见".into(), e.clone()));
    }
    if let Some(s) = &t.violation_stopped {
        paras.push(Para::Field("已采取的制止措施".into(), s.clone()));
    }
    paras.push(Para::Field(
        "随附材料".into(),
        format!("原始材料及证据 {} 件（清单见上）", r.attachment_ids.len()),
    ));
    if t.urgent {
        paras.push(Para::Text("本件为紧急移送。".into()));
    }
    Some(DocSpec {
        title: "案件移送函".into(),
        number: Some(packet.letter_number.clone()),
        paras,
        authority: authority.to_owned(),
        date: crate::domain::time::china_date(sent),
    })
}

/// 协助函: the written request of an assistance request (执法协助), in the brigade's name.
pub fn assistance_letter(
    r: &Report,
    a: &crate::domain::workflow::Assistance,
    authority: &str,
    rules: &CaseRules,
) -> DocSpec {
    let mut paras = vec![
        Para::Text(format!("{}：", a.department_name)),
        Para::Text(format!(
            "我单位在行使行政执法职权中，认定下列违法事项需要你单位提供{}。依据执法协助制度，特函请协助，请于收到本函之日起 {} 个工作日内提出书面意见并移交我单位；如情况特殊、所需时间较长，请在期限届满前告知，延长时间累计不超过 {} 日。",
            a.kind.label_zh(),
            rules.assistance_answer_working_days,
            rules.assistance_max_extension_days
        )),
        Para::Field("事项".into(), r.description.clone()),
        Para::Field(
            "地点".into(),
            r.address.clone().unwrap_or_else(|| {
                r.cell
                    .as_ref()
                    .map(|c| c.village.clone())
                    .unwrap_or_default()
            }),
        ),
        Para::Field("协助事项".into(), a.question.clone()),
        Para::Field(
            "答复期限".into(),
            crate::domain::time::china_date(a.first_due)
                .format("%Y年%-m月%-d日")
                .to_string(),
        ),
    ];
    if !a.attachment_ids.is_empty() {
        paras.push(Para::Field(
            "随附材料".into(),
            format!("证据材料 {} 件", a.attachment_ids.len()),
        ));
    }
    DocSpec {
        title: "执法协助函".into(),
        number: Some(a.letter_number.clone()),
        paras,
        authority: authority.to_owned(),
        date: crate::domain::time::china_date(a.requested_at),
    }
}
