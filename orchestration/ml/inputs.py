"""`["ml", "inputs"]`: the models' inputs standardised once per run (`ml.inputs.write_inputs`)
into a DuckDB file beside the warehouse, and `model_inputs`, how every model step reads them.

A step reads the shared file only when it is current: materialised by this instance after
the last materialisation of every mart it is built from. Otherwise (a step launched alone in
the UI after the marts changed, a test materialising one asset) the step writes its own
inputs from the marts as before, and says so in its log.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg

from ml.input_relations import RELATIONS
from orchestration.automation import derived_asset
from orchestration.shared.dbt import dbt_model_key
from orchestration.shared.resources import WarehouseResource

if TYPE_CHECKING:
    import duckdb

    from ml.behaviour import BehaviourData

#: the decorator of every asset of this domain
ml_asset = partial(derived_asset, group_name="ml")
ML_INPUTS = dg.AssetKey(["ml", "inputs"])
INPUT_DEPS = [dbt_model_key(name) for name in RELATIONS]


@ml_asset(
    key=ML_INPUTS,
    deps=INPUT_DEPS,
    description=(
        "The models' inputs (orders, purchase days, tickets, e-mail events, web sessions, "
        "abandoned carts, product events, order lines, identifying moments, categories), "
        "standardised once per run into <warehouse>.ml_inputs.duckdb, which every model step "
        "of the run reads instead of writing them again (ml/inputs.py). Holds personal data: "
        "private like the warehouse, deleted by an erasure."
    ),
)
def ml_inputs(warehouse: WarehouseResource):
    from ml.inputs import shared_path, write_inputs

    path = shared_path(Path(warehouse.location))
    with warehouse.connect() as con:
        rows = write_inputs(con, path)
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            "rows": dg.MetadataValue.json(rows),
            "dagster/row_count": dg.MetadataValue.int(rows["orders"]),
        }
    )


def _current(context: dg.AssetExecutionContext, path: Path) -> bool:
    """The shared file exists and was materialised after every input it is built from."""
    if not path.exists():
        return False
    instance = context.instance
    made = instance.get_latest_materialization_event(ML_INPUTS)
    if made is None:
        return False
    for key in INPUT_DEPS:
        upstream = instance.get_latest_materialization_event(key)
        if upstream is not None and upstream.timestamp > made.timestamp:
            return False
    return True


@contextmanager
def model_inputs(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    names: tuple[str, ...],
    views: bool = False,
) -> Iterator[tuple["duckdb.DuckDBPyConnection", "BehaviourData"]]:
    """`(con, data)`: a warehouse connection (the scores are written there) and the inputs of
    `names` — the run's shared file when current (`_current`), else written by this step
    into a scratch file (`ml.inputs.scratch_inputs`) or, with `views`, declared as views
    over the warehouse (`ml.inputs.load_inputs`: for a step of a few queries)."""
    from ml.inputs import load_inputs, scratch_inputs, shared_inputs, shared_path

    path = shared_path(Path(warehouse.location))
    with warehouse.connect() as con:
        if _current(context, path):
            with shared_inputs(con, path) as data:
                yield con, data
            return
        context.log.info("ml/inputs is missing or older than the marts: this step reads its own")
        if views:
            yield con, load_inputs(con, names)
        else:
            with scratch_inputs(con, names) as data:
                yield con, data
