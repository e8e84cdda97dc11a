"""The SparkSession behind `--engine spark` (the `spark` extra): local mode, or an existing cluster.

Which Spark runs the queries, first match wins:

1. an explicit master URL: `--spark-master spark://host:7077` on the command line, or
   `engine="spark://host:7077"` from Python;
2. the `SPARK_MASTER` environment variable;
3. `local[2]`: a Spark inside this process, on two cores.

`SPARK_REMOTE` (Spark Connect) is refused with a `UsageError` naming the alternatives. Ibis 12's pyspark backend does
accept a Spark Connect session (`ibis.pyspark.connect(SparkSession.builder.remote(url).getOrCreate())`), and such a
connection can be passed as the engine from Python; cxbench does not open one itself because the Connect client
needs packages the `spark` extra does not install (`pyspark[connect]`: grpcio...) and the tests do not cover it.

On a cluster the executors read the source files themselves, so the folder must be at the same path on this
machine and on every worker (shared storage); a standalone cluster on this machine sees local paths.

A process holds one SparkContext, so one session serves the whole process: asking again for the same master
returns the same connection, and asking for a different one is a `UsageError`.
"""

from __future__ import annotations

import os
import re
import tempfile

from ibis.backends import BaseBackend

from cxbench.core.errors import UsageError

LOCAL_MASTER = "local[2]"

# Master URLs Spark itself accepts (https://spark.apache.org/docs/latest/submitting-applications.html#master-urls).
_MASTER_URL = re.compile(r"(spark|k8s)://\S+|local(\[(\d+|\*)(,\d+)?\])?|local-cluster\[\d+,\d+,\d+\]|yarn")


def is_master_url(text: str) -> bool:
    """Whether `text` is a Spark master URL (`spark://host:7077`, `local[4]`, `yarn`, `k8s://...`)."""
    return _MASTER_URL.fullmatch(text) is not None


def resolve_master(master: str | None = None) -> str:
    """The master URL a Spark run uses: `master`, else `SPARK_MASTER`, else `local[2]`.

    Raises UsageError when `SPARK_REMOTE` is set (Spark Connect, see the module docstring) or the URL is not one
    Spark accepts.
    """
    remote = os.environ.get("SPARK_REMOTE", "").strip()
    if remote:
        raise UsageError(
            f"SPARK_REMOTE={remote} asks for Spark Connect, which cxbench's Spark engine does not open. Unset "
            "SPARK_REMOTE and give the cluster's master instead (--spark-master spark://HOST:7077, or SPARK_MASTER), "
            "or from Python pass a session you opened: cxbench.compute(..., engine=ibis.pyspark.connect("
            "SparkSession.builder.remote(URL).getOrCreate())), which needs pip install 'pyspark[connect]'")
    chosen = (master or os.environ.get("SPARK_MASTER") or LOCAL_MASTER).strip()
    if not is_master_url(chosen):
        origin = "--spark-master" if master else "SPARK_MASTER"
        raise UsageError(f"{origin} {chosen!r} is not a Spark master URL: use spark://HOST:PORT (a standalone "
                         "cluster), yarn, k8s://HOST:PORT or local[N]")
    return chosen


_connections: dict[str, BaseBackend] = {}  # at most one: the master of this process's session


def spark_connection(master: str | None = None) -> BaseBackend:
    """An Ibis connection on the SparkSession of `master` (see `resolve_master`), made once per process."""
    chosen = resolve_master(master)
    if chosen not in _connections:
        if _connections:
            raise UsageError(f"this process already runs Spark on {next(iter(_connections))}; a process holds one "
                             f"SparkContext, so run cxbench on {chosen} in another process")
        _connections[chosen] = _connect(chosen)
    return _connections[chosen]


def local_spark_connection(cores: int = 2) -> BaseBackend:
    """An Ibis connection on a local-mode SparkSession with `cores` cores, made once per process."""
    return spark_connection(f"local[{cores}]")


def _connect(master: str) -> BaseBackend:
    """The session on `master`.

    Spark's own warehouse goes to a temporary folder so reruns never meet `LOCATION_ALREADY_EXISTS`. In local mode
    the driver does all the work: as many shuffle partitions as cores (at least 2), 2 GB for the driver, no web
    UI. On a cluster the cluster's and `spark-defaults.conf`'s settings apply (executor memory and cores, shuffle
    partitions, the UI...).
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise UsageError("the Spark engine needs the spark extra: pip install 'cxbench[spark]' "
                         "(and Java 17 on the PATH)") from exc
    import ibis

    local = master.startswith("local")
    builder = (
        SparkSession.builder.master(master)
        .appName("cxbench")
        .config("spark.sql.warehouse.dir", tempfile.mkdtemp(prefix="cxbench-spark-"))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.showConsoleProgress", "false")  # no progress bars over the CLI's standard error
    )
    if local:
        # Local mode stays on the loopback interface. On a cluster the executors connect back to the driver, so
        # its address (SPARK_LOCAL_IP, spark.driver.host) is left to the user's environment.
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        match = re.search(r"\[(\d+)", master)
        cores = int(match.group(1)) if match else os.cpu_count() or 2
        # Whole-stage code generation off: validation's one CASE over every contract check makes a Java method
        # too large to compile, and Spark spends 10-15 s per query failing before it falls back (a two-metric
        # run: 38 s with it, 16 s without). Adaptive execution off: with one machine's few shuffle partitions it
        # has nothing to coalesce and adds stages to every query (the survey tests on Spark: 112 s -> 104 s).
        # On a cluster spark-defaults.conf decides.
        builder = (builder.config("spark.ui.enabled", "false")
                   .config("spark.sql.shuffle.partitions", str(max(2, cores)))
                   .config("spark.driver.memory", "2g")
                   .config("spark.sql.codegen.wholeStage", "false")
                   .config("spark.sql.adaptive.enabled", "false"))
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # noqa: BLE001 - Py4J/JVM start-up errors become one line
        text = str(exc).strip().splitlines()
        raise UsageError(f"could not start Spark on {master} ({text[0] if text else type(exc).__name__}). "
                         "Check the master URL, that the cluster is up, and Java 17 on the PATH.") from exc
    session.sparkContext.setLogLevel("ERROR")
    return ibis.pyspark.connect(session)
