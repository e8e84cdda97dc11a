"""Expressions in the mapping file (`amount: {expr: "Quantity * UnitPrice"}`), parsed safely.

The text is parsed by sqlglot (DuckDB's dialect) into a tree, and only a short list of node kinds is accepted: column
references to the export's own columns, literals, arithmetic, comparisons, boolean operators, CASE, COALESCE, NULLIF,
CAST to a number or text, and the functions in `FUNCTIONS`; `sum`, `min` and `max` around the whole expression with
the table's `group_by`. Each node's arguments are checked against those it may have (`NOT LIKE`'s `negate` is
accepted, `LIKE ... ESCAPE` is not). The accepted tree is then translated node by node into an Ibis expression:
the text is never handed to an engine as SQL, so nothing outside the list (subqueries, table functions such as
`read_csv`, a second statement after `;`, comments) can run. Anything else is refused with the offending part.

Text columns used as numbers (`Quantity * UnitPrice` over a CSV, where every value is text) are converted; a value
that is not a number makes its row set aside with the column and the value, as the `column:` form does.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir
import sqlglot
from sqlglot import exp

from cxbench.adapters.base import quoted, text

#: The functions an expression may call, named in messages (each is a node kind in `_ALLOWED`).
FUNCTIONS = ("lower", "upper", "trim", "substr", "concat", "abs", "round", "nullif", "coalesce", "cast")
AGGREGATES = {exp.Sum: "sum", exp.Min: "min", exp.Max: "max"}
MAX_LENGTH = 2000
MAX_DEPTH = 64
#: The size of the expression as the engine expands it (`_size`): DuckDB writes NULLIF(x, 0) (x / 0 is null) as
#: CASE WHEN x = 0 THEN NULL ELSE x END, so each nested division doubles it; 20 nested took minutes and gigabytes.
MAX_SIZE = 2000
#: Round brackets nested deeper than this are refused before parsing.
MAX_BRACKETS = 32

# Node kind -> the arguments it may carry (sqlglot's names). A node with any other argument set is refused.
_BINARY = {"this", "expression"}
_ALLOWED: dict[type[exp.Expression], set[str]] = {
    exp.Column: {"this"}, exp.Identifier: {"this", "quoted"}, exp.Literal: {"this", "is_string"},
    exp.Null: set(), exp.Boolean: {"this"}, exp.Paren: {"this"}, exp.Neg: {"this"}, exp.Not: {"this"},
    exp.Add: _BINARY, exp.Sub: _BINARY, exp.Mul: _BINARY, exp.Div: _BINARY | {"typed", "safe"}, exp.Mod: _BINARY,
    exp.EQ: _BINARY, exp.NEQ: _BINARY, exp.GT: _BINARY, exp.GTE: _BINARY, exp.LT: _BINARY, exp.LTE: _BINARY,
    exp.And: _BINARY, exp.Or: _BINARY, exp.Is: _BINARY, exp.Like: _BINARY | {"negate"},
    exp.In: {"this", "expressions"}, exp.Between: {"this", "low", "high"},
    exp.Case: {"this", "ifs", "default"}, exp.If: {"this", "true", "false"},
    exp.Coalesce: {"this", "expressions"}, exp.Nullif: _BINARY, exp.Lower: {"this"}, exp.Upper: {"this"},
    exp.Trim: {"this"}, exp.Substring: {"this", "start", "length"}, exp.Concat: {"expressions", "safe", "coalesce"},
    exp.DPipe: _BINARY | {"safe"}, exp.Abs: {"this"}, exp.Round: {"this", "decimals"}, exp.Cast: {"this", "to"},
    exp.DataType: {"this", "expressions", "nested"}, exp.DataTypeParam: {"this"},
}
_NUMBER_TYPES = exp.DataType.NUMERIC_TYPES
#: Columns cxbench adds while deriving a table (`_m1`..., `_fields`, `_aside`): not the export's, not for expressions.
_INTERNAL = re.compile(r"_m\d+|_fields|_aside")
_TEXT_TYPES = exp.DataType.TEXT_TYPES


class ExpressionError(ValueError):
    """An expression refused: the message names the offending part."""


@dataclass(frozen=True, eq=False)
class Expression:
    """A mapping expression, checked: its tree (without the aggregate around it) and the source columns it reads."""

    source: str
    tree: exp.Expression
    aggregate: str | None  # sum, min or max: written around the whole expression (with group_by)
    columns: tuple[str, ...]  # the source columns it reads, lower-cased


def _part(node: exp.Expression) -> str:
    try:
        shown = node.sql(dialect="duckdb")
    except Exception:  # noqa: BLE001 - only for the message
        shown = type(node).__name__
    return shown if len(shown) <= 60 else shown[:57] + "..."


def _bracket_depth(source: str) -> int:
    """The deepest nesting of round brackets outside quoted text."""
    depth = deepest = 0
    quote = None
    for char in source:
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif char == ")":
            depth -= 1
    return deepest


def parse_expression(source: str) -> Expression:
    """The expression `source` checked against the allowed node kinds; ExpressionError naming the offending part."""
    if not isinstance(source, str) or not source.strip():
        raise ExpressionError("write the expression as text, e.g. \"Quantity * UnitPrice\"")
    if len(source) > MAX_LENGTH:
        raise ExpressionError(f"longer than {MAX_LENGTH} characters")
    if _bracket_depth(source) > MAX_BRACKETS:
        # sqlglot parses recursively: deep brackets would exhaust Python's stack (at a depth that depends on the
        # process), so they are refused before parsing, always with the same words.
        raise ExpressionError(f"brackets nested more than {MAX_BRACKETS} deep")
    try:
        statements = sqlglot.parse(source, read="duckdb")
    except RecursionError as exc:
        raise ExpressionError("nested too deeply to read; simplify the expression") from exc
    except (sqlglot.errors.SqlglotError, ValueError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ExpressionError(f"cannot be read ({first[:160]})") from exc
    statements = [s for s in statements if s is not None]
    if len(statements) != 1:
        raise ExpressionError("one expression only: `;` (a second statement) is not allowed")
    tree = statements[0]
    aggregate = AGGREGATES.get(type(tree))
    if aggregate is not None:
        if set(_set_args(tree)) != {"this"}:
            raise ExpressionError(f"{_part(tree)}: {aggregate}(...) takes one expression")
        tree = tree.this
    columns: list[str] = []
    for node in tree.walk():
        if node.depth > MAX_DEPTH:
            raise ExpressionError(f"nested more than {MAX_DEPTH} levels deep")
        if node.comments:
            raise ExpressionError("comments (-- or /* */) are not allowed")
        kind = type(node)
        if kind in AGGREGATES:
            raise ExpressionError(f"{_part(node)}: {AGGREGATES[kind]}(...) only around the whole expression, with "
                                  "the table's group_by")
        if kind not in _ALLOWED:
            raise ExpressionError(f"{_part(node)} is not allowed ({_what(node)}); expressions may use columns, "
                                  "literals, + - * / %, comparisons, AND/OR/NOT, CASE, LIKE, IN, BETWEEN, IS NULL and "
                                  + ", ".join(FUNCTIONS))
        if isinstance(node, exp.Column):
            if node.table or node.args.get("db") or node.args.get("catalog") or not isinstance(node.this,
                                                                                               exp.Identifier):
                raise ExpressionError(f"{_part(node)}: a table or schema reference is not allowed; name the "
                                      "export's column alone")
            columns.append(node.name.lower())
        extra = set(_set_args(node)) - _ALLOWED[kind]
        if extra:
            raise ExpressionError(f"{_part(node)}: {', '.join(sorted(extra))} is not allowed here")
        if isinstance(node, exp.Cast) and not _cast_kind(node):
            raise ExpressionError(f"{_part(node)}: cast to a number (double, decimal, integer) or to text only")
    if _size(tree) > MAX_SIZE:
        raise ExpressionError("too deeply nested for the engine (each nested /, %, nullif, CASE x WHEN, substr or cast "
                              "doubles what it computes): write it with fewer nested levels")
    return Expression(source, tree, aggregate, tuple(dict.fromkeys(columns)))


def _size(node: exp.Expression) -> int:
    """How large the engine's expression grows: an argument the engine writes twice counts twice (the denominator of
    / and %, nullif's first argument, CASE x's subject once per WHEN, substr's and a cast's argument, which the
    conversions between text and numbers name twice)."""
    children = [c for c in node.iter_expressions()]
    total = 1 + sum(_size(c) for c in children)
    if isinstance(node, (exp.Div, exp.Mod)):
        total += _size(node.expression)
    elif isinstance(node, exp.Nullif | exp.Substring | exp.Cast | exp.Between):
        total += _size(node.this)
    elif isinstance(node, exp.Case) and node.this is not None:
        total += _size(node.this) * len(node.args.get("ifs") or [])
    return min(total, MAX_SIZE + 1)


def _set_args(node: exp.Expression) -> list[str]:
    return [k for k, v in node.args.items() if v is not None and v != [] and v is not False]


def _what(node: exp.Expression) -> str:
    if isinstance(node, exp.Anonymous):
        return f"the function {node.name} is not one cxbench knows"
    if isinstance(node, exp.Func):
        return f"the function {type(node).__name__.lower()} is not on the list"
    if isinstance(node, (exp.Select, exp.Subquery, exp.Query)):
        return "a query"
    if isinstance(node, (exp.Table, exp.Star)):
        return "a table reference"
    if isinstance(node, exp.Placeholder):
        return "a parameter"
    return type(node).__name__


def _cast_kind(node: exp.Cast) -> str | None:
    to = node.to.this
    if to in _NUMBER_TYPES:
        return "number"
    if to in _TEXT_TYPES:
        return "text"
    return None


def clean_number_text(raw: ir.StringValue, *, currency_symbol: bool = False,
                      decimal_comma: bool = False) -> ir.StringValue:
    """Text of a number as exports write it: `£1,690.00` (currency_symbol), `1.234,50` (decimal_comma)."""
    out = raw
    if currency_symbol:
        # A minus sign written as U+2212 (Nordic spreadsheets) or an amount in parentheses (accounting format,
        # `(£12.50)`) is negative: dropping them with the symbols made a refund a sale.
        out = out.replace("\u2212", "-")
        out = ibis.cases((out.re_search(r"^\s*[^0-9]*\(.*\)[^0-9]*\s*$"), "-" + out), else_=out)
        out = out.re_replace(r"[^0-9.,+\-eE]", "").re_replace(r"^[eE]+|[eE]+$", "")
    if decimal_comma:
        out = out.re_replace(r"[.\s']", "").replace(",", ".")
    elif currency_symbol:
        out = out.replace(",", "")
    return out


class _Translator:
    """The checked tree as an Ibis expression over `table`, and the (bad value, why) checks of its conversions."""

    def __init__(self, table: ir.Table, *, currency_symbol: bool, decimal_comma: bool,
                 keep: Callable[[ir.Value], ir.Value] | None = None) -> None:
        self.table = table
        self.currency_symbol = currency_symbol
        self.decimal_comma = decimal_comma
        self.keep = keep
        self._guard: ir.BooleanValue | None = None  # where the value being translated is used (a CASE branch)
        self.checks: list[tuple[ir.BooleanValue, ir.Value]] = []
        # Each node translated once (a comparison looks at its sides' types, then converts them).
        self._values: dict[int, Any] = {}
        self._numbers: dict[int, ir.NumericValue] = {}

    def _kept(self, node: exp.Expression, value: Any) -> Any:
        """The value as a column of its own (`keep`) when it is computed: a parent then names the column, not the
        whole computation, so the SQL grows with the expression's length, not exponentially with its depth (Ibis
        writes some operations, SUBSTRING, a text check, with their argument twice)."""
        if self.keep is None or isinstance(node, (exp.Column, exp.Literal, exp.Null, exp.Boolean, exp.Paren)):
            return value
        return self.keep(value)

    def value(self, node: exp.Expression) -> Any:
        if id(node) not in self._values:
            self._values[id(node)] = self._kept(node, self._value(node))
        return self._values[id(node)]

    def number(self, node: exp.Expression) -> ir.NumericValue:
        if id(node) not in self._numbers:
            value = self._number(node)
            self._numbers[id(node)] = value if value is self.value(node) else self._kept(node, value)
        return self._numbers[id(node)]

    def _number(self, node: exp.Expression) -> ir.NumericValue:
        value = self.value(node)
        dtype = value.type()
        if dtype.is_numeric():
            return value if dtype.is_float64() else value.cast("float64")
        if dtype.is_boolean():
            raise ExpressionError(f"{_part(node)}: a condition where a number is expected")
        raw = text(value)
        converted = clean_number_text(raw, currency_symbol=self.currency_symbol,
                                      decimal_comma=self.decimal_comma).try_cast("float64")
        self._check(raw.notnull() & converted.isnull(),
                    ibis.literal(_part(node) + " ") + quoted(raw) + " is not a number (check currency_symbol, "
                    "decimal_comma)")
        return converted

    def _check(self, bad: ir.BooleanValue, why: ir.Value) -> None:
        """A row whose value cannot be converted is set aside, when the value is used: not in a CASE branch the row
        does not take (`case when price = 'free' then 0 else price * qty end` keeps the free rows)."""
        self.checks.append((bad if self._guard is None else self._guard & bad, why))

    def _under(self, guard: ir.BooleanValue | None, compute: Callable[[], Any]) -> Any:
        """`compute()` with its conversion checks holding only where `guard` holds (a CASE branch taken)."""
        outer = self._guard
        if guard is not None:
            self._guard = guard if outer is None else outer & guard
        try:
            return compute()
        finally:
            self._guard = outer

    def string(self, node: exp.Expression) -> ir.StringValue:
        value = self.value(node)
        return value if value.type().is_string() else text(value)

    def condition(self, node: exp.Expression) -> ir.BooleanValue:
        value = self.value(node)
        if not value.type().is_boolean():
            raise ExpressionError(f"{_part(node)}: a condition is expected here (a comparison such as x = 'a')")
        return value

    def _pair(self, a: exp.Expression, b: exp.Expression) -> tuple[ir.Value, ir.Value]:
        """Both sides of a comparison: as numbers when either is a number, else as text."""
        left, right = self.value(a), self.value(b)
        if left.type().is_numeric() or right.type().is_numeric():
            return self.number(a), self.number(b)
        if left.type().is_boolean() and right.type().is_boolean():
            return left, right
        return self.string(a), self.string(b)

    def _value(self, node: exp.Expression) -> Any:  # noqa: C901, PLR0911, PLR0912 - one branch per node kind
        if isinstance(node, exp.Paren):
            return self.value(node.this)
        if isinstance(node, exp.Column):
            name = node.name.lower()
            if name not in self.table.columns or _INTERNAL.fullmatch(name):
                found = ", ".join(c for c in self.table.columns if not c.startswith("_"))
                raise ExpressionError(f"column {node.name!r} is not in the export (columns found: {found})")
            column = self.table[name]
            return text(column) if column.type().is_string() else column
        if isinstance(node, exp.Literal):
            if node.is_string:
                return ibis.literal(node.this, type="string")
            number = float(node.this)
            whole = number.is_integer() and "." not in node.this and "e" not in node.this.lower()
            # A whole number beyond 64 bits is written as a float (Ibis has no type for it).
            return ibis.literal(int(number) if whole and abs(number) < 2 ** 63 else number)
        if isinstance(node, exp.Null):
            return ibis.null("string")
        if isinstance(node, exp.Boolean):
            return ibis.literal(bool(node.this))
        if isinstance(node, exp.Neg):
            return -self.number(node.this)
        arithmetic = {exp.Add: lambda a, b: a + b, exp.Sub: lambda a, b: a - b, exp.Mul: lambda a, b: a * b}
        if type(node) in arithmetic:
            return arithmetic[type(node)](self.number(node.this), self.number(node.expression))
        if isinstance(node, (exp.Div, exp.Mod)):  # x / 0 and x % 0 are null, never Infinity or NaN
            # NULLIF names the denominator once: a CASE naming it twice doubled the SQL at each nested division.
            safe = self.number(node.expression).nullif(0)
            numerator = self.number(node.this)
            return numerator / safe if isinstance(node, exp.Div) else numerator % safe
        comparisons = {exp.EQ: lambda a, b: a == b, exp.NEQ: lambda a, b: a != b, exp.GT: lambda a, b: a > b,
                       exp.GTE: lambda a, b: a >= b, exp.LT: lambda a, b: a < b, exp.LTE: lambda a, b: a <= b}
        if type(node) in comparisons:
            return comparisons[type(node)](*self._pair(node.this, node.expression))
        if isinstance(node, exp.And):
            return self.condition(node.this) & self.condition(node.expression)
        if isinstance(node, exp.Or):
            return self.condition(node.this) | self.condition(node.expression)
        if isinstance(node, exp.Not):
            return ~self.condition(node.this)
        if isinstance(node, exp.Is):
            if not isinstance(node.expression, exp.Null):
                raise ExpressionError(f"{_part(node)}: IS takes NULL only (x IS NULL, x IS NOT NULL)")
            return self.value(node.this).isnull()
        if isinstance(node, exp.Like):
            if not (isinstance(node.expression, exp.Literal) and node.expression.is_string):
                raise ExpressionError(f"{_part(node)}: LIKE takes a quoted pattern ('C%')")
            matched = self.string(node.this).like(node.expression.this)
            return ~matched if node.args.get("negate") else matched
        if isinstance(node, exp.In):
            literals = [_literal(e) for e in node.expressions]
            if any(v is None for v in literals):
                raise ExpressionError(f"{_part(node)}: IN takes a list of literals ('a', 'b' or 1, -2)")
            if all(isinstance(v, str) for v in literals):
                return self.string(node.this).isin(literals)
            if all(isinstance(v, float) for v in literals):
                return self.number(node.this).isin(literals)
            raise ExpressionError(f"{_part(node)}: IN takes texts ('a', 'b') or numbers (1, -2), not both")
        if isinstance(node, exp.Between):
            value, low, high = self.number(node.this), self.number(node.args["low"]), self.number(node.args["high"])
            return value.between(low, high)
        if isinstance(node, exp.Case):  # CASE WHEN c THEN v ... ELSE d END, and CASE x WHEN a THEN v ... END
            ifs = node.args.get("ifs") or []
            if node.this is not None:  # the subject named once (CASE x WHEN ...), not once per WHEN
                keys = [branch.this for branch in ifs]
                if any(self.value(k).type().is_numeric() for k in (node.this, *keys)):
                    subject, values = self.number(node.this), [self.number(k) for k in keys]
                else:
                    subject, values = self.string(node.this), [self.string(k) for k in keys]
                return self._cases([(v, b.args["true"]) for v, b in zip(values, ifs, strict=True)],
                                   node.args.get("default"), subject=subject)
            branches = [(self.condition(branch.this), branch.args["true"]) for branch in ifs]
            return self._cases(branches, node.args.get("default"))
        if isinstance(node, exp.If):
            return self._cases([(self.condition(node.this), node.args["true"])], node.args.get("false"))
        if isinstance(node, exp.Coalesce):
            parts = [node.this, *node.expressions]
            values = [self.value(p) for p in parts]
            if any(v.type().is_numeric() for v in values):
                return ibis.coalesce(*(self.number(p) for p in parts))
            return ibis.coalesce(*(self.string(p) for p in parts))
        if isinstance(node, exp.Nullif):
            left, right = self._pair(node.this, node.expression)
            return left.nullif(right)
        if isinstance(node, exp.Lower):
            return self.string(node.this).lower()
        if isinstance(node, exp.Upper):
            return self.string(node.this).upper()
        if isinstance(node, exp.Trim):
            return self.string(node.this).strip()
        if isinstance(node, exp.Substring):
            start, length = node.args.get("start"), node.args.get("length")
            first = _integer(node, start, "start") if start is not None else 1
            if first < 1:
                raise ExpressionError(f"{_part(node)}: substr counts from 1")
            count = _integer(node, length, "length") if length is not None else None
            return self.string(node.this).substr(first - 1, count)
        if isinstance(node, exp.Concat):  # as SQL's CONCAT: a null part counts as empty text
            parts = [self.string(p).fill_null("") for p in node.expressions]
            out = parts[0]
            for part in parts[1:]:
                out = out + part
            return out
        if isinstance(node, exp.DPipe):  # as SQL's ||: null when a part is null
            return self.string(node.this) + self.string(node.expression)
        if isinstance(node, exp.Abs):
            return self.number(node.this).abs()
        if isinstance(node, exp.Round):
            decimals = node.args.get("decimals")
            digits = _integer(node, decimals, "decimals") if decimals is not None else 0
            value = self.number(node.this)
            # Ibis casts round(x, 0) to BIGINT, which fails beyond 64 bits; from 2^53 on a double is whole already.
            return ibis.cases((value.abs() < 2.0 ** 53, value.round(digits).cast("float64")), else_=value)
        if isinstance(node, exp.Cast):
            if _cast_kind(node) == "text":
                return self.string(node.this)
            if node.to.this in exp.DataType.INTEGER_TYPES:  # whole numbers, rounded as SQL's CAST rounds
                value = self.number(node.this)
                # Beyond 64 bits (1e30, Infinity, NaN): null and set aside, not an engine error (round() casts to
                # BIGINT).
                whole = ibis.cases((value.abs() < 2.0 ** 63, value.round()), else_=ibis.null("int64"))
                self._check(value.notnull() & whole.isnull(), ibis.literal(_part(node) + " ") + quoted(value)
                            + " is too large for a whole number")
                return whole
            return self.number(node.this)
        raise ExpressionError(f"{_part(node)} is not allowed")  # parse_expression refused it already

    def _cases(self, branches: list[tuple[ir.Value, exp.Expression]], default: exp.Expression | None,
               subject: ir.Value | None = None) -> Any:
        """CASE's results as one type: numbers when one is a number and none is quoted text, else text. The branches
        are (condition, result), or (value, result) compared with `subject` (CASE x WHEN ...)."""
        nodes = [v for _, v in branches] + ([default] if default is not None else [])
        # The rows that take each branch: its condition holds and no earlier one does.
        taken = [(subject == c) if subject is not None else c for c, _ in branches]
        guards: list[ir.BooleanValue] = []
        earlier: ir.BooleanValue = ibis.literal(False)
        for condition in taken:
            guards.append(condition.fill_null(False) & ~earlier)
            earlier = earlier | condition.fill_null(False)
        guards.append(~earlier)
        values = [self._under(g, lambda n=n: self.value(n)) for n, g in zip(nodes, guards, strict=False)]
        as_number = any(v.type().is_numeric() for v in values) and not any(
            isinstance(n, exp.Literal) and n.is_string for n in nodes)
        kind = "float64" if as_number else "string"
        results = [ibis.null(kind) if isinstance(n, exp.Null)
                   else self._under(g, lambda n=n: self.number(n) if as_number else self.string(n))
                   for n, g in zip(nodes, guards, strict=False)]
        otherwise = results[-1] if default is not None else ibis.null(kind)
        pairs = [(c, r) for (c, _), r in zip(branches, results, strict=False)]
        return subject.cases(*pairs, else_=otherwise) if subject is not None else ibis.cases(*pairs, else_=otherwise)


def _literal(node: exp.Expression) -> str | float | None:
    """A literal's value: text, a number (also negative, -2), else None."""
    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal) and not node.this.is_string:
        return -float(node.this.this)
    if isinstance(node, exp.Literal):
        return node.this if node.is_string else float(node.this)
    return None


