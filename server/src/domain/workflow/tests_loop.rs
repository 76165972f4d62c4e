//! Loose ends of the closed loop (issue 15): re-dispatch, a report with an open case,
//! escalation by hand, the acknowledgement clock.

use griddispatch_protocol::command::Command;
use griddispatch_protocol::Role;

use super::tests::{actor, facts, id, task};
use super::*;

#[test]
fn a_returned_task_is_never_redispatched_to_the_same_squad() {
    let mut f = facts(actor("disp", &[Role::Dispatcher]));
    f.task = Some(task(TaskStatus::Returned));
    let same = Command::RedispatchTask {
        task_id: id(2),
        squad_id: "squad-1".into(),
    };
    assert_eq!(decide(&same, &f).unwrap_err().code, "same_squad");
    let other = Command::RedispatchTask {
        task_id: id(2),
        squad_id: "squad-2".into(),
    };
    assert_eq!(
        decide(&other, &f).unwrap().task.unwrap().squad_id,
        "squad-2"
    );
}
