"""HMA/ThreatExchange CSV: exact export, tolerant import, lossless round trip."""

from __future__ import annotations

import io
import string

from hypothesis import given, settings
from hypothesis import strategies as st

from bastion.content import Bank, Entry, export_csv, read_csv, write_csv

P1 = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
P2 = "e64cc9d91c623882f8d1f1d9a398e78c9f199b3bd83924f2b7e11e0bf861b064"
P3 = "6227401f601ff4ccafcc9fad4b0d95d371a2eb7265a3285234d228ca94deeb2d"
M1 = "d41d8cd98f00b204e9800998ecf8427e"


def test_export_is_the_hma_layout() -> None:
    bank = Bank("b", "pdq")
    bank.add(Entry(P1, "101", "9001", "2024-01-02T03:04:05+00:00", frozenset({"z", "a"})))
    bank.add(Entry(P2, 'id,with "quotes"'))
    bank.add(Entry(P3))
    bank.remove(P3)
    assert export_csv(bank) == (
        f'{P1},101,9001,2024-01-02T03:04:05+00:00,a z\r\n{P2},"id,with ""quotes""",,,\r\n'
    )


text = st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), max_size=24).map(
    str.strip
)
tags = st.frozensets(
    st.text(alphabet=string.ascii_letters + string.digits + "-_:.#/", min_size=1, max_size=12),
    max_size=4,
)
entries = st.lists(
    st.builds(
        Entry,
        hash=st.binary(min_size=32, max_size=32).map(bytes.hex),
        indicator_id=text,
        descriptor_id=text,
        timestamp=text,
        tags=tags,
    ),
    max_size=30,
    unique_by=lambda e: e.hash,
)


@settings(max_examples=150, deadline=None)
@given(entries)
def test_round_trip(items: list[Entry]) -> None:
    bank = Bank("b", "pdq")
    bank.add_all(items)
    parsed = read_csv(export_csv(bank), "pdq")
    assert parsed.skipped == [] and parsed.rows == len(items)
    assert parsed.entries == items
    # Writing to a file object gives the same bytes.
    buf = io.StringIO(newline="")
    assert write_csv(bank, buf) == len(items)
    assert buf.getvalue() == export_csv(bank)


def test_import_header_any_order_and_extra_columns() -> None:
    text = (
        "\ufeffLabels;Signal Type;Hash;ID;added_on;note\n"
        f"csam|violence;pdq;{P1.upper()};7;2023-05-01;x\n"
        f"x;md5;{M1};8;;\n"
        f";HASH_PDQ;0x{P2};9;;\n"
        f";photodna;{P3};10;;\n"
    )
    parsed = read_csv(text, "pdq")
    assert [e.hash for e in parsed.entries] == [P1, P2]
    assert parsed.entries[0] == Entry(P1, "7", "", "2023-05-01", frozenset({"csam", "violence"}))
    assert [reason for _, reason in parsed.skipped] == [
        "signal type md5, the bank holds pdq",
        "unknown signal type 'photodna'",
    ]
    assert [line for line, _ in parsed.skipped] == [3, 5]


def test_import_headerless_layouts() -> None:
    text = (
        "# exported by someone\n"
        "\n"
        f"{P1},1,2,2022-01-01,a b\n"  # HMA
        f"pdq,{P2},3\n"  # signal_type,hash,...
        f"55,{P3},66,2021-01-01,c\n"  # ThreatExchange CLI cache: indicator_id,hash,...
        f"{M1},md5 row\n"
        "not-a-hash,nothing\n"
    )
    parsed = read_csv(text, "pdq")
    assert parsed.entries == [
        Entry(P1, "1", "2", "2022-01-01", frozenset({"a", "b"})),
        Entry(P2, "3"),
        Entry(P3, "55", "66", "2021-01-01", frozenset({"c"})),
    ]
    reasons = dict(parsed.skipped)
    assert reasons[6] == f"md5 hash '{M1}' in a pdq bank"
    assert reasons[7] == "not a pdq hash: 'not-a-hash'"
    assert parsed.rows == 5


def test_import_threatexchange_file_format_and_bare_hashes() -> None:
    assert [e.hash for e in read_csv(f"pdq {P1}\npdq {P2}\n", "pdq").entries] == [P1, P2]
    assert [e.hash for e in read_csv(f"{P1}\n{P2}\r\n\n", "pdq").entries] == [P1, P2]
    parsed = read_csv(f"md5 {M1}\npdq {P1}\n", "md5")
    assert [e.hash for e in parsed.entries] == [M1]
    assert parsed.skipped == [(2, "signal type pdq, the bank holds md5")]
    tabbed = read_csv(f"{P1}\t5\t\t\tx y\n", "pdq")
    assert tabbed.entries == [Entry(P1, "5", tags=frozenset({"x", "y"}))]


def test_import_survives_hostile_input() -> None:
    junk = '\x00\x01,"unterminated\n' + f"{P1},ok\x07id,,,t\x00ag\n" + "," * 5000 + "\n"
    parsed = read_csv(junk, "pdq")
    assert [e.hash for e in parsed.entries] == [P1]
    assert parsed.entries[0].indicator_id == "ok id"
    assert read_csv("", "pdq").entries == []


def test_duplicates_merge_tags_in_the_bank() -> None:
    bank = Bank("b", "pdq")
    parsed = read_csv(f"{P1},1,,,a\n{P1.upper()},2,,,b\n", "pdq")
    assert len(bank.add_all(parsed.entries)) == 1
    assert bank.get(P1) == Entry(P1, "1", tags=frozenset({"a", "b"}))
