"""The rejected-rows report written beside the input: file, row, column, reason."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Rejection:
    row: int
    column: str
    reason: str


@dataclass
class ImportResult:
    source: Path
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejections: list[Rejection] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return len({r.row for r in self.rejections})

    def reject(self, row: int, column: str, reason: str) -> None:
        self.rejections.append(Rejection(row, column, reason))

    def report_path(self) -> Path:
        return self.source.with_name(self.source.name + ".rejected.csv")

    def write_report(self) -> Path | None:
        """Write (or remove a stale) report; returns its path when there were rejections."""
        path = self.report_path()
        if not self.rejections:
            path.unlink(missing_ok=True)
            return None
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["file", "row", "column", "reason"])
            for rejection in self.rejections:
                writer.writerow([self.source.name, rejection.row, rejection.column, rejection.reason])
        return path

    def summary(self) -> dict:
        return {
            "file": str(self.source),
            "read": self.read,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
        }
