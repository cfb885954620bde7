"""Source preparation: HTML extraction, encodings, binary and oversized inputs."""

from __future__ import annotations

import pytest

from bastion.scripts import source
from bastion.scripts.source import SourceError, extract_html_scripts, is_html, prepare


def test_plain_script_passes_through() -> None:
    src = prepare(b"var a = 1;")
    assert src.chunks == (b"var a = 1;",)
    assert src.container == "js" and not src.truncated


def test_html_scripts_handlers_and_external_sources_are_extracted() -> None:
    page = (
        b"<!DOCTYPE html><html><head>"
        b'<script src="https://cdn.example/lib.js?a=1&amp;b=2"></script>'
        b'<script type="text/template"><div>{{ not js }}</div></script>'
        b'</head><body onload="init(&quot;x&quot;)">'
        b"<script>\n<!--\nvar inline = 1;\n//--></script>"
        b'<a href="javascript:go(1)">x</a></body></html>'
    )
    assert is_html(page)
    js = extract_html_scripts(page).decode()
    assert 'document.createElement("script").src = "https://cdn.example/lib.js?a=1&b=2";' in js
    assert "var inline = 1;" in js
    assert 'init("x");' in js
    assert "go(1);" in js
    assert "not js" not in js


def test_unterminated_script_tag_is_still_read() -> None:
    assert b"tail()" in extract_html_scripts(b"<html><script>tail()")


def test_javascript_is_not_mistaken_for_html() -> None:
    assert not is_html(b"var s = '<script>';")
    assert not is_html(b"if (a < b) { x(); }")


def test_utf8_bom_and_utf16_are_converted() -> None:
    assert prepare(b"\xef\xbb\xbfvar a;").chunks == (b"var a;",)
    assert prepare("var é;".encode("utf-16")).chunks == ("var é;".encode(),)


def test_binary_is_refused() -> None:
    with pytest.raises(SourceError, match="binary"):
        prepare(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 8)


def test_oversized_file_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(source, "MAX_FILE_BYTES", 1000)
    with pytest.raises(SourceError, match="larger"):
        prepare(b"x" * 1001)


def test_large_file_keeps_head_and_tail() -> None:
    data = (
        b"var head = 1;\n"
        + b"a = 1;\n" * ((source.HEAD_BYTES + source.TAIL_BYTES) // 7)
        + b"var tail = 2;\n"
    )
    src = prepare(data)
    assert src.truncated
    assert src.chunks[0].startswith(b"var head") and src.chunks[1].endswith(b"var tail = 2;\n")
    assert src.nbytes == source.HEAD_BYTES + source.TAIL_BYTES
