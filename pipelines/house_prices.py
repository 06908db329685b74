"""House-price training pipeline: ingest, preprocess, features, train, evaluate, gate, deploy.

Every step is a lightweight Python component (slim Python image, pinned `packages_to_install`
equal to requirements.txt), so one compiled file runs on Vertex AI Pipelines and locally under
`kfp.local.SubprocessRunner(use_venv=False)`, where the pinned installs are no-ops.

Why the Vertex deploy is a lightweight component calling the `google-cloud-aiplatform` SDK
(`Model.upload` + `Endpoint.deploy`) instead of Google Cloud Pipeline Components' `ModelUploadOp`,
`EndpointCreateOp` and `ModelDeployOp`: those are container components, which neither
`kfp.local`'s SubprocessRunner nor this project's Vertex emulator can run, and a compiled file
containing them would be refused locally even when `deploy_target` is not `vertex`. The SDK calls
are the same API operations the GCPC launchers make, and on Vertex the step runs as a normal task
with the pipeline's service account. `pipelines/automl_image.py` (Vertex only) uses GCPC.

Shared code reaches the components through `additional_funcs`: the functions of
`pipelines.house_data`, `house_model`, `champion_gate`, `registry`, `uri_io` and
`monitoring_stats` are copied into each component that needs them, so the pipeline and the drift
check use one implementation. The by-name imports below only let Python and ruff resolve the names
the component bodies use; inside a running component those names are the embedded copies.
"""

from enum import StrEnum
from typing import NamedTuple

from kfp import dsl
from kfp.dsl import HTML, Artifact, Dataset, Input, Metrics, Model, Output

from pipelines import champion_gate, house_data, house_model, monitoring_stats, registry, uri_io
from pipelines.champion_gate import promotion_decision, score_registry_champion
from pipelines.house_data import (
    add_derived_features,
    clean_house_prices,
    house_schema,
    impute_numeric,
    load_house_prices,
    model_features,
    split_house_prices,
)
from pipelines.house_model import (
    feature_matrix,
    prediction_plot_html,
    regression_metrics,
    search_regressor,
    serving_image_mismatch,
)
from pipelines.monitoring_stats import compute_baseline
from pipelines.pins import pinned
from pipelines.registry import claim_next_version, promote_version
from pipelines.uri_io import join_uri, read_csv_parts, write_uri_bytes

BASE_IMAGE = "python:3.11-slim"


class DeployTarget(StrEnum):
    """Where a promoted model goes (the `deploy_target` input)."""

    VERTEX = "vertex"
    LOCAL = "local"
    NONE = "none"


TABLE_PACKAGES = pinned("pandas", "numpy")
STORAGE_PACKAGES = pinned("google-cloud-storage")
MODEL_PACKAGES = pinned("pandas", "numpy", "scipy", "scikit-learn", "joblib")

READ_OPTIONAL_URI = [*uri_io.READ_FUNCTIONS, uri_io.join_uri, uri_io.read_uri_bytes_if_present]
REGISTRY_WRITE = [*READ_OPTIONAL_URI, uri_io.write_uri_bytes, uri_io.create_uri_bytes,
                  uri_io.list_uri_children, registry.claim_next_version, registry.promote_version]
TABLE_RULES = [house_data.house_schema, house_data.model_features]
MODEL_RULES = [*TABLE_RULES, house_model.feature_matrix, house_model.build_regressor,
               house_model.regression_metrics]
CHAMPION_SCORING = [*READ_OPTIONAL_URI, *TABLE_RULES, house_model.feature_matrix,
                    house_model.regression_metrics, champion_gate.champion_score,
                    champion_gate.score_model_bytes, champion_gate.score_registry_champion]


