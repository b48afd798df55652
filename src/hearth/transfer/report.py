"""The verification report printed at the end of an import or export: rows per collection in the
source and the target, settings, logs and files."""

from __future__ import annotations

from dataclasses import dataclass, field

from hearth.transfer.copy import Copied
from hearth.transfer.files import FilesCopied


@dataclass
class Report:
    copied: Copied
    files: FilesCopied
    seconds: float
    warnings: list[str] = field(default_factory=list)

    @property
    def records(self) -> int:
        return sum(c.target for c in self.copied.collections)

    @property
    def ok(self) -> bool:
        """Every table the transfer copied holds as many rows as its source, and every file."""
        tables = [c for c in self.copied.collections if not c.note]
        if self.copied.logs is not None:
            tables.append(self.copied.logs)
        return all(c.source == c.target for c in tables) and self.files.copied <= self.files.target

    def lines(self) -> list[str]:
        width = max([len(c.name) for c in self.copied.collections] + [10])
        out = [f"{'collection'.ljust(width)}  {'source':>10}  {'target':>10}"]
        for c in self.copied.collections:
            mark = "" if c.note else ("" if c.source == c.target else "  MISMATCH")
            out.append(f"{c.name.ljust(width)}  {c.source:>10,}  {c.target:>10,}{mark}{'  ' + c.note if c.note else ''}")
        if self.copied.logs is not None:
            c = self.copied.logs
            out.append(f"{c.name.ljust(width)}  {c.source:>10,}  {c.target:>10,}{'' if c.source == c.target else '  MISMATCH'}")
        out.append(f"settings: {self.copied.params} _params row(s)")
        f = self.files
        out.append(
            f"files: {f.copied:,} of {f.source:,} copied ({f.bytes:,} bytes); the target lists {f.target:,}"
            + (f"; {f.note}" if f.note else "")
        )
        rate = self.records / self.seconds if self.seconds > 0 else 0.0
        out.append(f"{self.records:,} record(s) in {self.seconds:.1f} s ({rate:,.0f} records/s)")
        out += [f"warning: {w}" for w in self.warnings + self.copied.warnings]
        out.append("verified: every count matches" if self.ok else "NOT verified: some counts differ (see above)")
        return out
