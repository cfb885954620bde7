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

def normalize(value: str, max_chars: int = 8192, max_depth: int = 4) -> str: ...
def normalize_simple(value: str, max_chars: int, /) -> str | None: ...
