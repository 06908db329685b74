"""A route's ``partitions``: how its object names carry the date, so a listing skips history.

``partitions: "incoming/%Y/%m/%d/"`` says that an object created on 7 December 2026 (UTC) is named
``incoming/2026/12/07/...``. The codes go from the year down (``%Y``, then ``%m``, ``%d``, ``%H``,
``%M``), each once, zero-padded, with constant text between them, so names sort as their dates do:
the objects created since a moment are those named from that moment's partition on, one
``startOffset`` away (the Cloud Storage JSON API lists names from there, in order).
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

CODES = ("Y", "m", "d", "H", "M")  # coarse to fine: names sort by date only in this order
_CONVERSION = re.compile(r"%(.?)")
_FORMATS = {"Y": "{:04d}", "m": "{:02d}", "d": "{:02d}", "H": "{:02d}", "M": "{:02d}"}


@dataclass(frozen=True)
class Partitions:
    """A checked partition pattern: its text and the finest date part it names."""

    pattern: str
    finest: str  # one of CODES

    def name_at(self, moment: datetime) -> str:
        """Return the beginning of the names of ``moment``'s partition (UTC)."""
        utc = moment.astimezone(UTC)
        parts = {"Y": utc.year, "m": utc.month, "d": utc.day, "H": utc.hour, "M": utc.minute}

        def text(match: re.Match[str]) -> str:
            code = match.group(1)
            return "%" if code == "%" else _FORMATS[code].format(parts[code])

        return _CONVERSION.sub(text, self.pattern)

    def name_after(self, moment: datetime) -> str:
        """Return the beginning of the names of the partition after ``moment``'s."""
        return self.name_at(_next(moment.astimezone(UTC), self.finest))


def _next(moment: datetime, finest: str) -> datetime:
    if finest == "Y":
        return moment.replace(year=moment.year + 1, month=1, day=1)
    if finest == "m":
        first = moment.replace(day=1)
        return first.replace(year=first.year + first.month // 12, month=first.month % 12 + 1)
    step = {"d": timedelta(days=1), "H": timedelta(hours=1), "M": timedelta(minutes=1)}
    return moment + step[finest]


def parse_partitions(value: Any, prefix: str) -> Partitions:
    """Check a ``partitions`` pattern under the route's ``prefix``; raise ValueError saying why."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"expected a pattern such as '{prefix}%Y/%m/%d/', got {value!r}")
    codes = [code for code in _CONVERSION.findall(value) if code != "%"]
    unknown = [code for code in codes if code not in CODES]
    if unknown:
        raise ValueError(
            f"unknown code %{unknown[0]} in {value!r} (known: %Y %m %d %H %M; %% for a %)"
        )
    if not codes or codes != list(CODES[: len(codes)]):
        raise ValueError(
            f"{value!r} must name the date from the year down, each part once and in order "
            "(%Y, then %m, %d, %H, %M), so that names sort as their dates do"
        )
    first = next(m for m in _CONVERSION.finditer(value) if m.group(1) != "%")
    head = value[: first.start()].replace("%%", "%")
    if not head.startswith(prefix):
        raise ValueError(
            f"{value!r} must start with the route's prefix {prefix!r}: it describes the names "
            "under it"
        )
    return Partitions(value, codes[-1])
