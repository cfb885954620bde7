"""Hashed features of one normalized input text (pure-Python reference).

The scorer uses the C accelerator ``bastion.waf._fastpath``, which implements exactly
this algorithm; tests compare the two on random text. Three families of features,
each hashed into ``2**bits`` buckets:

* character 1-5-grams over ``STX kind text ETX`` with ASCII digits folded to ``0``;
* 2-5-grams over the *shape* of the text: each word becomes its keyword class
  (``K`` SQL, ``C`` shell command, ``T`` HTML tag, ``E`` event handler, ``J`` JS sink,
  ``a`` any other word), digit runs ``0``, blank runs one space, punctuation itself,
  non-ASCII runs ``u``;
* word unigrams and token (word, number, punctuation) bigrams and trigrams.
"""

from __future__ import annotations

from collections.abc import Iterable

FNV_OFFSET = 2166136261
FNV_PRIME = 16777619
MASK32 = 0xFFFFFFFF

SEED_CHAR = 0x1B873593
SEED_SHAPE = 0x5BD1E995
SEED_WORD = 0x27D4EB2F
SEED_TOKEN = 0x165667B1

CHAR_MAX_N = 5
SHAPE_MIN_N = 2
SHAPE_MAX_N = 5

KIND_CHARS = {"path": "p", "value": "v", "header": "h", "raw": "r"}
STX = 0x02
ETX = 0x03

#: Window of normalized text fed to the model at once, and the step between windows.
WINDOW_CHARS = 256
WINDOW_STEP = 192

_KEYWORD_CLASSES: dict[str, str] = {}
for _cls, _words in {
    "K": """select union insert update delete drop alter create truncate exec execute
        declare cast convert from where having group order limit offset into values table
        tables database databases schema information_schema sleep benchmark waitfor delay
        pg_sleep or and not xor like rlike regexp null is between case when then else end
        if ifnull char chr concat concat_ws substring substr mid ascii ord hex unhex
        extractvalue updatexml load_file outfile dumpfile version user current_user
        system_user session_user column columns all distinct procedure xp_cmdshell
        sysobjects syscolumns pg_catalog sqlite_master dbms_pipe utl_inaddr dual count
        group_concat char_length length rownum top nchar varchar sys""",
    "C": """cat ls id whoami uname wget curl nc ncat netcat bash sh zsh ksh dash csh
        python python3 perl ruby php ping nslookup dig echo printf chmod chown rm mv cp
        touch head tail more less grep awk sed base64 xxd env export kill ps netstat
        ifconfig ipconfig passwd shadow etc bin usr tmp dev tcp busybox telnet ssh scp
        powershell pwsh cmd type dir net certutil bitsadmin wmic reg systeminfo tasklist
        nohup crontab sudo su find xargs timeout sort tee nmap mkfifo socat exe""",
    "T": """script img svg iframe body frame frameset object embed applet video audio
        source input button form textarea select details marquee math style link meta
        base isindex keygen xmp plaintext noscript template animate set image xss""",
    "E": """onerror onload onclick onmouseover onmouseout onfocus onblur onchange onsubmit
        oninput onkeydown onkeyup onkeypress ontoggle onbegin onend onanimationstart
        onanimationend ontransitionend onpointerenter onpointerover onpointerdown
        onmouseenter onmousedown onmouseup onmousemove onwheel onscroll onresize
        onstart onfinish onplay onpause onbeforeunload onunload onhashchange onmessage
        onpageshow onpopstate onsearch onselect oncopy onpaste oncut ondrag ondrop
        onauxclick oncontextmenu ondblclick onfocusin onfocusout oninvalid onreset
        onloadstart onprogress onerrorupdate onreadystatechange formaction srcdoc""",
    "J": """alert prompt confirm eval document cookie window location javascript
        vbscript fromcharcode atob btoa constructor function settimeout setinterval
        innerhtml outerhtml write writeln fetch xmlhttprequest import top self parent
        opener frames globalthis this print domain localstorage sessionstorage""",
}.items():
    for _w in _words.split():
        _KEYWORD_CLASSES.setdefault(_w, _cls)


def _fnv(seed: int, codes: Iterable[int]) -> int:
    h = FNV_OFFSET ^ seed
    for c in codes:
        h = ((h ^ c) * FNV_PRIME) & MASK32
    return h


