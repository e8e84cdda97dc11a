"""`--spark-master`: the same command on a Spark cluster, and how the master is chosen.

The cluster test starts a Spark standalone master and one worker on 127.0.0.1 with the `spark-class` script that
ships in the pyspark wheel, runs `cxbench run` on it in a subprocess, and checks the records are those of DuckDB.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import answers, write_tables
from cxbench.cli import app
from cxbench.core.errors import UsageError
from cxbench.core import spark
from cxbench.core.spark import is_master_url, resolve_master

runner = CliRunner()
CXBENCH = Path(sys.executable).parent / "cxbench"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _master_state(webui_port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{webui_port}/json/", timeout=2) as response:
        return json.load(response)


def _stop(process: subprocess.Popen) -> None:
    """End the daemon and what it started (the worker's executors), all in the process group it leads."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


class Cluster:
    def __init__(self, url: str, webui_port: int, env: dict[str, str]) -> None:
        self.url, self.webui_port, self.env = url, webui_port, env

    def app_names(self) -> list[str]:
        state = _master_state(self.webui_port)
        return [a["name"] for a in state["activeapps"] + state["completedapps"]]


@pytest.fixture(scope="session")
def spark_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A standalone master and one worker (1 core, 1 GB) on 127.0.0.1, stopped at the end of the session."""
    import pyspark

    spark_home = Path(pyspark.__file__).parent
    spark_class = spark_home / "bin" / "spark-class"
    base = tmp_path_factory.mktemp("spark-cluster")
    conf = base / "conf"
    conf.mkdir()
    # The standard Spark configuration, read by the daemons and by the driver cxbench starts (SPARK_CONF_DIR).
    # For speed on one core and a dozen rows: two shuffle partitions instead of 200, and no whole-stage code
    # generation (Janino spends about 15 s on a generated class for validation that it then fails to compile).
    (conf / "spark-defaults.conf").write_text("spark.sql.shuffle.partitions 2\n"
                                              "spark.sql.codegen.wholeStage false\n"
                                              "spark.executor.memory 512m\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("SPARK_REMOTE", "SPARK_MASTER")}
    env.update(SPARK_HOME=str(spark_home), SPARK_LOCAL_IP="127.0.0.1", SPARK_CONF_DIR=str(conf),
               SPARK_WORKER_DIR=str(base / "work"))
    port, webui_port, worker_webui_port = _free_port(), _free_port(), _free_port()
    url = f"spark://127.0.0.1:{port}"
    commands = {
        "master": [spark_class, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                   "--port", str(port), "--webui-port", str(webui_port)],
        "worker": [spark_class, "org.apache.spark.deploy.worker.Worker", url, "--host", "127.0.0.1",
                   "--cores", "1", "--memory", "1g", "--webui-port", str(worker_webui_port)],
    }
    processes: dict[str, subprocess.Popen] = {}
    logs = {name: base / f"{name}.log" for name in commands}
    try:
        for name, command in commands.items():
            with logs[name].open("wb") as log:
                processes[name] = subprocess.Popen([str(c) for c in command], env=env, stdout=log,
                                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                                   start_new_session=True)
        deadline = time.monotonic() + 60
        while True:
            for name, process in processes.items():
                if process.poll() is not None:
                    pytest.fail(f"the Spark {name} exited with {process.returncode}:\n"
                                + logs[name].read_text(errors="replace")[-3000:])
            try:
                if _master_state(webui_port).get("aliveworkers", 0) >= 1:
                    break
            except OSError:
                pass  # the master's web UI is not up yet
            if time.monotonic() > deadline:
                pytest.fail("no Spark worker registered within 60 s:\n"
                            + "\n".join(logs[n].read_text(errors="replace")[-2000:] for n in logs))
            time.sleep(0.5)
        yield Cluster(url, webui_port, env)
    finally:
        for name in ("worker", "master"):
            if name in processes:
                _stop(processes[name])


def _start(*args: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([str(CXBENCH), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, text=True)


def _json_of(process: subprocess.Popen) -> dict:
    try:
        stdout, stderr = process.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    assert process.returncode == 0, stderr[-3000:]
    return json.loads(stdout)


@pytest.mark.spark
@pytest.mark.xdist_group("spark_cluster")  # its Spark runs in other processes: no need to queue behind the session
def test_run_on_a_standalone_cluster_gives_the_records_of_duckdb(spark_cluster: Cluster, tmp_path: Path):
    rows = answers("nps", {10: 3, 9: 2, 8: 1, 7: 1, 6: 1, 3: 1, 0: 1})
    rows += answers("csat", {5: 2, 4: 1, 2: 1}, start=100)
    rows += answers("nps", {9: 1, 2: 1}, start=200, ts="2026-09-20T10:00:00Z")
    folder = write_tables(tmp_path / "data", {"surveys": rows})
    common = ("run", str(folder), "--format", "json", "--metric", "nps", "--metric", "csat", "--metric", "csat_mean")
    duckdb = _start(*common, "--engine", "duckdb", env=spark_cluster.env)  # meanwhile, the reference
    on_cluster = _json_of(_start(*common, "--engine", "spark", "--spark-master", spark_cluster.url,
                                 env=spark_cluster.env))
    on_duckdb = _json_of(duckdb)

    assert "cxbench" in spark_cluster.app_names()  # the run was the cluster's, not a local session's
    assert on_cluster["inputs"] == on_duckdb["inputs"]
    assert on_cluster["metrics"] == on_duckdb["metrics"]
    values = {(r["id"], r["period_start"]): (r["value"], r["n"]) for r in on_cluster["metrics"]
              if r["status"] == "ok" and r["segment"] == {} and "dimension" not in r}
    # October NPS: 10 answers, 5 promoters (three 10s, two 9s), 2 passives (8, 7), 3 detractors (6, 3, 0):
    # (5 − 3) / 10 × 100 = +20. September: one 9 and one 2 → (1 − 1) / 2 = 0.
    assert values[("nps", "2026-10-01")] == (pytest.approx(20.0), 10)
    assert values[("nps", "2026-09-01")] == (pytest.approx(0.0), 2)
    # CSAT: 4s and 5s are satisfied, 3 of 4 answers → 75 %; the mean is (5 + 5 + 4 + 2) / 4 = 4.
    assert values[("csat", "2026-10-01")] == (pytest.approx(75.0), 4)
    assert values[("csat_mean", "2026-10-01")] == (pytest.approx(4.0), 4)


@pytest.mark.parametrize("text", ["spark://10.0.0.5:7077", "local", "local[4]", "local[*]", "yarn",
                                  "k8s://https://kube:6443"])
def test_master_urls_spark_accepts_are_recognised(text: str):
    assert is_master_url(text)


@pytest.mark.parametrize("text", ["spark", "duckdb", "10.0.0.5:7077", "sc://localhost:15002", "spark://"])
def test_other_text_is_no_master_url(text: str):
    assert not is_master_url(text)


def test_master_is_the_option_then_spark_master_then_local(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("SPARK_REMOTE", raising=False)
    monkeypatch.delenv("SPARK_MASTER", raising=False)
    assert resolve_master() == "local[2]"
    monkeypatch.setenv("SPARK_MASTER", "spark://env-host:7077")
    assert resolve_master() == "spark://env-host:7077"
    assert resolve_master("spark://option-host:7077") == "spark://option-host:7077"


def test_spark_master_with_engine_duckdb_is_a_usage_error(tmp_path: Path):
    folder = write_tables(tmp_path / "data", {"surveys": answers("nps", {9: 1})})
    result = runner.invoke(app, ["validate", str(folder), "--engine", "duckdb", "--spark-master", "spark://h:7077"])
    assert result.exit_code == 2
    assert "--spark-master" in result.stderr and "--engine duckdb" in result.stderr


def test_spark_master_that_is_no_url_is_a_usage_error_before_spark_starts(tmp_path: Path):
    folder = write_tables(tmp_path / "data", {"surveys": answers("nps", {9: 1})})
    result = runner.invoke(app, ["run", str(folder), "--spark-master", "localhost:7077"])
    assert result.exit_code == 2
    assert "not a Spark master URL" in result.stderr and "spark://HOST:PORT" in result.stderr


def test_spark_remote_is_refused_naming_the_alternative(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    # Spark Connect: Ibis 12's pyspark backend takes such a session, but cxbench does not open one (module doc).
    monkeypatch.setenv("SPARK_REMOTE", "sc://localhost:15002")
    folder = write_tables(tmp_path / "data", {"surveys": answers("nps", {9: 1})})
    result = runner.invoke(app, ["validate", str(folder), "--engine", "spark"])
    assert result.exit_code == 2
    assert "Spark Connect" in result.stderr and "--spark-master" in result.stderr
    with pytest.raises(UsageError, match="SPARK_REMOTE"):
        resolve_master("spark://h:7077")


@pytest.mark.spark
def test_one_spark_session_serves_the_process(spark_connection, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("SPARK_REMOTE", raising=False)
    assert spark.spark_connection("local[2]") is spark_connection
    with pytest.raises(UsageError, match=r"already runs Spark on local\[2\]"):
        spark.spark_connection("spark://127.0.0.1:1")
