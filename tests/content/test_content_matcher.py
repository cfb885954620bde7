"""Banks, the matcher's rules, and the bank stores."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bastion.content import (
    Bank,
    BankStoreError,
    CsvDirectoryStore,
    Entry,
    Matcher,
    MemoryBankStore,
    PdqLiveIndex,
    PdqSignal,
    hash_content,
)
from bastion.content.mih import words_to_hex

ToBytes = Callable[..., bytes]
MakeImage = Callable[..., Image.Image]

H0 = "0" * 64


def at_distance(value: str, k: int) -> str:
    """``value`` with its lowest ``k`` bits flipped."""
    return f"{int(value, 16) ^ ((1 << k) - 1):064x}"


# ----------------------------------------------------------------------------- banks


def test_bank_add_merge_remove_tombstone() -> None:
    bank = Bank("known-bad_1.x", "pdq")
    assert bank.distance == 31 and bank.enabled and not bank.allow
    assert bank.add(Entry(H0.replace("0", "A"), "1", tags=frozenset({"a"}))) == 0
    assert bank.add(Entry("a" * 64, "2", tags=frozenset({"b"}))) is None  # merged
    assert bank.get("a" * 64) == Entry("a" * 64, "1", tags=frozenset({"a", "b"}))
    assert bank.add(Entry("b" * 64)) == 1
    assert bank.remove("B" * 64) == 1
    assert bank.remove("b" * 64) is None
    assert "b" * 64 in bank.removed and "b" * 64 not in bank
    assert bank.entry_at(1) is None and len(bank) == 1 and bank.slots == 2
    assert bank.add(Entry("b" * 64)) == 2  # re-adding uses a new slot, clears the tombstone
    assert "b" * 64 not in bank.removed
    assert [e.hash for e in bank] == ["a" * 64, "b" * 64]


@pytest.mark.parametrize("name", ["", ".hidden", "a/b", "x" * 65, "sp ace", "-x"])
def test_bank_names(name: str) -> None:
    with pytest.raises(ValueError, match="invalid bank name"):
        Bank(name)


def test_entry_validation() -> None:
    with pytest.raises(ValueError, match="tag"):
        Entry(H0, tags=frozenset({"two words"}))
    with pytest.raises(ValueError, match="control"):
        Entry(H0, indicator_id="a\nb")
    with pytest.raises(ValueError, match="whitespace"):
        Entry(H0, timestamp=" 2024")
    with pytest.raises(ValueError, match="expected 32 hex"):
        Bank("m", "md5").add(Entry(H0))
    with pytest.raises(ValueError, match="negative"):
        Bank("n", distance=-1)


# ----------------------------------------------------------------------------- matcher


def test_per_bank_distance_and_enabled() -> None:
    wide, narrow = Bank("wide", distance=31), Bank("narrow", distance=10)
    matcher = Matcher([wide, narrow])
    matcher.add_entries("wide", [Entry(H0, "w")])
    matcher.add_entries("narrow", [Entry(H0, "n")])
    ((m,),) = matcher.lookup("pdq", [at_distance(H0, 20)])
    assert (m.bank, m.distance, m.entry.indicator_id) == ("wide", 20, "w")
    assert [x.bank for x in matcher.lookup("pdq", [at_distance(H0, 5)])[0]] == ["narrow", "wide"]
    assert matcher.lookup("pdq", [at_distance(H0, 32)]) == [[]]
    matcher.set_enabled("wide", False)
    assert matcher.lookup("pdq", [at_distance(H0, 20)]) == [[]]
    matcher.set_enabled("wide", True)
    assert len(matcher.lookup("pdq", [at_distance(H0, 20)])[0]) == 1


def test_added_and_removed_hashes_take_effect_at_once() -> None:
    matcher = Matcher(
        [Bank("b")], index_factory=lambda st: PdqLiveIndex(delta_limit=8, auto_compact="sync")
    )
    rng = np.random.default_rng(0)
    many = words_to_hex(rng.integers(0, 2**64, size=(40, 4), dtype=np.uint64))
    assert matcher.add_entries("b", [Entry(h) for h in many]) == len(many)
    assert matcher.add_entries("b", [Entry(many[0])]) == 0
    assert matcher.lookup("pdq", [many[5]])[0][0].distance == 0
    assert matcher.remove_hashes("b", [many[5], "f" * 64]) == 1
    assert all(m.entry.hash != many[5] for m in matcher.lookup("pdq", [many[5]])[0])
    matcher.compact()
    index = matcher.index("pdq")
    assert isinstance(index, PdqLiveIndex)
    assert index.delta_size == 0 and index.snapshot_size == len(many) - 1  # tombstone folded
    assert len(index) == len(many) - 1
    dropped = matcher.drop_bank("b")
    assert len(dropped) == len(many) - 1
    assert matcher.lookup("pdq", [many[6]]) == [[]]


def test_allow_bank_suppresses_other_matches(make_image: MakeImage, to_bytes: ToBytes) -> None:
    data = to_bytes(make_image(30))
    hashes = hash_content(data, fast=True)
    pdq, md5 = hashes.value("pdq"), hashes.value("md5")
    assert pdq is not None and md5 is not None
    bad, fp = Bank("bad"), Bank("fp", "md5", allow=True)
    matcher = Matcher([bad, fp])
    matcher.add_entries("bad", [Entry(at_distance(pdq, 3), "t1")])
    result = matcher.scan(data)
    assert result.matched and result.matches[0].bank == "bad"
    matcher.add_entries("fp", [Entry(md5, "known-fp")])
    result = matcher.scan(data)
    assert not result.matched and result.matches == ()
    assert [m.bank for m in result.allowed] == ["fp"]
    assert [m.bank for m in result.suppressed] == ["bad"]
    matcher.set_enabled("fp", False)
    assert matcher.scan(data).matched


def test_low_quality_hashes_are_never_matched(to_bytes: ToBytes) -> None:
    data = to_bytes(Image.new("RGB", (64, 64), (10, 200, 30)), "PNG")
    content = hash_content(data)
    pdq = content.hashes["pdq"]
    matcher = Matcher([Bank("b")])
    matcher.add_entries("b", [Entry(pdq.value)])
    assert matcher.lookup("pdq", [pdq.value])[0]  # the raw lookup finds it ...
    result = matcher.match(content)
    assert not result.matched and result.low_quality == ("pdq",)  # ... the rules do not


def test_exact_hash_matches_even_when_the_image_is_corrupt(
    make_image: MakeImage, to_bytes: ToBytes
) -> None:
    data = to_bytes(make_image(31))[:500]
    matcher = Matcher([Bank("sha", "sha256"), Bank("pdq")])
    result = matcher.scan(data)
    assert "pdq" in result.errors and not result.matched
    sha = result.hashes["sha256"].value
    matcher.add_entries("sha", [Entry(sha, "x")])
    result = matcher.scan(data)
    assert [(m.bank, m.distance) for m in result.matches] == [("sha", 0)]


def test_dihedral_variants_match_rotated_copies(make_image: MakeImage, to_bytes: ToBytes) -> None:
    image = make_image(32, (480, 320))
    rotated = hash_content(to_bytes(image.transpose(Image.Transpose.ROTATE_90), "PNG"))
    matcher = Matcher([Bank("b")])
    matcher.add_entries("b", [Entry(str(rotated.value("pdq")), "r90")])
    data = to_bytes(image, "PNG")
    assert not matcher.scan(data).matched
    result = matcher.scan(data, dihedral=True)
    assert result.matched and result.matches[0].variant == "rotate90"
    assert result.matches[0].to_json()["indicator_id"] == "r90"


def test_lookup_normalizes_and_rejects_bad_hashes() -> None:
    matcher = Matcher([Bank("b")])
    matcher.add_entries("b", [Entry(H0)])
    assert matcher.lookup("HASH_PDQ", ["0X" + H0.upper()])[0][0].distance == 0
    with pytest.raises(ValueError):
        matcher.lookup("pdq", ["xyz"])
    with pytest.raises(ValueError, match="already registered"):
        matcher.add_bank(Bank("b"))
    with pytest.raises(KeyError):
        matcher.bank("missing")
    assert PdqSignal.distance(H0, at_distance(H0, 31)) == 31


# ----------------------------------------------------------------------------- stores


def test_csv_directory_store_round_trip(tmp_path: Path) -> None:
    store = CsvDirectoryStore(tmp_path / "banks")
    assert store.names() == [] and store.load_all() == []
    bank = Bank("b1", "md5", distance=0, enabled=False, allow=True)
    bank.add_all([Entry("a" * 32, "1", "2", "t", frozenset({"x"})), Entry("b" * 32)])
    bank.remove("b" * 32)
    store.save(bank)
    store.save(Bank("a0"))
    assert store.names() == ["a0", "b1"]
    loaded = store.load("b1")
    assert (loaded.signal_type, loaded.distance, loaded.enabled, loaded.allow) == (
        "md5",
        0,
        False,
        True,
    )
    assert list(loaded) == list(bank) and loaded.removed == bank.removed
    assert (
        tmp_path / "banks" / "b1.csv"
    ).read_bytes() == b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa,1,2,t,x\r\n"
    assert sorted(p.name for p in (tmp_path / "banks").iterdir()) == [
        "a0.csv",
        "a0.json",
        "b1.csv",
        "b1.json",
    ]
    store.delete("a0")
    assert store.names() == ["b1"]
    with pytest.raises(BankStoreError, match="no bank"):
        store.load("a0")
    with pytest.raises(ValueError, match="invalid bank name"):
        store.load("../etc")


def test_csv_directory_store_reports_damage(tmp_path: Path) -> None:
    store = CsvDirectoryStore(tmp_path)
    store.save(Bank("b"))
    (tmp_path / "b.csv").write_text("not a hash,1\n")
    with pytest.raises(BankStoreError, match=r"b\.csv:1: not a pdq hash"):
        store.load("b")
    (tmp_path / "b.json").write_text("{broken")
    with pytest.raises(BankStoreError, match="cannot read"):
        store.load("b")
    (tmp_path / "b.json").write_text(json.dumps({"signal_type": "nope"}))
    with pytest.raises(BankStoreError, match="cannot read"):
        store.load("b")


def test_memory_store() -> None:
    store = MemoryBankStore()
    store.save(Bank("x"))
    assert store.exists("x") and store.names() == ["x"] and store.load_all()[0].name == "x"
    store.delete("x")
    with pytest.raises(BankStoreError):
        store.delete("x")
