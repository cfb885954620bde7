"""Content scanning: hash images and files, match them against hash banks.

The pure core (no HTTP, no database): safe decoding (:mod:`.decode`), signal types
(:mod:`.signals`: PDQ, MD5, SHA-256), banks (:mod:`.bank`) with ThreatExchange/HMA CSV
import and export (:mod:`.csvio`) and persistence (:mod:`.store`), live indexes
(:mod:`.index`, :mod:`.mih`) and the matcher (:mod:`.matcher`).
"""

from __future__ import annotations

from bastion.content.bank import Bank, Entry
from bastion.content.csvio import CsvImport, export_csv, read_csv, write_csv
from bastion.content.decode import DEFAULT_LIMITS, DecodedImage, DecodeLimits, decode_image
from bastion.content.errors import (
    ContentError,
    CorruptImage,
    DecodeTimeout,
    EmptyContent,
    TooLarge,
    TooManyPixels,
    UnsupportedFormat,
)
from bastion.content.hashing import FAST_MIN_SIDE, ContentHashes, ImageInfo, hash_content
from bastion.content.index import BruteForcePdqIndex, ExactIndex, PdqLiveIndex, SignalIndex
from bastion.content.matcher import Match, Matcher, ScanResult
from bastion.content.mih import MihIndex
from bastion.content.signals import (
    PDQ_QUALITY_THRESHOLD,
    Md5Signal,
    PdqSignal,
    Sha256Signal,
    SignalHash,
    SignalType,
    get_signal_type,
    register_signal_type,
    signal_types,
)
from bastion.content.store import BankStore, BankStoreError, CsvDirectoryStore, MemoryBankStore

__all__ = [
    "DEFAULT_LIMITS",
    "FAST_MIN_SIDE",
    "PDQ_QUALITY_THRESHOLD",
    "Bank",
    "BankStore",
    "BankStoreError",
    "BruteForcePdqIndex",
    "ContentError",
    "ContentHashes",
    "CorruptImage",
    "CsvDirectoryStore",
    "CsvImport",
    "DecodeLimits",
    "DecodeTimeout",
    "DecodedImage",
    "EmptyContent",
    "Entry",
    "ExactIndex",
    "ImageInfo",
    "Match",
    "Matcher",
    "Md5Signal",
    "MemoryBankStore",
    "MihIndex",
    "PdqLiveIndex",
    "PdqSignal",
    "ScanResult",
    "Sha256Signal",
    "SignalHash",
    "SignalIndex",
    "SignalType",
    "TooLarge",
    "TooManyPixels",
    "UnsupportedFormat",
    "decode_image",
    "export_csv",
    "get_signal_type",
    "hash_content",
    "read_csv",
    "register_signal_type",
    "signal_types",
    "write_csv",
]
