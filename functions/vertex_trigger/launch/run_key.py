"""Which runs the trigger service made: a label only a holder of the run key can compute.

Anyone who may create a PipelineJob can copy our route, kind, source and event labels, so the
limits, the cooldown, the sweeper and the outcome reports count and report only the runs whose
``trigger-auth`` label is the HMAC of their job id under the deployment's secret key
(docs/design.md#which-runs-are-ours). A job id is taken once in Vertex, so a value read from one
of our runs proves nothing for any other run.
"""

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from vertex_trigger.config.labels import AUTH_LABEL
from vertex_trigger.google.resource_names import job_id_of

# The key of local stacks and tests (with VERTEX_AI_EMULATOR_HOST): public, so it proves nothing.
LOCAL_RUN_KEY = "vertex-triggers-local-run-key"
_DOMAIN = b"vertex-triggers run v1\x00"  # a key reused elsewhere never signs job ids by accident
_PARKED = b"vertex-triggers parked v1\x00"  # nor does a run label ever sign a parked event
AUTH_HEX_DIGITS = 32  # 128 bits, within a label value's 63 characters


@dataclass(frozen=True)
class RunKey:
    """The deployment's secret run key (from Secret Manager) and what it computes."""

    secret: bytes = field(repr=False)

    @classmethod
    def from_text(cls, text: str) -> "RunKey":
        """Return the key a secret's text stands for (surrounding whitespace is not part of it)."""
        return cls(text.strip().encode("utf-8"))

    def label(self, job_id: str) -> str:
        """Return the ``trigger-auth`` label value of the run ``job_id``."""
        digest = hmac.new(self.secret, _DOMAIN + job_id.encode("utf-8"), hashlib.sha256)
        return digest.hexdigest()[:AUTH_HEX_DIGITS]

    def seal(self, content: bytes) -> str:
        """Return the signature of a parked event's content (triggers/parking.py)."""
        return hmac.new(self.secret, _PARKED + content, hashlib.sha256).hexdigest()

    def sealed(self, content: bytes, signature: str) -> bool:
        """Tell whether ``signature`` is this key's seal of ``content``."""
        return hmac.compare_digest(signature, self.seal(content))

    def made(self, run: Mapping[str, Any]) -> bool:
        """Tell whether the trigger service created ``run`` (its label verifies)."""
        labels = run.get("labels")
        value = labels.get(AUTH_LABEL) if isinstance(labels, dict) else None
        if not isinstance(value, str):
            return False
        return hmac.compare_digest(value, self.label(job_id_of(run)))

    def ours(self, runs: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """Return the runs the trigger service created, in their order."""
        return [run for run in runs if self.made(run)]
