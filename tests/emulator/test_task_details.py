"""Task layout of nested DAG groups: states derived from the tasks that ran inside them."""

from local.vertex_emulator.task_details import TaskLayout

# The shape the KFP compiler gives `with dsl.If(...)` nested in another `dsl.If` (tasks only).
SPEC = {
    "root": {"dag": {"tasks": {
        "gate": {"componentRef": {"name": "comp-gate"}},
        "condition-1": {"componentRef": {"name": "comp-condition-1"}},
    }}},
    "components": {
        "comp-gate": {"executorLabel": "exec-gate"},
        "comp-condition-1": {"dag": {"tasks": {
            "condition-2": {"componentRef": {"name": "comp-condition-2"}},
            "condition-3": {"componentRef": {"name": "comp-condition-3"}},
        }}},
        "comp-condition-2": {"dag": {"tasks": {"register": {"componentRef": {"name": "comp-r"}}}}},
        "comp-condition-3": {"dag": {"tasks": {"deploy": {"componentRef": {"name": "comp-d"}}}}},
        "comp-r": {"executorLabel": "exec-r"},
        "comp-d": {"executorLabel": "exec-d"},
    },
}  # fmt: skip


def states(executed: dict[str, str], root_state: str) -> dict[str, str | None]:
    layout = TaskLayout.of(SPEC)
    ran = {name: {"state": state} for name, state in executed.items()}
    return {group: layout.group_state(group, ran, root_state) for group in layout.groups}


def test_only_the_outermost_group_that_did_not_run_is_not_triggered():
    assert states({"gate": "SUCCEEDED"}, "SUCCEEDED") == {
        "condition-1": "NOT_TRIGGERED",
        "condition-2": None,
        "condition-3": None,
    }


def test_groups_take_the_state_of_what_ran_inside_them():
    executed = {"gate": "SUCCEEDED", "register": "SUCCEEDED"}
    assert states(executed, "SUCCEEDED") == {
        "condition-1": "SUCCEEDED",
        "condition-2": "SUCCEEDED",
        "condition-3": "NOT_TRIGGERED",
    }
    assert states({"gate": "SUCCEEDED", "register": "RUNNING"}, "RUNNING")["condition-1"] == (
        "RUNNING"
    )
    assert states({"gate": "SUCCEEDED", "register": "FAILED"}, "FAILED")["condition-2"] == "FAILED"


def test_groups_not_reached_by_a_failed_run_are_not_listed():
    assert states({"gate": "FAILED"}, "FAILED") == {
        "condition-1": None,
        "condition-2": None,
        "condition-3": None,
    }


def test_task_ids_follow_the_spec_and_parents_are_the_enclosing_group():
    layout = TaskLayout.of(SPEC)
    assert layout.parent_id("register") == layout.task_id("condition-2")
    assert layout.parent_id("gate") == 1
    ids = [layout.task_id(n) for n in ("gate", "condition-1", "condition-2", "register")]
    assert len(set(ids)) == 4
    assert layout.task_id("not-in-spec") not in ids
