"""Canonical text of an expression tree; parsing it gives the same tree back."""

from __future__ import annotations

from bastion.rules.syntax import And, Compare, Const, Expr, Field, InSet, Not, Operand, Or


def format_expression(node: Expr) -> str:
    """The expression as text, with parentheses only where the tree needs them."""
    if isinstance(node, Const):
        return "true" if node.value else "false"
    if isinstance(node, Compare):
        return f"{_operand(node.left)} {node.op} {_operand(node.right)}"
    if isinstance(node, InSet):
        op = "not in" if node.negated else "in"
        values = ", ".join(_literal(v) for v in node.values)
        return f"{_operand(node.operand)} {op} {{{values}}}"
    if isinstance(node, Not):
        inner = format_expression(node.operand)
        return f"not ({inner})" if isinstance(node.operand, And | Or) else f"not {inner}"
    # And binds tighter than or; a nested node of the same kind was parenthesized as written.
    if isinstance(node, And):
        return " and ".join(_group(item, isinstance(item, And | Or)) for item in node.items)
    return " or ".join(_group(item, isinstance(item, Or)) for item in node.items)


def _group(node: Expr, parens: bool) -> str:
    text = format_expression(node)
    return f"({text})" if parens else text


def _operand(node: Operand) -> str:
    return node.name if isinstance(node, Field) else _literal(node.value)


def _literal(value: int | str) -> str:
    if isinstance(value, int):
        return str(value)
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
