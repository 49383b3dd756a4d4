"""The ClientApp: trains the global model on this site's prepared data, and evaluates it.

``train`` replies with the weights after ``local-epochs`` full-batch gradient steps, the
number of examples and the training metrics (loss, accuracy, AUROC on the site's data);
``evaluate`` replies with the same metrics of the global model it received. Only these
leave the site: never a case, a label or a prediction.

Privacy is Flower's own, switched on by the run config: ``fixedclipping_mod`` clips the
update when ``dp-noise-multiplier`` > 0, and ``secaggplus_mod`` masks it when
``secagg-num-shares`` > 0 (clipping first, then masking). With secure aggregation the
messages come from Flower's legacy workflow (``fitins``/``fitres`` records), which
``train`` and ``evaluate`` answer in kind.
"""

from __future__ import annotations

from flwr.app import ArrayRecord, Context, Message, MetricRecord, RecordDict
from flwr.client.mod import fixedclipping_mod as legacy_fixedclipping_mod
from flwr.client.mod import secaggplus_mod
from flwr.clientapp import ClientApp
from flwr.clientapp.mod import fixedclipping_mod
from flwr.clientapp.typing import ClientAppCallable
from flwr.common import (
    Code,
    EvaluateRes,
    FitRes,
    Status,
    ndarrays_to_parameters,
    parameters_to_ndarrays,
)
from flwr.compat.common import recorddict_compat as compat

from rfs5_training import model
from rfs5_training.settings import RunSettings, run_settings
from rfs5_training.site_data import SiteData, site_data
from rfs5_training.strategies import EXAMPLES_KEY, UNIT_WEIGHT_KEY

app = ClientApp()
# The weight every site reports under differential privacy with SecAgg+: SecAgg+ scales a
# site's update by weight / max_weight before quantising it, so the largest weight it
# allows (its default max_weight) keeps the most precision.
SECAGG_EQUAL_WEIGHT = 1000


def privacy_mods(msg: Message, context: Context, call_next: ClientAppCallable) -> Message:
    """Flower's clipping and SecAgg+ mods, as the run config asks for them."""
    settings = run_settings(context.run_config)
    handler = call_next
    if settings.differential_privacy:
        clip = legacy_fixedclipping_mod if settings.secure_aggregation else fixedclipping_mod
        inner = handler

        def clipped(message: Message, ctxt: Context) -> Message:
            return clip(message, ctxt, inner)

        handler = clipped
    if settings.secure_aggregation:
        unmasked = handler

        def masked(message: Message, ctxt: Context) -> Message:
            return secaggplus_mod(message, ctxt, unmasked)

        handler = masked
    return handler(msg, context)


def _is_legacy(msg: Message, prefix: str) -> bool:
    return f"{prefix}.parameters" in msg.content.array_records


def _global_weights(msg: Message, prefix: str) -> model.Vector:
    if _is_legacy(msg, prefix):
        record = msg.content.array_records[f"{prefix}.parameters"]
        return parameters_to_ndarrays(compat.arrayrecord_to_parameters(record, keep_input=True))[0]
    return msg.content.array_records["arrays"].to_numpy_ndarrays()[0]


def _weight(settings: RunSettings, data: SiteData) -> int:
    if settings.differential_privacy and settings.secure_aggregation:
        return SECAGG_EQUAL_WEIGHT
    return len(data.y)


def _metric_record(
    settings: RunSettings, data: SiteData, metrics: dict[str, float]
) -> MetricRecord:
    values: dict[str, float | int] = {**metrics, EXAMPLES_KEY: len(data.y)}
    if settings.differential_privacy:
        values[UNIT_WEIGHT_KEY] = 1.0
    return MetricRecord(values)  # type: ignore[arg-type]


@app.train(mods=[privacy_mods])
def train(msg: Message, context: Context) -> Message:
    settings = run_settings(context.run_config)
    data = site_data(dict(context.node_config), dict(context.run_config))
    weights = model.local_training(
        _global_weights(msg, "fitins"),
        data.x,
        data.y,
        settings.local_epochs,
        settings.learning_rate,
        settings.proximal_mu,
    )
    metrics = model.metrics(weights, data.x, data.y, "train")
    if _is_legacy(msg, "fitins"):
        result = FitRes(
            Status(Code.OK, ""),
            ndarrays_to_parameters([weights]),
            _weight(settings, data),
            dict(metrics),
        )
        return Message(compat.fitres_to_recorddict(result, keep_input=True), reply_to=msg)
    content = RecordDict(
        {"arrays": ArrayRecord([weights]), "metrics": _metric_record(settings, data, metrics)}
    )
    return Message(content, reply_to=msg)


@app.evaluate()
def evaluate(msg: Message, context: Context) -> Message:
    settings = run_settings(context.run_config)
    data = site_data(dict(context.node_config), dict(context.run_config))
    weights = _global_weights(msg, "evaluateins")
    metrics = model.metrics(weights, data.x, data.y, "eval")
    if _is_legacy(msg, "evaluateins"):
        result = EvaluateRes(
            Status(Code.OK, ""), metrics["eval-loss"], _weight(settings, data), dict(metrics)
        )
        return Message(compat.evaluateres_to_recorddict(result), reply_to=msg)
    content = RecordDict({"metrics": _metric_record(settings, data, metrics)})
    return Message(content, reply_to=msg)
