from collections.abc import Sequence

class Engine:
    def __init__(
        self,
        bits: int,
        keywords: dict[int, str],
        hidden: int = 0,
        emb: object = None,
        b1: object = None,
        w2: object = None,
        b2: object = None,
        *,
        half: bool = True,
    ) -> None: ...
    @property
    def half(self) -> bool: ...
    def features(self, text: str, kind_code: int, /) -> bytes: ...
    def logits(self, texts: list[str], kinds: bytes, /) -> bytes: ...

class Pipeline:
    def __init__(
        self,
        engine: Engine,
        tables: dict[str, object],
        *,
        text_budget: int,
        cache_max_value: int,
        cache_size: int,
        window_chars: int,
        window_step: int,
        normalize_max_chars: int,
        normalize_max_depth: int,
    ) -> None: ...
    def score(
        self, requests: Sequence[object], explain: bool = False
    ) -> tuple[bytes, bytes, int, list[tuple[tuple[str, str, int] | None, ...]] | None]: ...
    def extract(self, request: object, /) -> tuple[list[tuple[str, str, str]], bool, bool]: ...

class Grammar:
    def __init__(self, pattern: object) -> None: ...
    @property
    def states(self) -> int: ...
    def fullmatch(self, value: str, /) -> bool: ...

def normalize(value: str, max_chars: int = 8192, max_depth: int = 4) -> str: ...
def normalize_simple(value: str, max_chars: int, /) -> str | None: ...
def is_plain_raw(value: str, kind_code: str, /) -> bool: ...
def is_inert(text: str, kind_code: str, /) -> bool: ...