def _integer(node: exp.Expression, arg: exp.Expression, name: str) -> int:
    if isinstance(arg, exp.Neg) and isinstance(arg.this, exp.Literal) and not arg.this.is_string:
        return -_integer(node, arg.this, name)
    if not isinstance(arg, exp.Literal) or arg.is_string or not arg.this.isdigit():
        raise ExpressionError(f"{_part(node)}: {name} must be a whole number written out")
    if len(arg.this.lstrip("0")) > 6:  # round(x, 99999999999999999999) would only fail in the engine
        raise ExpressionError(f"{_part(node)}: {name} {arg.this} is too large (at most 999999)")
    return int(arg.this)


def translate(expression: Expression, table: ir.Table, *, currency_symbol: bool = False, decimal_comma: bool = False,
              keep: Callable[[ir.Value], ir.Value] | None = None) -> tuple[ir.Value,
                                                                          list[tuple[ir.BooleanValue, ir.Value]]]:
    """The expression's value over `table` (the export as read), and the checks of the values it converts: (the
    value is not a number, why) pairs for the row's `_aside`. `keep` makes a computed value a column of the table
    being derived and returns that column (the mapping's stages), so the SQL stays as small as the expression."""
    translator = _Translator(table, currency_symbol=currency_symbol, decimal_comma=decimal_comma, keep=keep)
    try:
        value = translator.value(expression.tree)
    except ExpressionError:
        raise
    except Exception as exc:  # noqa: BLE001 - Ibis refuses a combination (text + number in one CASE): one line
        first = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        raise ExpressionError(f"cannot be computed ({first})") from exc
    if value.type().is_boolean():
        raise ExpressionError("gives a condition (true/false), not a value: wrap it in CASE WHEN ... THEN ... END")
    if value.type().is_null():
        value = ibis.null("string")
    return value, translator.checks
