"""Numbers as the report's Spanish text writes them (R/text/numbers.R), written again here
from the rules, independently of the R code, for the tests' expected sentences: a decimal
comma, threes grouped by a non-breaking space beyond four digits, a space before %."""

NBSP = "\u00a0"


def es_number(x: float | None, digits: int = 0) -> str:
    if x is None or x != x:
        return "–"
    shown = f"{abs(x):.{digits}f}"
    whole, _, decimals = shown.partition(".")
    if len(whole) > 4:
        whole = f"{int(whole):,}".replace(",", NBSP)
    sign = "-" if x < 0 and any(c in "123456789" for c in shown) else ""
    return sign + whole + ("," + decimals if decimals else "")


def es_percent(x: float | None, digits: int = 1) -> str:
    if x is None or x != x:
        return "–"
    return f"{es_number(100 * x, digits)}{NBSP}%"


def es_interval(low: float, high: float, digits: int = 3) -> str:
    return f"{es_number(low, digits)}–{es_number(high, digits)}"