@dsl.component(base_image=BASE_IMAGE)
def check_run_inputs(  # noqa: PLR0917 (KFP calls components by keyword)
    data_uri: str, deploy_target: str, registry_uri: str, min_improvement: float,
    min_r2: float, serving_container_image_uri: str):
    """Fail fast, naming the input, when the run's parameters cannot work together."""
    targets = ("vertex", "local", "none")   # DeployTarget's values: components cannot import it
    if not data_uri.strip():
        raise ValueError("data_uri is empty: pass the gs:// URI or path of the training CSV")
    if deploy_target not in targets:
        raise ValueError(f"deploy_target must be one of {', '.join(targets)}; "
                         f"got {deploy_target!r}")
    if deploy_target != "none" and not registry_uri.strip():
        raise ValueError(f"registry_uri is required when deploy_target is {deploy_target!r}: "
                         "the gate compares with the champion recorded there")
    if not 0 <= min_improvement < 1:
        raise ValueError(f"min_improvement must be in [0, 1), got {min_improvement}")
    if min_r2 > 1:
        raise ValueError(f"min_r2 must be at most 1 (a perfect fit), got {min_r2}")
    if deploy_target == "vertex" and not serving_container_image_uri.strip():
        raise ValueError("serving_container_image_uri is required when deploy_target is "
                         "'vertex': an image serving the scikit-learn version in requirements.txt")


@dsl.component(base_image=BASE_IMAGE, packages_to_install=TABLE_PACKAGES + STORAGE_PACKAGES,
               additional_funcs=[*uri_io.READ_PARTS_FUNCTIONS, house_data.house_schema,
                                 house_data.missing_columns, house_data.load_house_prices])
def ingest(data_uri: str, raw_data: Output[Dataset]):
    """Read the CSV at data_uri (or a folder's part files: ending /); keep the required columns."""
    import pandas as pd

    parts = [load_house_prices(data, source) for source, data in read_csv_parts(data_uri)]
    frame = pd.concat(parts, ignore_index=True)
    frame.to_csv(raw_data.path, index=False)
    raw_data.metadata.update({"rows": len(frame), "source": data_uri})
    print(f"ingested {len(frame)} rows from {data_uri}")


@dsl.component(base_image=BASE_IMAGE, packages_to_install=TABLE_PACKAGES,
               additional_funcs=[house_data.house_schema, house_data.clean_house_prices,
                                 house_data.split_house_prices, house_data.impute_numeric])
def preprocess(  # noqa: PLR0917 (KFP calls components by keyword)
    raw_data: Input[Dataset], seed: int, validation_fraction: float,
    test_fraction: float, train_data: Output[Dataset],
    validation_data: Output[Dataset], test_data: Output[Dataset]):
    """Clean the rows, split them with the seed, impute numeric gaps with train medians."""
    import pandas as pd

    raw = pd.read_csv(raw_data.path)
    cleaned = clean_house_prices(raw)
    parts = split_house_prices(cleaned, validation_fraction, test_fraction, seed)
    parts = impute_numeric(parts, reference=parts[0])
    for part, artifact in zip(parts, (train_data, validation_data, test_data), strict=True):
        part.to_csv(artifact.path, index=False)
        artifact.metadata["rows"] = len(part)
    print(f"kept {len(cleaned)} of {len(raw)} rows; split "
          f"{' / '.join(str(len(part)) for part in parts)}")


@dsl.component(base_image=BASE_IMAGE, packages_to_install=TABLE_PACKAGES,
               additional_funcs=[house_data.add_derived_features])
def engineer_features(  # noqa: PLR0917 (KFP calls components by keyword)
    train_data: Input[Dataset], validation_data: Input[Dataset],
    test_data: Input[Dataset], train_features: Output[Dataset],
    validation_features: Output[Dataset], test_features: Output[Dataset]):
    """Add derived features (square feet per room, age) to every split."""
    import pandas as pd

    pairs = ((train_data, train_features), (validation_data, validation_features),
             (test_data, test_features))
    for source, target in pairs:
        add_derived_features(pd.read_csv(source.path)).to_csv(target.path, index=False)


@dsl.component(base_image=BASE_IMAGE, packages_to_install=MODEL_PACKAGES,
               additional_funcs=[*MODEL_RULES, house_model.candidate_params,
                                 house_model.search_regressor])
