"""WAF attack score: load a scorer, score one request or a batch.

>>> from bastion.waf import load_scorer, HttpRequest
>>> scorer = load_scorer()
>>> scorer.score(HttpRequest("GET", "/search?q=1'+or+1=1--")).cls
'attack'
"""

from bastion.waf.request import HttpRequest, RequestFormatError
from bastion.waf.result import Explanation, WafResult, score_class
from bastion.waf.scorer import Scorer, load_scorer

__all__ = [
    "Explanation",
    "HttpRequest",
    "RequestFormatError",
    "Scorer",
    "WafResult",
    "load_scorer",
    "score_class",
]
