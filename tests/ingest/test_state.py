"""The stream state machine: legal moves pass, illegal ones raise naming camera, states and reason."""

from __future__ import annotations

import pytest

from ioc.ingest import IllegalTransition, StreamStateMachine
from ioc.ingest.reasons import Reason
from ioc.ingest.state import ALLOWED
from ioc.messages import CameraState as S
from ioc.messages import ReasonCode

PATHS = {
    S.CONNECTING: [],
    S.ONLINE: [S.ONLINE],
    S.STALLED: [S.STALLED],
    S.OFFLINE: [S.OFFLINE],
    S.ERROR: [S.ERROR],
}


SETUP = Reason.of(ReasonCode.OTHER, detail="setup")
BECAUSE = Reason.of(ReasonCode.OTHER, detail="because")


def _machine_in(state: S) -> StreamStateMachine:
    machine = StreamStateMachine("cam-x")
    for step in PATHS[state]:
        machine.transition(step, SETUP)
    return machine


@pytest.mark.parametrize(("old", "new"), [(o, n) for o in S for n in S])
def test_every_pair_of_states(old: S, new: S) -> None:
    machine = _machine_in(old)
    before = machine.current
    if new in ALLOWED[old]:
        change = machine.transition(new, BECAUSE)
        assert (change.state, change.reason) == (new, BECAUSE)
        assert change.changed_at >= before.changed_at
    else:
        with pytest.raises(IllegalTransition) as info:
            machine.transition(new, BECAUSE)
        assert f"camera 'cam-x': illegal transition {old.value} → {new.value} (reason 'because')" in str(
            info.value
        )
        assert machine.current is before


def test_starts_connecting() -> None:
    machine = StreamStateMachine("cam-y")
    assert (machine.state, machine.current.reason) == (S.CONNECTING, Reason.of(ReasonCode.STARTING))


def test_online_only_through_connecting() -> None:
    assert [s for s in S if S.ONLINE in ALLOWED[s]] == [S.CONNECTING]
