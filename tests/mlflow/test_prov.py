"""Lineage exported as W3C PROV, read back by the real `prov` package.

Runs are logged through the real mlflow client (artifacts through the
artifact proxy), inputs are recorded by hash through the native API, and
the project's PROV-JSON must load with no warnings, survive a round trip,
carry a sha256 on every entity, render as PROV-N, and pass the PROV-JSON
schema that `prov` ships (used as a lint, as research/formats.md advises).
"""

import hashlib
import json
import uuid
import warnings
from pathlib import Path

import jsonschema
import mlflow
import prov
import prov.model
import pytest

pytestmark = pytest.mark.runlore_only


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def pipeline(api, tmp_path):
    """prep → train in a project of their own, with a file passed by hash
    and an external dataset recorded by reference."""
    project = f"prov{uuid.uuid4().hex[:10]}"
    mlflow.set_experiment(f"{project}/pipeline")
    clean = b"id,value\n1,2\n"
    model = b"weights"
    (tmp_path / "clean.csv").write_bytes(clean)
    (tmp_path / "model.bin").write_bytes(model)
    with mlflow.start_run(run_name="prep") as prep:
        mlflow.log_artifact(str(tmp_path / "clean.csv"), "data")
    with mlflow.start_run(run_name="train", tags={"runlore.parent": prep.info.run_id}) as train:
        run_id = train.info.run_id
        r = api.post(f"/api/v1/runs/{run_id}/inputs",
                     {"sha256": _sha(clean), "path": "inputs/clean.csv"})
        assert r.status_code == 204, r.text
        r = api.post(f"/api/v1/runs/{run_id}/inputs",
                     {"sha256": "ab" * 32, "path": "imagenet",
                      "uri": "s3://datasets/imagenet/train"})
        assert r.status_code == 204, r.text
        mlflow.log_artifact(str(tmp_path / "model.bin"))
    return {"project": project, "prep": prep.info.run_id, "train": run_id,
            "clean": _sha(clean), "model": _sha(model)}


def _load(text):
    """The document, with any warning from `prov` failing the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return prov.model.ProvDocument.deserialize(content=text, format="json")


def test_project_prov_json_reads_cleanly_in_prov(api, pipeline):
    r = api.get("/api/v1/lineage", {"project": pipeline["project"], "format": "prov-json"})
    assert r.status_code == 200, r.text
    doc = _load(r.text)

    entities = {str(e.identifier): e for e in doc.get_records(prov.model.ProvEntity)}
    assert len(entities) == 3, sorted(entities)
    for entity in entities.values():
        hashes = [v for (k, v) in entity.attributes if k.localpart == "sha256"]
        assert len(hashes) == 1, entity
    model = next(e for i, e in entities.items() if i.endswith(pipeline["model"]))
    assert [v.value for (k, v) in model.attributes if k.localpart == "sha256"] == [pipeline["model"]]
    external = next(e for i, e in entities.items() if i.endswith("ab" * 32))
    assert any(k.localpart == "location" for (k, _) in external.attributes)

    activities = list(doc.get_records(prov.model.ProvActivity))
    assert len(activities) == 2
    assert all(a.get_startTime() is not None for a in activities)
    kinds = {type(r).__name__ for r in doc.get_records()}
    for expected in ("ProvUsage", "ProvGeneration", "ProvDerivation",
                     "ProvCommunication", "ProvAssociation", "ProvAgent"):
        assert expected in kinds, kinds

    # A round trip through prov gives the same document, and PROV-N renders.
    again = _load(doc.serialize(format="json"))
    assert again == doc
    assert doc.get_provn().startswith("document")


def test_prov_json_passes_the_schema_prov_ships(api, pipeline):
    schema_path = Path(prov.__file__).parent / "tests" / "schemas" / "prov-json.schema.json"
    schema = json.loads(schema_path.read_text())
    for scope in ({"project": pipeline["project"]}, {"run": pipeline["train"]},
                  {"sha256": pipeline["model"], "direction": "up"}):
        r = api.get("/api/v1/lineage", {**scope, "format": "prov-json"})
        assert r.status_code == 200, r.text
        errors = sorted(jsonschema.Draft4Validator(schema).iter_errors(r.json()), key=str)
        assert errors == [], [e.message for e in errors][:5]
        _load(r.text)


def test_ids_are_stable_and_prov_n_is_served(api, pipeline):
    query = {"run": pipeline["train"], "format": "prov-json"}
    first = api.get("/api/v1/lineage", query).json()
    assert api.get("/api/v1/lineage", query).json() == first
    assert f"run:{pipeline['train']}" in first["activity"]
    assert f"blob:{pipeline['model']}" in first["entity"]
    text = api.get("/api/v1/lineage", {"run": pipeline["train"], "format": "prov-n"}).text
    assert text.startswith("document\n") and text.rstrip().endswith("endDocument")
    assert f"wasInformedBy(rl:inf-{pipeline['train']}-{pipeline['prep']};" in text
