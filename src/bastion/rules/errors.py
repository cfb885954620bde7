"""The one error type of the rules engine, with the position of the problem."""

from __future__ import annotations


class RuleError(ValueError):
    """A rule that cannot be compiled.

    ``rule_id`` and ``index`` (1-based position in the rule list) name the rule when the
    error came from :func:`~bastion.rules.compile_rules`; ``line`` and ``column`` (1-based,
    within the expression) locate the problem when it is in the expression; ``expected``
    says what the parser wanted there, when that is known. ``reason`` is the message
    without the location prefix.
    """

    def __init__(
        self,
        reason: str,
        *,
        rule_id: str | None = None,
        index: int | None = None,
        line: int | None = None,
        column: int | None = None,
        expected: str | None = None,
    ) -> None:
        self.reason = reason
        self.rule_id = rule_id
        self.index = index
        self.line = line
        self.column = column
        self.expected = expected
        super().__init__(self._message())

    def _message(self) -> str:
        parts: list[str] = []
        if self.rule_id is not None:
            where = f"rule {self.rule_id!r}"
            if self.index is not None:
                where += f" (#{self.index})"
            parts.append(where)
        elif self.index is not None:
            parts.append(f"rule #{self.index}")
        if self.line is not None and self.column is not None:
            parts.append(f"line {self.line}, column {self.column}")
        prefix = ", ".join(parts)
        return f"{prefix}: {self.reason}" if prefix else self.reason

    def for_rule(self, rule_id: str | None, index: int) -> RuleError:
        """The same error, attributed to a rule of a rule list."""
        return RuleError(
            self.reason,
            rule_id=rule_id,
            index=index,
            line=self.line,
            column=self.column,
            expected=self.expected,
        )

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only attributes survive pickling (e.g. across worker processes).
        return (
            _rebuild,
            (self.reason, self.rule_id, self.index, self.line, self.column, self.expected),
        )


def _rebuild(
    reason: str,
    rule_id: str | None,
    index: int | None,
    line: int | None,
    column: int | None,
    expected: str | None,
) -> RuleError:
    return RuleError(
        reason, rule_id=rule_id, index=index, line=line, column=column, expected=expected
    )
