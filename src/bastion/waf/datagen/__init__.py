"""Training-data generation for the WAF attack scorer.

Grammar generators for SQLi, XSS and OS command injection, semantics-preserving mutations,
WAF-bypass encodings, realistic benign traffic, hard negatives and noise, placement of payloads
into full HTTP requests, the public-corpora loader and the full training corpus. Everything is
deterministic for a given seed (each function takes its own ``random.Random``).
"""

from bastion.waf.datagen.benign import generate_benign
from bastion.waf.datagen.corpus import EVAL_SETS, build_corpus, build_eval_sets, load_shared
from bastion.waf.datagen.encode import ENCODING_SCHEMES, encode
from bastion.waf.datagen.fpneg import generate_fp_negatives
from bastion.waf.datagen.hardneg import generate_hard_negatives
from bastion.waf.datagen.mutate import mutate
from bastion.waf.datagen.noise import generate_noise
from bastion.waf.datagen.other import generate_other_attacks
from bastion.waf.datagen.place import PARTS, benign_request, place
from bastion.waf.datagen.rce import generate_rce
from bastion.waf.datagen.sample import KINDS, LABELS, Sample
from bastion.waf.datagen.sqli import generate_sqli
from bastion.waf.datagen.xss import generate_xss

__all__ = [
    "ENCODING_SCHEMES",
    "EVAL_SETS",
    "KINDS",
    "LABELS",
    "PARTS",
    "Sample",
    "benign_request",
    "build_corpus",
    "build_eval_sets",
    "encode",
    "generate_benign",
    "generate_fp_negatives",
    "generate_hard_negatives",
    "generate_noise",
    "generate_other_attacks",
    "generate_rce",
    "generate_sqli",
    "generate_xss",
    "load_shared",
    "mutate",
    "place",
]
