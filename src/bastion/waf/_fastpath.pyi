from collections.abc import Buffer

class Engine:
    def __init__(
        self,
        bits: int,
        keywords: dict[int, str],
        hidden: int = 0,
        emb: Buffer | None = None,
        b1: Buffer | None = None,
        w2: Buffer | None = None,
        b2: Buffer | None = None,
    ) -> None: ...
    def features(self, text: str, kind_code: int, /) -> bytes: ...
    def logits(self, texts: list[str], kinds: bytes, /) -> bytes: ...