def train_model(train_features: Input[Dataset], validation_features: Input[Dataset], seed: int,
                model: Output[Model]) -> NamedTuple("Training", validation_rmse=float):
    """Search the candidates on validation RMSE and save the best as model/model.joblib."""
    import os

    import joblib
    import pandas as pd
    import sklearn

    target = house_schema()["target"]
    best, params, rmse = search_regressor(
        pd.read_csv(train_features.path), pd.read_csv(validation_features.path), seed, target)
    # A folder holding model.joblib is what Vertex AI's scikit-learn serving container loads.
    os.makedirs(model.path, exist_ok=True)
    joblib.dump(best, os.path.join(model.path, "model.joblib"))
    features = model_features()
    model.metadata.update({"framework": "scikit-learn", "sklearn_version": sklearn.__version__,
                           "params": params,
                           "validation_rmse": rmse,
                           "feature_columns": features["numeric"] + features["categorical"]})
    print(f"best candidate {params}: validation rmse {rmse:.2f}")
    return NamedTuple("Training", validation_rmse=float)(rmse)


@dsl.component(base_image=BASE_IMAGE, packages_to_install=MODEL_PACKAGES + pinned("matplotlib"),
               additional_funcs=[*MODEL_RULES, house_model.prediction_plot_html])
def evaluate_model(model: Input[Model], test_features: Input[Dataset], metrics: Output[Metrics],
                   prediction_plot: Output[HTML]
                   ) -> NamedTuple("Evaluation", rmse=float, mae=float, r2=float):
    """Score the model on the test split (rmse, mae, r2) and plot predicted against actual."""
    import os

    import joblib
    import pandas as pd

    fitted = joblib.load(os.path.join(model.path, "model.joblib"))
    test = pd.read_csv(test_features.path)
    actual = test[house_schema()["target"]]
    predicted = fitted.predict(feature_matrix(test))
    scores = regression_metrics(actual, predicted)
    for name, value in scores.items():
        metrics.log_metric(name, value)
    with open(prediction_plot.path, "w", encoding="utf-8") as handle:
        handle.write(prediction_plot_html(
            actual.tolist(), predicted.tolist(), "house prices: predicted vs actual (test split)"))
    print(f"test metrics {scores}")
    return NamedTuple("Evaluation", rmse=float, mae=float, r2=float)(
        scores["rmse"], scores["mae"], scores["r2"])


@dsl.component(base_image=BASE_IMAGE, packages_to_install=MODEL_PACKAGES + STORAGE_PACKAGES,
               additional_funcs=CHAMPION_SCORING)
def score_champion(test_features: Input[Dataset], registry_uri: str,
                   champion_metrics: Output[Metrics]) -> NamedTuple(
        "ChampionScore", status=str, version=int, rmse=float, mae=float, r2=float, detail=str):
    """Score the registry's champion on this run's test split: what the gate compares with."""
    import pandas as pd

    score = score_registry_champion(registry_uri, pd.read_csv(test_features.path),
                                    house_schema()["target"])
    if score["status"] == "scored":
        # Prefixed names: beside the challenger's `metrics`, a run comparison shows both.
        for name in ("rmse", "mae", "r2"):
            champion_metrics.log_metric(f"champion_{name}", score[name])
        print(f"champion v{score['version']} on this run's test split: "
              f"rmse {score['rmse']:.2f}, mae {score['mae']:.2f}, r2 {score['r2']:.4f}")
    else:
        print(f"champion {score['status']}: {score['detail']}")
    return NamedTuple("ChampionScore", status=str, version=int, rmse=float, mae=float, r2=float,
                      detail=str)(score["status"], score["version"], score["rmse"],
                                  score["mae"], score["r2"], score["detail"])


@dsl.component(base_image=BASE_IMAGE, additional_funcs=[champion_gate.promotion_decision])
def gate(  # noqa: PLR0917 (KFP calls components by keyword)
    rmse: float, r2: float, champion_status: str, champion_version: int, champion_rmse: float,
    champion_detail: str, min_improvement: float, min_r2: float) -> str:
    """Return "promote" or "keep-champion": challenger against the champion on the same split."""
    # A single return value on purpose: kfp.local resolves a condition on a task output only
    # when it is the task's sole "Output"; the reason goes to the log. The champion's scores
    # come from score_champion for that reason too.
    champion = {"status": champion_status, "version": champion_version, "rmse": champion_rmse,
                "detail": champion_detail}
    promote, reason = promotion_decision({"rmse": rmse, "r2": r2}, champion, min_improvement,
                                         min_r2)
    decision = "promote" if promote else "keep-champion"
    print(f"gate: {decision}: {reason}")
    return decision


