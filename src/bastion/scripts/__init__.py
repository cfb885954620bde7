"""Client-side script security: classify JavaScript as benign, magecart, cryptomining or malware.

>>> from bastion.scripts import load_scorer
>>> scorer = load_scorer()
>>> scorer.scan(b"var a = 1;").cls
'benign'

The pipeline is pure and bounded: :mod:`~bastion.scripts.source` (HTML extraction,
size limits) -> :mod:`~bastion.scripts.tree` (tree-sitter parse, pruned tree) ->
:mod:`~bastion.scripts.normhash` (cache key) -> :mod:`~bastion.scripts.features` ->
:mod:`~bastion.scripts.model` (NumPy forward pass) -> :class:`ScriptResult`.
"""

from bastion.scripts.model import ModelError
from bastion.scripts.normhash import normalized_hash
from bastion.scripts.result import ScriptClass, ScriptResult
from bastion.scripts.scorer import ScriptScorer, load_scorer
from bastion.scripts.source import SourceError
from bastion.scripts.tree import ScriptTree, parse

__all__ = [
    "ModelError",
    "ScriptClass",
    "ScriptResult",
    "ScriptScorer",
    "ScriptTree",
    "SourceError",
    "load_scorer",
    "normalized_hash",
    "parse",
]
