//! 当场行政处罚决定书: the decision an officer hands the party on the spot under the simple
//! procedure (行政处罚法 第五十一、五十二条) — built from the task's `simple_penalty` outcome.

use griddispatch_protocol::command::{Outcome, PartyKind, Penalty};

use super::{DocSpec, Para};
use crate::domain::workflow::Task;

/// What the decision needs besides the task.
pub struct SimpleDecisionContext<'a> {
    /// 行政机关名称 (the town government).
    pub authority: &'a str,
    /// 地点: the report's address or its village.
    pub place: &'a str,
    /// Each officer who handled it, `name（执法证号 …）`.
    pub officers: Vec<String>,
    /// Days to pay at the bank (罚缴分离).
    pub payment_days: i64,
}

/// The on-the-spot decision of a task handled with a simple-procedure penalty; `None` for any
/// other outcome.
pub fn simple_penalty_decision(t: &Task, ctx: &SimpleDecisionContext<'_>) -> Option<DocSpec> {
    let Some(Outcome::SimplePenalty {
        party_kind,
        party_name,
        penalty,
        facts,
        legal_basis,
    }) = &t.outcome
    else {
        return None;
    };
    let at = t.handled_at?;
    let party = match party_kind {
        PartyKind::Person => format!("{party_name}（公民）"),
        PartyKind::Organization => format!("{party_name}（法人或者其他组织）"),
    };
    let decision = match penalty {
        Penalty::Warning => "警告".to_owned(),
        Penalty::Fine { amount_fen } => {
            format!("罚款人民币{}.{:02}元", amount_fen / 100, amount_fen % 100)
        }
    };
    let mut paras = vec![
        Para::Field("当事人".into(), party),
        Para::Field(
            "时间".into(),
            (at + crate::domain::time::china_offset())
                .format("%Y年%m月%d日 %H:%M")
                .to_string(),
        ),
        Para::Field("地点".into(), ctx.place.to_owned()),
        Para::Text(format!("经查，{}。", facts.trim_end_matches('。'))),
        Para::Text(format!(
            "依据{}，适用简易程序，当场作出如下行政处罚决定：{decision}。",
            legal_basis.trim_end_matches('。')
        )),
    ];
    if matches!(penalty, Penalty::Fine { .. }) {
        paras.push(Para::Text(format!(
            "罚款自收到本决定书之日起{}日内缴至指定银行（罚缴分离，执法人员不收缴罚款）。逾期不缴纳的，每日按罚款数额的百分之三加处罚款，加处罚款的数额不超出罚款的数额。",
            ctx.payment_days
        )));
    }
    paras.push(Para::Text(
        "如不服本决定，可以在收到本决定书之日起六十日内申请行政复议，或者在六个月内依法向人民法院提起行政诉讼。".into(),
    ));
    paras.push(Para::Field("执法人员".into(), ctx.officers.join("、")));
    paras.push(Para::Field("当事人签收".into(), "　".repeat(12)));
    Some(DocSpec {
        title: "当场行政处罚决定书".into(),
        number: t.decision_number.clone(),
        paras,
        authority: ctx.authority.to_owned(),
        date: crate::domain::time::china_date(at),
    })
}