@dsl.component(base_image=BASE_IMAGE, packages_to_install=TABLE_PACKAGES,
               additional_funcs=[house_data.house_schema, *monitoring_stats.BASELINE_FUNCTIONS])
def monitoring_baseline(train_data: Input[Dataset], baseline: Output[Artifact]):
    """Write per-feature training statistics (pipelines.monitoring_stats format) as JSON."""
    import json

    import pandas as pd

    schema = house_schema()
    frame = pd.read_csv(train_data.path)
    document = compute_baseline(
        {name: frame[name].tolist() for name in schema["numeric"] + schema["categorical"]},
        schema["numeric"], schema["categorical"])
    with open(baseline.path, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=2, sort_keys=True)
    baseline.metadata.update({"format": document["format"], "rows": document["row_count"]})


@dsl.component(base_image=BASE_IMAGE, packages_to_install=STORAGE_PACKAGES,
               additional_funcs=REGISTRY_WRITE)
def register_model(  # noqa: PLR0917 (KFP calls components by keyword)
    model: Input[Model], baseline: Input[Artifact], rmse: float, mae: float,
    r2: float, registry_uri: str, data_uri: str, reason: str, champion_status: str,
    champion_version: int, champion_rmse: float, champion_mae: float, champion_r2: float) -> int:
    """Write the model, metrics and baseline as the next registry version and make it champion."""
    import datetime
    import os

    scores = {"rmse": rmse, "mae": mae, "r2": r2}
    # What the gate compared with: the replaced champion's scores on this version's test split.
    compared_with = {"version": champion_version, "rmse": champion_rmse, "mae": champion_mae,
                     "r2": champion_r2} if champion_status == "scored" else None
    record = {**scores, "compared_with": compared_with, "data_uri": data_uri, "reason": reason,
              "model_params": model.metadata.get("params", {}),
              "feature_columns": model.metadata.get("feature_columns", []),
              "created_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")}
    version = claim_next_version(registry_uri, record)
    version_uri = join_uri(registry_uri, "versions", str(version))
    with open(os.path.join(model.path, "model.joblib"), "rb") as handle:
        write_uri_bytes(join_uri(version_uri, "model.joblib"), handle.read())
    with open(baseline.path, "rb") as handle:
        write_uri_bytes(join_uri(version_uri, "baseline.json"), handle.read())
    # The pointer moves last, so a reader never sees a champion whose files are incomplete.
    promote_version(registry_uri, version, scores, compared_with)
    print(f"registered version {version} at {version_uri} as champion")
    return version


@dsl.component(base_image=BASE_IMAGE, packages_to_install=pinned("google-cloud-aiplatform"),
               additional_funcs=[house_model.serving_image_mismatch])
def deploy_to_vertex(  # noqa: PLR0917 (KFP calls components by keyword)
    model: Input[Model], project: str, location: str, model_display_name: str,
    endpoint_display_name: str, serving_container_image_uri: str,
    machine_type: str
    ) -> NamedTuple("VertexDeployment", model_name=str, endpoint_name=str):
    """Upload the model as a new version in Vertex AI and make it the endpoint's only model."""
    from google.cloud import aiplatform

    mismatch = serving_image_mismatch(serving_container_image_uri,
                                      model.metadata.get("sklearn_version", ""))
    if mismatch:
        raise ValueError(mismatch)
    aiplatform.init(project=project or None, location=location)
    by_name = f'display_name="{model_display_name}"'
    parents = aiplatform.Model.list(filter=by_name, order_by="update_time desc")
    uploaded = aiplatform.Model.upload(
        display_name=model_display_name, artifact_uri=model.uri,
        serving_container_image_uri=serving_container_image_uri,
        parent_model=parents[0].resource_name if parents else None, is_default_version=True)
    endpoints = aiplatform.Endpoint.list(filter=f'display_name="{endpoint_display_name}"',
                                         order_by="create_time desc")
    endpoint = endpoints[0] if endpoints else aiplatform.Endpoint.create(
        display_name=endpoint_display_name)
    previous = [deployed.id for deployed in endpoint.list_models()]
    uploaded.deploy(endpoint=endpoint, machine_type=machine_type, traffic_percentage=100)
    # Older versions now get no traffic; undeploying them stops paying for their replicas.
    for deployed_id in previous:
        endpoint.undeploy(deployed_model_id=deployed_id)
    print(f"deployed {uploaded.resource_name} to {endpoint.resource_name}")
    return NamedTuple("VertexDeployment", model_name=str, endpoint_name=str)(
        uploaded.resource_name, endpoint.resource_name)


