"""The platform's policy pack: `pulumi preview --policy-pack policy` (docs/security.md,
"Policies")."""

import sys
from pathlib import Path

# The rules share the config's checks (e.g. what a pinned image is) with the program.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import Policy, PolicyPack

from policy.rules import ENFORCEMENT, POLICIES

policies: list[Policy] = [*POLICIES]
PolicyPack(name="platform-rules", enforcement_level=ENFORCEMENT, policies=policies)
