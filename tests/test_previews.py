"""What a pull request's `pulumi preview` shows must be what `pulumi up` does.

The Python dynamic provider host does not support previews: in an update preview the engine
takes a changing dynamic resource's inputs as its outputs, so whatever its provider computes
(a deployment's uuid, a database's internal URL) is unknown there. An input built from such an
output would be unknown too, and the resource taking it (an app's Deploy, above all) would
show as changing although `up` leaves it alone. So no Coolify resource takes another's
computed output: ids (which an update keeps) and the program's own values only."""

from __future__ import annotations

import json

import pytest

from offline.engine import DYNAMIC_COMPUTED, DYNAMIC_TYPE_PREFIX, reveal
from tests.support import evaluate_stack

# Under mocks, each computed output is a stand-in "mock-<output>-of-<resource>" (offline.engine).
STAND_INS = sorted({f"mock-{name}-of-" for names in DYNAMIC_COMPUTED.values() for name in names})


def test_every_computed_output_has_a_stand_in() -> None:
    assert STAND_INS == ["mock-deployment_uuid-of-", "mock-internal_db_url-of-"]


@pytest.mark.parametrize("stack", ["production", "examples/scale-out.yaml"])
def test_no_coolify_input_is_built_from_a_computed_output(stack: str) -> None:
    recording = evaluate_stack(stack)
    dynamic = [r for r in recording.resources if r.type.startswith(DYNAMIC_TYPE_PREFIX)]
    assert len(dynamic) > 10
    for resource in dynamic:
        inputs = json.dumps(reveal(resource.inputs))
        assert not [stand_in for stand_in in STAND_INS if stand_in in inputs], resource.name
