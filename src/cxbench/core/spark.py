"""A local SparkSession for `--engine spark` (the `spark` extra)."""

from __future__ import annotations

import os
import tempfile
from functools import cache

from ibis.backends import BaseBackend

from cxbench.core.errors import UsageError


@cache
def local_spark_connection(cores: int = 2) -> BaseBackend:
    """An Ibis connection on a local-mode SparkSession, made once per process.

    Spark's own warehouse goes to a temporary folder so reruns never meet `LOCATION_ALREADY_EXISTS`.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise UsageError("the Spark engine needs the spark extra: pip install 'cxbench[spark]' "
                         "(and Java 17 on the PATH)") from exc
    import ibis

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    warehouse = tempfile.mkdtemp(prefix="cxbench-spark-")
    session = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName("cxbench")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", str(max(2, cores)))
        .config("spark.sql.warehouse.dir", warehouse)
        .config("spark.driver.memory", "2g")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return ibis.pyspark.connect(session)