def mix32(h: int) -> int:
    """Final avalanche of a 32-bit hash (lowbias32)."""
    h ^= h >> 16
    h = (h * 0x7FEB352D) & MASK32
    h ^= h >> 15
    h = (h * 0x846CA68B) & MASK32
    h ^= h >> 16
    return h


def _combine(a: int, b: int) -> int:
    return (((a * 0x9E3779B1) & MASK32) ^ b) * FNV_PRIME & MASK32


def _fold_digit(c: int) -> int:
    return 0x30 if 0x30 <= c <= 0x39 else c


def word_hash(word: str) -> int:
    """Hash of a word (digits folded), the key of the keyword table."""
    return _fnv(SEED_WORD, (_fold_digit(ord(ch)) for ch in word))


#: Keyword table as the C accelerator receives it: word hash -> class character.
KEYWORD_TABLE: dict[int, str] = {word_hash(w): c for w, c in _KEYWORD_CLASSES.items()}


def _is_word_start(c: int) -> bool:
    return 0x61 <= c <= 0x7A or 0x41 <= c <= 0x5A or c == 0x5F


def _is_word_char(c: int) -> bool:
    return _is_word_start(c) or 0x30 <= c <= 0x39


def featurize(text: str, kind: str, bits: int) -> list[int]:
    """Distinct bucket ids of one window of normalized text, in first-occurrence order."""
    mask = (1 << bits) - 1
    out: list[int] = []
    kind_code = ord(KIND_CHARS.get(kind, "v"))
    codes = [ord(ch) for ch in text]

    chars = [STX, kind_code, *(_fold_digit(c) for c in codes), ETX]
    n_chars = len(chars)
    for i in range(n_chars):
        h = FNV_OFFSET ^ SEED_CHAR
        for j in range(i, min(i + CHAR_MAX_N, n_chars)):
            h = ((h ^ chars[j]) * FNV_PRIME) & MASK32
            out.append(mix32(h) & mask)

    shape: list[int] = [STX, kind_code]
    tokens: list[int] = []
    i = 0
    n = len(codes)
    while i < n:
        c = codes[i]
        if _is_word_start(c):
            j = i
            h = FNV_OFFSET ^ SEED_WORD
            while j < n and _is_word_char(codes[j]):
                h = ((h ^ _fold_digit(codes[j])) * FNV_PRIME) & MASK32
                j += 1
            cls = KEYWORD_TABLE.get(h)
            shape.append(ord(cls) if cls is not None else 0x61)
            tokens.append(h)
            out.append(mix32(h ^ SEED_TOKEN) & mask)
            i = j
        elif 0x30 <= c <= 0x39:
            while i < n and 0x30 <= codes[i] <= 0x39:
                i += 1
            shape.append(0x30)
            tokens.append(0x30)
        elif c in (0x20, 0x09):
            while i < n and codes[i] in (0x20, 0x09):
                i += 1
            shape.append(0x20)
        elif c > 0x7F:
            while i < n and codes[i] > 0x7F:
                i += 1
            shape.append(0x75)
            tokens.append(0x75)
        else:
            shape.append(c)
            tokens.append(c)
            i += 1
    shape.append(ETX)

    n_shape = len(shape)
    for i in range(n_shape):
        h = FNV_OFFSET ^ SEED_SHAPE
        for j in range(i, min(i + SHAPE_MAX_N, n_shape)):
            h = ((h ^ shape[j]) * FNV_PRIME) & MASK32
            if j - i + 1 >= SHAPE_MIN_N:
                out.append(mix32(h) & mask)

    for i in range(len(tokens) - 1):
        h2 = _combine(tokens[i] ^ SEED_TOKEN, tokens[i + 1])
        out.append(mix32(h2) & mask)
        if i + 2 < len(tokens):
            out.append(mix32(_combine(h2, tokens[i + 2])) & mask)
    # Each bucket once, in first-occurrence order: with sum pooling a window of one
    # repeated pattern would otherwise weigh sqrt(repeats) times the pattern seen once.
    return list(dict.fromkeys(out))


def windows(text: str) -> list[tuple[int, str]]:
    """Split normalized text into overlapping model windows: (start offset, text)."""
    if len(text) <= WINDOW_CHARS:
        return [(0, text)]
    out = []
    start = 0
    while True:
        out.append((start, text[start : start + WINDOW_CHARS]))
        if start + WINDOW_CHARS >= len(text):
            break
        start += WINDOW_STEP
    return out
