"""The Great Expectations side of a quality run: one GE context per process and root, the
validation of a frame against a suite, and this run's Data Docs."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from data_quality.redaction import redact_store
from data_quality.results import new_run_id

DOCS_SITE = "quality_site"
_DATASOURCE = "warehouse_frames"


# One GE context per process and root (None = ephemeral): creating a file-backed context reads
# and validates its YAML project (~0.3 s, more on a busy machine), which every suite of a run
# would otherwise pay again. Recreated if its project file disappeared (data dir wiped).
_CONTEXTS: dict[str, tuple[Any, Any]] = {}


def _gx_context(root: Path | None) -> tuple[Any, Any]:
    """The (context, pandas datasource) for `root`, created once per process."""
    key = "" if root is None else str(root.resolve())
    cached = _CONTEXTS.get(key)
    if cached is not None and (root is None or (root / "gx" / "great_expectations.yml").exists()):
        return cached
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    if root is None:
        context = gx.get_context(mode="ephemeral")
    else:
        root.mkdir(parents=True, exist_ok=True)
        context = gx.get_context(mode="file", project_root_dir=str(root))
        _ensure_docs_site(context, root / "data_docs")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    redact_store(context.validation_results_store)  # no personal data in the store or Docs
    try:
        # keep the dataframe assets of earlier runs: re-creating the datasource drops them, and
        # each asset added back rewrites the whole project YAML (~0.1-0.2 s a time)
        datasource = context.data_sources.get(_DATASOURCE)
    except KeyError:
        datasource = context.data_sources.add_pandas(_DATASOURCE)
    _CONTEXTS[key] = (context, datasource)
    return context, datasource


def _ensure_docs_site(context: Any, docs_dir: Path) -> None:
    sites = context.get_config().data_docs_sites or {}
    if "local_site" in sites:
        context.delete_data_docs_site("local_site")
    if DOCS_SITE not in sites:
        context.add_data_docs_site(
            site_name=DOCS_SITE,
            site_config={
                "class_name": "SiteBuilder",
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(docs_dir),
                },
            },
        )


class GXValidator:
    """The suites of one run: a file-backed GE context under `<root>/gx` (Data Docs), or an
    ephemeral one; the context itself is shared by every validator of the process."""

    def __init__(self, root: Path | None = None, run_id: str | None = None) -> None:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        import great_expectations as gx

        self.gx = gx
        self.root = Path(root) if root is not None else None
        self.context, self.datasource = _gx_context(self.root)
        self.run_id = run_id or new_run_id()
        self._run_time = dt.datetime.now(dt.UTC)
        self._validated: set[str] = set()

    @property
    def docs_dir(self) -> Path | None:
        return None if self.root is None else self.root / "data_docs"

    def validate(
        self,
        name: str,
        expectations: Sequence[Any],
        frame: pd.DataFrame,
        index_columns: Sequence[str],
        sample_rows: int,
    ):
        """Validate `frame` against a suite called `name`; returns the GE validation result."""
        gx = self.gx
        suite = gx.ExpectationSuite(name=name, expectations=list(expectations))
        suite = self.context.suites.add_or_update(suite)
        try:
            asset = self.datasource.get_asset(name)
        except LookupError:
            asset = self.datasource.add_dataframe_asset(name)
        try:
            batch_definition = asset.get_batch_definition("whole_frame")
        except (KeyError, LookupError):
            batch_definition = asset.add_batch_definition_whole_dataframe("whole_frame")
        definition = gx.ValidationDefinition(name=name, data=batch_definition, suite=suite)
        definition = self.context.validation_definitions.add_or_update(definition)
        result_format: dict[str, Any] = {
            "result_format": "SUMMARY",
            "partial_unexpected_count": max(sample_rows, 1),
        }
        if index_columns:
            result_format["unexpected_index_column_names"] = list(index_columns)
        from great_expectations.core.run_identifier import RunIdentifier

        self._validated.add(name)
        return definition.run(
            batch_parameters={"dataframe": frame},
            result_format=result_format,
            run_id=RunIdentifier(run_name=self.run_id, run_time=self._run_time),
        )

    def build_docs(self) -> Path | None:
        """Render this run's suites and validation results, then the index (not the whole
        history again: the cost stays flat as results accumulate)."""
        if self.root is None or not self._validated:
            return self.docs_dir
        from great_expectations.data_context.types.resource_identifiers import (
            ExpectationSuiteIdentifier,
        )

        store = self.context.validation_results_store
        identifiers: list = [
            key
            for key in store.list_keys()
            if getattr(key, "run_id", None) is not None
            and key.run_id.run_name == self.run_id
            and key.expectation_suite_identifier.name in self._validated
        ]
        identifiers += [ExpectationSuiteIdentifier(name=n) for n in sorted(self._validated)]
        self.context.build_data_docs(site_names=[DOCS_SITE], resource_identifiers=identifiers)
        self._validated.clear()
        return self.docs_dir


def default_gx_root() -> Path:
    from cdp.settings import get_settings

    return get_settings().data_dir / "quality"
