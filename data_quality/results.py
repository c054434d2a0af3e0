"""The results of a quality run, as the runner returns them and the history stores them."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from data_quality.masking import jsonable


def new_run_id() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]


@dataclass
class ExpectationResult:
    check_id: str
    kind: str
    column: str | None
    severity: str
    success: bool
    expectation_type: str
    observed_value: Any = None
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    failing_rows: list[dict[str, Any]] = field(default_factory=list)
    message: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def details_json(self) -> dict[str, Any]:
        out = dict(self.details)
        out["expectation_type"] = self.expectation_type
        if self.message:
            out["message"] = self.message
        if self.failing_rows:
            out["failing_rows"] = self.failing_rows
        return jsonable(out)


@dataclass
class SuiteResult:
    asset: str
    suite: str
    run_id: str
    validated_at: dt.datetime
    results: list[ExpectationResult] = field(default_factory=list)
    row_count: int | None = None
    seconds: float = 0.0
    skipped: str | None = None

    @property
    def failures(self) -> list[ExpectationResult]:
        return [r for r in self.results if not r.success]

    @property
    def error_failures(self) -> list[ExpectationResult]:
        return [r for r in self.failures if r.severity == "error"]

    @property
    def success(self) -> bool:
        return not self.failures

    @property
    def status(self) -> str:
        if self.skipped:
            return "skipped"
        if self.error_failures:
            return "error"
        return "warn" if self.failures else "pass"

    def summary(self) -> str:
        if self.skipped:
            return f"{self.asset}: skipped ({self.skipped})"
        return (
            f"{self.asset}: {self.status} - {len(self.results) - len(self.failures)}/"
            f"{len(self.results)} expectations passed, {len(self.error_failures)} error, "
            f"{len(self.failures) - len(self.error_failures)} warn ({self.seconds:.2f}s)"
        )
