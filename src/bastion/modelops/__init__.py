"""Model operations: registry, rollout (shadow, canary, promotion), drift, feedback.

The pure core: artifacts and their fingerprints (:mod:`.artifacts`), the rollout state
machine (:mod:`.rollout`), routing a request to a model (:mod:`.routing`), shadow
disagreement (:mod:`.shadow`), score-distribution drift (:mod:`.drift`) and analysts'
feedback (:mod:`.feedback`). Storage is in :mod:`bastion.store.modelops`, the HTTP API in
:mod:`bastion.service.models_api`.
"""

from bastion.modelops.artifacts import ArtifactError, ArtifactInfo, inspect_artifact
from bastion.modelops.rollout import (
    MODEL_KINDS,
    STATUSES,
    RolloutError,
    RolloutState,
)

__all__ = [
    "MODEL_KINDS",
    "STATUSES",
    "ArtifactError",
    "ArtifactInfo",
    "RolloutError",
    "RolloutState",
    "inspect_artifact",
]
