"""The Kubernetes manifests (infra/k8s/) against the README: every ``ACRE_*`` setting of the
configuration table reaches the API, the worker and the migration Job, from the ConfigMap or the
Secret, and secrets only from the Secret; the probes, the grace periods and the overlays hold together.
(kubernetes-validate checks the files' schemas in .ci/run.)"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from workers.worker import SHUTDOWN_WAIT_SECONDS

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "infra" / "k8s"
# a name ending so is a secret (URLs carry passwords); README names that must be among them are asserted
SECRET_ENDINGS = (
    "_SECRET",
    "_SECRET_KEY",
    "_PASSWORD",
    "_USERNAME",
    "_URL",
    "_DSN",
    "_ENCRYPTION_KEY",
    "_KEY_ID",
)
NOT_SECRET = {"ACRE_PUBLIC_URL", "ACRE_S3_ENDPOINT_URL", "ACRE_TIMESTAMP_URL"}


def readme_settings() -> set[str]:
    text = (ROOT / "README.md").read_text()
    table = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for line in table.splitlines():
        if line.startswith("| `"):
            names.update(re.findall(r"`(ACRE_[A-Z0-9_]+)`", line.split("|")[1]))
    return names


def documents(directory: Path) -> dict[tuple[str, str], dict[str, Any]]:
    found = {}
    for path in sorted(directory.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for doc in yaml.safe_load_all(path.read_text()):
            found[(doc["kind"], doc["metadata"]["name"])] = doc
    return found


BASE = documents(K8S / "base")
PODS = {
    "api": BASE[("Deployment", "acre-api")],
    "worker": BASE[("Deployment", "acre-worker")],
    "migrate": BASE[("Job", "acre-migrate")],
}


def container(workload: dict[str, Any]) -> dict[str, Any]:
    containers = workload["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]  # type: ignore[no-any-return]


def settings_reaching(workload: dict[str, Any]) -> dict[str, str]:
    """Setting name → where it comes from (``config`` or ``secret``)."""
    spec = container(workload)
    reached: dict[str, str] = {}
    for source in spec.get("envFrom", []):
        config = BASE[("ConfigMap", source["configMapRef"]["name"])]
        reached.update(dict.fromkeys(config["data"], "config"))
    for entry in spec.get("env", []):
        ref = entry["valueFrom"]
        if "configMapKeyRef" in ref:
            assert ref["configMapKeyRef"]["key"] == entry["name"]
            reached[entry["name"]] = "config"
        else:
            assert ref["secretKeyRef"]["key"] == entry["name"]
            assert ref["secretKeyRef"]["name"] == "acre-secrets"
            reached[entry["name"]] = "secret"
    return reached


def test_the_readme_table_is_read() -> None:
    names = readme_settings()
    assert {"ACRE_SECRET_KEY", "ACRE_S3_SECRET_ACCESS_KEY", "ACRE_SENTRY_DSN", "ACRE_LOG_JSON"} <= names
    assert len(names) > 40


@pytest.mark.parametrize("pod", sorted(PODS))
def test_every_readme_setting_reaches_the_pod_and_nothing_else(pod: str) -> None:
    reached = settings_reaching(PODS[pod])
    assert sorted(readme_settings() - set(reached)) == [], "settings of the README the pod does not get"
    assert sorted(set(reached) - readme_settings()) == [], "settings the README does not describe"


def test_secrets_come_only_from_the_secret() -> None:
    reached = settings_reaching(PODS["api"])
    secret = {name for name in reached if name.endswith(SECRET_ENDINGS)} - NOT_SECRET
    must = {"ACRE_SIGNING_KEY_ENCRYPTION_KEY", "ACRE_DATABASE_URL", "ACRE_SECRET_KEY", "ACRE_SMTP_PASSWORD"}
    assert must <= secret
    assert {name: reached[name] for name in secret} == dict.fromkeys(secret, "secret")
    for kind, _ in BASE:
        assert kind != "Secret"  # never in the repository


def test_probes_draining_and_the_workers_grace() -> None:
    api = PODS["api"]["spec"]["template"]["spec"]
    main = container(PODS["api"])
    assert main["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert main["livenessProbe"]["httpGet"]["path"] == "/health"
    assert main["args"][0] == "serve" and main["resources"]["requests"]
    drain = int(main["lifecycle"]["preStop"]["exec"]["command"][1])
    assert api["terminationGracePeriodSeconds"] > drain + 20
    worker = PODS["worker"]["spec"]["template"]["spec"]
    assert worker["terminationGracePeriodSeconds"] > SHUTDOWN_WAIT_SECONDS
    assert container(PODS["worker"])["livenessProbe"]["exec"]["command"] == ["acre", "worker", "--check"]
    assert container(PODS["migrate"])["args"] == ["migrate"]
    assert ("HorizontalPodAutoscaler", "acre-api") in BASE and ("PodDisruptionBudget", "acre-api") in BASE
    assert any(kind == "NetworkPolicy" for kind, _ in BASE)


def test_the_migration_job_goes_first_with_what_it_needs() -> None:
    first = {
        key for key, doc in BASE.items() if doc["metadata"].get("labels", {}).get("acre/phase") == "migrate"
    }
    assert {("Job", "acre-migrate"), ("ConfigMap", "acre-config"), ("ServiceAccount", "acre")} <= first
    assert BASE[("Job", "acre-migrate")]["metadata"]["annotations"]["argocd.argoproj.io/hook"] == "PreSync"


@pytest.mark.parametrize("directory", ["base", "overlays/staging", "overlays/production"])
def test_kustomizations_name_files_that_exist_and_patch_what_the_base_has(directory: str) -> None:
    here = K8S / directory
    kustomization = yaml.safe_load((here / "kustomization.yaml").read_text())
    for resource in kustomization.get("resources", []):
        assert (here / resource).exists(), resource
    listed = set(kustomization.get("resources", [])) | {p["path"] for p in kustomization.get("patches", [])}
    assert {p.name for p in here.glob("*.yaml")} - {"kustomization.yaml"} == listed - {"../../base"}
    for patch in kustomization.get("patches", []):
        doc = yaml.safe_load((here / patch["path"]).read_text())
        assert (doc["kind"], doc["metadata"]["name"]) in BASE
