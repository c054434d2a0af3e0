"""One `@dlt_assets` multi-asset per source system; one Dagster asset per raw table.

Asset keys follow the warehouse convention `[dataset, table]` (`["raw_shop", "orders"]`,
`["raw_shop", "orders__items"]`); each source is its own group `raw_<source>`. The dlt source
and pipeline used to *declare* the assets only describe the tables; at run time the asset
rebuilds both from the current settings (landing folder from `cdp.settings`, warehouse from the
`warehouse` resource), so the same definitions work on any installation and in tests.
Materialisation metadata: rows loaded by this run, total rows in the table
(`dagster/row_count`) and the dlt load id(s).
"""

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import dlt
from dagster_dlt import DagsterDltResource, DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData

from cdp.settings import get_settings
from ingestion.append_guard import exactly_once
from ingestion.config import load_sources_config
from ingestion.pipeline import (
    SourceUnavailable,
    configure_dlt,
    dataset_name,
    loaded_rows,
    make_pipeline,
    make_source,
    prune_loaded_packages,
)
from orchestration.shared.keys import raw_table_key
from orchestration.shared.resources import WarehouseResource
from privacy import ingest_filter as suppression


class RawTableTranslator(DagsterDltTranslator):
    """Asset key `[raw_<source>, <table>]`, no upstream deps (the files are outside Dagster).

    The description is the dlt resource's docstring, which each source package sets from its
    table specs (the default of DagsterDltTranslator).
    """

    def get_asset_spec(self, data: DltResourceTranslatorData) -> dg.AssetSpec:
        spec = super().get_asset_spec(data)
        resource = data.resource
        dataset = (
            data.pipeline.dataset_name if data.pipeline else dataset_name(resource.source_name)
        )
        return spec.replace_attributes(
            key=raw_table_key(dataset, resource),
            deps=[],
            tags={**spec.tags, "cdp/source": resource.source_name},
        )


def _declaration_pipeline(source: str) -> Any:
    """A pipeline object used only to declare asset specs (never run, writes nothing to data/)."""
    configure_dlt()
    return dlt.pipeline(
        pipeline_name=f"cdp_{source}",
        destination=dlt.destinations.duckdb(credentials=str(get_settings().warehouse)),
        dataset_name=dataset_name(source),
        pipelines_dir=str(Path(tempfile.gettempdir()) / "cdp_dlt_declarations"),
        dev_mode=False,
    )


def _table_row_counts(pipeline: Any, tables: list[str]) -> dict[str, int]:
    """Rows in each of `tables` (left out: a table never created), over one connection."""
    counts: dict[str, int] = {}
    try:
        with pipeline.sql_client() as client:
            for table in tables:
                qualified = client.make_qualified_table_name(table)
                try:
                    rows = client.execute_sql(f"select count(*) from {qualified}")
                except Exception:  # table never created (e.g. no rows yet)
                    continue
                if rows:
                    counts[table] = int(rows[0][0])
    except Exception:  # no warehouse to count in
        return counts
    return counts


def build_source_assets(source: str) -> dg.AssetsDefinition:
    """The multi-asset of one source: runs its dlt pipeline, one materialisation per table."""
    settings = get_settings()
    config = load_sources_config(settings.config_dir / "sources.yaml")
    translator = RawTableTranslator()

    @dlt_assets(
        dlt_source=make_source(source, settings, config),
        dlt_pipeline=_declaration_pipeline(source),
        name=f"ingest_{source}",
        group_name=dataset_name(source),
        dagster_dlt_translator=translator,
        op_tags={"cdp/domain": "ingestion"},
    )
    def _assets(
        context: dg.AssetExecutionContext, dlt: DagsterDltResource, warehouse: WarehouseResource
    ) -> Iterator[Any]:
        run_settings = get_settings().model_copy(update={"warehouse": Path(warehouse.location)})
        run_config = load_sources_config(run_settings.config_dir / "sources.yaml")
        try:
            run_source = make_source(source, run_settings, run_config, check_location=True)
        except SourceUnavailable as exc:
            raise dg.Failure(description=str(exc)) from exc
        suppression.load(run_settings.warehouse)  # erased persons dropped at ingestion
        pipeline = make_pipeline(source, run_settings)
        with exactly_once(pipeline, source, run_settings.warehouse):
            events = list(
                dlt.run(
                    context=context,
                    dlt_source=run_source,
                    dlt_pipeline=pipeline,
                    dagster_dlt_translator=translator,
                )
            )
        totals = _table_row_counts(pipeline, [event.asset_key.path[-1] for event in events])
        trace = pipeline.last_trace
        load_info = trace.last_load_info if trace else None
        load_ids = list(load_info.loads_ids) if load_info else []
        loaded = loaded_rows(pipeline)
        for event in events:
            table = event.asset_key.path[-1]
            metadata = {
                **(event.metadata or {}),
                "rows_loaded": dg.MetadataValue.int(loaded.get(table, 0)),
                "dlt_load_ids": dg.MetadataValue.text(", ".join(load_ids) or "nothing new"),
            }
            if table in totals:
                metadata["dagster/row_count"] = dg.MetadataValue.int(totals[table])
            yield event._replace(metadata=metadata)
        prune_loaded_packages(pipeline)  # the load succeeded: its packages are copies

    return _assets


def build_all_source_assets() -> list[dg.AssetsDefinition]:
    config = load_sources_config(get_settings().config_dir / "sources.yaml")
    return [build_source_assets(name) for name in config.enabled_sources()]
