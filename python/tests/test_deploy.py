"""The KubeRay RayJob of docs/scale.md is valid before anyone applies it: its RayJob fields
against the schema written from KubeRay's API reference, its pod templates against Kubernetes'
own schema (kubernetes-validate, strict), and its numbers consistent with the plan."""

import copy
import json
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "kuberay"
K8S = "1.33.0"


def _job() -> dict:
    return yaml.safe_load((DEPLOY / "automix-rayjob.yaml").read_text())


def _schema() -> dict:
    return json.loads((DEPLOY / "rayjob.schema.json").read_text())


def _templates(job: dict) -> list:
    spec = job["spec"]["rayClusterSpec"]
    return [spec["headGroupSpec"]["template"], *(g["template"] for g in spec.get("workerGroupSpecs", []))]


def _check(job: dict) -> None:
    jsonschema.validate(job, _schema())
    for i, t in enumerate(_templates(job)):
        pod = {"apiVersion": "v1", "kind": "PodTemplate", "metadata": {"name": f"template-{i}"}, "template": t}
        kubernetes_validate.validate(pod, K8S, strict=True)


def test_the_rayjob_is_valid():
    _check(_job())


@pytest.mark.parametrize(
    "break_it",
    [
        lambda j: j["spec"].update(shutdownAfterJobFinish=True),  # a misspelt field
        lambda j: j["spec"]["rayClusterSpec"]["workerGroupSpecs"][0]["rayStartParams"].update({"num-cpus": 16}),
        # a misspelt container field: Kubernetes' schema, strict
        lambda j: j["spec"]["rayClusterSpec"]["workerGroupSpecs"][0]["template"]["spec"]["containers"][0].update(
            imagePullPolicey="Always"),
        lambda j: j["spec"]["rayClusterSpec"]["headGroupSpec"]["template"]["spec"].update(containers="ray-head"),
    ],
)
def test_the_validators_refuse_a_broken_rayjob(break_it):
    job = copy.deepcopy(_job())
    break_it(job)
    with pytest.raises((jsonschema.ValidationError, kubernetes_validate.ValidationError)):
        _check(job)


def test_the_rayjob_runs_the_fleet_job_one_row_per_requested_core():
    job = _job()
    assert job["spec"]["entrypoint"].startswith("python -m vocal_automix.fleet ")
    assert "--table" in job["spec"]["entrypoint"]
    for g in job["spec"]["rayClusterSpec"]["workerGroupSpecs"]:
        cpus = int(g["rayStartParams"]["num-cpus"])
        (container,) = g["template"]["spec"]["containers"]
        assert int(container["resources"]["requests"]["cpu"]) == cpus
        assert container["resources"]["requests"] == container["resources"]["limits"]
        assert g["minReplicas"] <= g["replicas"] <= g["maxReplicas"]