@dsl.pipeline(name="house-prices",
              description="Train, evaluate and gate a house-price regressor; deploy the winner.")
def house_prices(  # noqa: PLR0917 (pipeline inputs are passed by name)
    data_uri: str,
    deploy_target: str = DeployTarget.NONE.value,
    registry_uri: str = "",
    min_improvement: float = 0.01,
    min_r2: float = 0.5,
    seed: int = 42,
    validation_fraction: float = 0.2,
    test_fraction: float = 0.2,
    reason: str = "",
    project: str = "",
    location: str = "us-central1",
    model_display_name: str = "house-prices",
    endpoint_display_name: str = "house-prices",
    serving_container_image_uri: str = "",
    machine_type: str = "n1-standard-2",
):
    """Train on the CSV at data_uri; deploy (vertex | local | none) only if the gate promotes."""
    checked = check_run_inputs(data_uri=data_uri, deploy_target=deploy_target,
                               registry_uri=registry_uri, min_improvement=min_improvement,
                               min_r2=min_r2,
                               serving_container_image_uri=serving_container_image_uri)
    raw = ingest(data_uri=data_uri).after(checked)
    splits = preprocess(raw_data=raw.outputs["raw_data"], seed=seed,
                        validation_fraction=validation_fraction, test_fraction=test_fraction)
    features = engineer_features(train_data=splits.outputs["train_data"],
                                 validation_data=splits.outputs["validation_data"],
                                 test_data=splits.outputs["test_data"])
    baseline = monitoring_baseline(train_data=splits.outputs["train_data"])
    trained = train_model(train_features=features.outputs["train_features"],
                          validation_features=features.outputs["validation_features"], seed=seed)
    scored = evaluate_model(model=trained.outputs["model"],
                            test_features=features.outputs["test_features"])
    champion = score_champion(test_features=features.outputs["test_features"],
                              registry_uri=registry_uri)
    decided = gate(rmse=scored.outputs["rmse"], r2=scored.outputs["r2"],
                   champion_status=champion.outputs["status"],
                   champion_version=champion.outputs["version"],
                   champion_rmse=champion.outputs["rmse"],
                   champion_detail=champion.outputs["detail"],
                   min_improvement=min_improvement, min_r2=min_r2)
    # Data behind a URI and the registry's champion change between runs: never reuse results.
    for task in (raw, champion, decided):
        task.set_caching_options(enable_caching=False)
    registration = {
        "model": trained.outputs["model"], "baseline": baseline.outputs["baseline"],
        "rmse": scored.outputs["rmse"], "mae": scored.outputs["mae"], "r2": scored.outputs["r2"],
        "registry_uri": registry_uri, "data_uri": data_uri, "reason": reason,
        "champion_status": champion.outputs["status"],
        "champion_version": champion.outputs["version"],
        "champion_rmse": champion.outputs["rmse"], "champion_mae": champion.outputs["mae"],
        "champion_r2": champion.outputs["r2"],
    }
    with dsl.If(decided.output == "promote", name="promoted"):
        with dsl.If(deploy_target == DeployTarget.LOCAL.value, name="deploy-local"):
            register_model(**registration).set_caching_options(enable_caching=False)
        with dsl.If(deploy_target == DeployTarget.VERTEX.value, name="deploy-vertex"):
            deployed = deploy_to_vertex(
                model=trained.outputs["model"], project=project, location=location,
                model_display_name=model_display_name,
                endpoint_display_name=endpoint_display_name,
                serving_container_image_uri=serving_container_image_uri,
                machine_type=machine_type,
            ).set_caching_options(enable_caching=False)
            # Registered only once serving: the champion pointer names what the endpoint serves.
            register_model(**registration).after(deployed).set_caching_options(
                enable_caching=False)
