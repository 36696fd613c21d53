"""Runlore's Python SDK: `run = runlore.init(...)`, then `run.log_metric(...)`.

Logging never blocks on the network and never loses a point: see
docs/SDK.md in the repository for the journal and its guarantees.
"""

from . import tensorboard
from ._run import Run, active_run, init

__all__ = ["Run", "active_run", "init", "tensorboard"]
__version__ = "0.1.0"
