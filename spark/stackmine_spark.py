"""stackmine on Apache Spark: one implementation of every computation.

The Rust binary does the work that costs per question (classifying, ingest);
Spark distributes it. Run with spark-submit (see spark/README.md):

  spark-submit stackmine_spark.py classify --questions Q.parquet --out DIR \
      --binary stackmine --model-file model.json [--encoder DIR] [--embeddings E.parquet]
  spark-submit stackmine_spark.py stats --export DIR [--json OUT.json]
  spark-submit stackmine_spark.py ingest --study-toml study.toml --out DIR \
      --binary stackmine ARCHIVE[=DUMP] ...

`classify` pipes each partition's Arrow batches through
`stackmine classify --stdin` (mapInArrow), `stats` computes Table I and the
answer statistics of `stackmine stats --json` in Spark SQL, and `ingest` runs
`stackmine ingest` + `stackmine export` per archive on the executors.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading

from pyspark.sql import SparkSession, functions as F

CLASSIFICATIONS_SCHEMA = "site string, post_id long, category string, confidence double, model string"
QUESTION_COLUMNS = ["site", "id", "title", "body_text", "code_text", "tags"]


def _ship_self(spark):
    """Ships this module, which the tasks' functions live in, to the executors."""
    spark.sparkContext.addPyFile(os.path.abspath(__file__))


def _ship(spark, path, recursive=False):
    """Ships a local file (or folder) to every executor; returns its name there."""
    spark.sparkContext.addFile(os.path.abspath(path), recursive=recursive)
    return os.path.basename(os.path.abspath(path).rstrip("/"))


def _local(name):
    from pyspark import SparkFiles

    return SparkFiles.get(name)


def _binary(name):
    exe = _local(name)
    if not os.access(exe, os.X_OK):
        os.chmod(exe, 0o755)
    return exe


def pipe_batches(cmd, batches):
    """Streams Arrow record batches through `cmd` (Arrow IPC on stdin and
    stdout); yields the output batches. A failing command fails the task with
    its stderr."""
    import pyarrow as pa

    batches = iter(batches)
    first = next(batches, None)
    if first is None:
        return
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    errors = []
    stderr = []

    def feed():
        try:
            with pa.ipc.new_stream(proc.stdin, first.schema) as w:
                w.write_batch(first)
                for b in batches:
                    w.write_batch(b)
        except Exception as e:  # the binary stopped reading: its stderr says why
            errors.append(e)
        finally:
            try:
                proc.stdin.close()
            except OSError:
                pass

    def drain():
        stderr.append(proc.stderr.read())

    threads = [threading.Thread(target=feed), threading.Thread(target=drain)]
    for t in threads:
        t.start()
    try:
        reader = pa.ipc.open_stream(proc.stdout)
        for b in reader:
            yield b
    except pa.ArrowInvalid:
        pass  # no stream: the exit status below says why
    for t in threads:
        t.join()
    code = proc.wait()
    if code != 0 or errors:
        msg = b"".join(stderr).decode("utf-8", "replace").strip()
        raise RuntimeError(f"{' '.join(cmd[:3])} failed (exit {code}): {msg or errors}")


def classify(spark, questions, out, binary, model_file, encoder=None, embeddings=None, partitions=None):
    """Classifies the questions Parquet at `questions` with the stackmine
    binary on every partition; writes classifications Parquet to `out`
    (columns site, post_id, category, confidence, model)."""
    model = json.load(open(model_file))
    _ship_self(spark)
    bin_name = _ship(spark, binary)
    model_name = _ship(spark, model_file)
    enc_name = _ship(spark, encoder, recursive=True) if encoder else None
    df = spark.read.parquet(questions).select(*QUESTION_COLUMNS)
    spec = (model.get("classifier") or {}).get("encoder")
    if embeddings and spec:
        # Cached embeddings of the model's encoder and token budget only, so a
        # question has at most one.
        e = (
            spark.read.parquet(embeddings)
            .where((F.col("encoder") == spec["fingerprint"]) & (F.col("max_tokens") == spec["max_tokens"]))
            .select("site", "id", "encoder", "max_tokens", "text_hash", F.col("vector").alias("embedding"))
        )
        df = df.join(e, ["site", "id"], "left")
    if partitions:
        df = df.repartition(partitions)

    def run(batches):
        cmd = [_binary(bin_name), "-q", "classify", "--stdin", "--model-file", _local(model_name)]
        if enc_name:
            cmd += ["--encoder", _local(enc_name)]
        yield from pipe_batches(cmd, batches)

    result = df.mapInArrow(run, CLASSIFICATIONS_SCHEMA)
    result.write.mode("overwrite").option("compression", "zstd").parquet(out)
    return out


# --- stats -------------------------------------------------------------------

HOUR_MS = 3_600_000.0


def _hours(col):
    return F.struct(
        F.avg(col).alias("mean"),
        F.percentile(col, 0.5).alias("median"),
        F.percentile(col, 0.25).alias("q1"),
        F.percentile(col, 0.75).alias("q3"),
        F.count(col).alias("n"),
    )


def question_facts(spark, export):
    """One row per question with what `stats` reads: view count, accepted
    answer (and its time when the dump holds it), the first answer's time,
    the creation year and the frameworks."""
    q = spark.read.parquet(os.path.join(export, "questions.parquet"))
    a = spark.read.parquet(os.path.join(export, "answers.parquet"))
    fw = spark.read.parquet(os.path.join(export, "question_frameworks.parquet"))
    first = a.groupBy("site", F.col("parent_id").alias("id")).agg(F.min("created_ms").alias("first_answer_ms"))
    acc = a.select(
        "site",
        F.col("id").alias("accepted_answer_id"),
        F.col("parent_id").alias("id"),
        F.col("created_ms").alias("accepted_ms"),
    )
    facts = (
        q.select("site", "id", "created", "created_ms", "view_count", "accepted_answer_id")
        .join(first, ["site", "id"], "left")
        .join(acc, ["site", "id", "accepted_answer_id"], "left")
        .withColumn("year", F.substring("created", 1, 4))
        .withColumn("to_accepted", (F.col("accepted_ms") - F.col("created_ms")) / F.lit(HOUR_MS))
        .withColumn("to_first", (F.col("first_answer_ms") - F.col("created_ms")) / F.lit(HOUR_MS))
    )
    return facts, fw


def _group(df):
    n = F.count(F.lit(1))
    accepted = F.count("accepted_answer_id")
    unanswered = F.sum(F.when(F.col("first_answer_ms").isNull(), 1).otherwise(0))
    return df.agg(
        n.alias("questions"),
        F.struct(
            F.max("view_count").alias("max"),
            F.percentile("view_count", 0.75).alias("q3"),
            F.percentile("view_count", 0.5).alias("median"),
            F.count("view_count").alias("n"),
        ).alias("views"),
        accepted.alias("accepted_count"),
        F.count("accepted_ms").alias("accepted_resolved"),
        _hours(F.col("to_accepted")).alias("hours_to_accepted"),
        unanswered.alias("unanswered_count"),
        _hours(F.col("to_first")).alias("hours_to_first_answer"),
    )


def _shape(name, row, per_year):
    def pct(k, n):
        return 100.0 * k / n if n else None

    n = row["questions"]
    views = row["views"].asDict()
    acc, resolved = row["accepted_count"], row["accepted_resolved"]
    un = row["unanswered_count"] or 0
    return {
        "name": name,
        "questions": n,
        "views": views,
        "accepted": {"count": acc, "percent": pct(acc, n), "resolved": resolved, "missing": acc - resolved},
        "hours_to_accepted": row["hours_to_accepted"].asDict(),
        "unanswered": {"count": un, "percent": pct(un, n)},
        "hours_to_first_answer": row["hours_to_first_answer"].asDict(),
        "per_year": per_year,
    }


def stats(spark, export, frameworks=None):
    """Table I and the answer statistics of `stackmine stats --json`, per
    framework and for all questions, from an export folder. Percentiles are
    Spark's exact `percentile` (linear interpolation between closest ranks,
    numpy's default), so they equal stackmine's."""
    facts, fw = question_facts(spark, export)
    facts = facts.cache()
    if frameworks is None:
        frameworks = sorted(r["framework"] for r in fw.select("framework").distinct().collect())
    out = {"frameworks": [], "all": None}
    groups = [(f, facts.join(fw.where(F.col("framework") == f).select("site", F.col("question_id").alias("id")), ["site", "id"]))
              for f in frameworks]
    for name, df in groups + [("all", facts)]:
        row = _group(df).collect()[0]
        per_year = {r["year"]: r["count"] for r in df.groupBy("year").count().orderBy("year").collect()}
        g = _shape(name, row, per_year)
        if name == "all":
            out["all"] = g
        else:
            out["frameworks"].append(g)
    return out


# --- ingest ------------------------------------------------------------------

INGEST_TABLES = ["sites", "questions", "question_tags", "question_frameworks", "answers", "comments"]
BLOB_SCHEMA = "tbl string, dump string, seq long, data binary"
SPARK_TYPES = {"string": "string", "int64": "bigint", "float64": "double"}


def _spark_type(t):
    if t.startswith("fixed_size_list<float32"):
        return "array<float>"
    return SPARK_TYPES[t]


def ingest(spark, archives, out, binary, study_toml, all_questions=False):
    """Ingests each archive (`PATH` or `PATH=DUMP`, one per site or per dump
    date) into its own study on an executor and exports it; writes one
    Parquet dataset per table under `out`, partitioned by site and dump."""
    import pyarrow as pa

    _ship_self(spark)
    bin_name = _ship(spark, binary)
    toml_name = _ship(spark, study_toml)
    specs = []
    for a in archives:
        path, _, dump = a.partition("=")
        path = os.path.abspath(path)
        specs.append((path, dump or os.path.basename(path.rstrip("/"))))
    jobs = spark.createDataFrame(specs, "path string, dump string").repartition(len(specs))

    def run(batches):
        import pyarrow.parquet as pq

        exe = _binary(bin_name)
        for b in batches:
            for path, dump in zip(b.column("path").to_pylist(), b.column("dump").to_pylist()):
                work = tempfile.mkdtemp(prefix="stackmine-ingest-")
                try:
                    study = os.path.join(work, "study")
                    os.makedirs(study)
                    shutil.copy(_local(toml_name), os.path.join(study, "study.toml"))
                    cmd = [exe, "-q", "ingest", path, "--study", study] + (["--all-questions"] if all_questions else [])
                    for c in (cmd, [exe, "-q", "export", "--study", study, "--out", os.path.join(work, "out"),
                                    "--tables", ",".join(INGEST_TABLES)]):
                        r = subprocess.run(c, capture_output=True)
                        if r.returncode != 0:
                            raise RuntimeError(f"stackmine {c[2]} {path} failed: {r.stderr.decode(errors='replace').strip()}")
                    schema = open(os.path.join(work, "out", "schema.json"), "rb").read()
                    yield pa.record_batch([pa.array(["schema.json"]), pa.array([dump]), pa.array([0]), pa.array([schema], pa.binary())],
                                          names=["tbl", "dump", "seq", "data"])
                    for t in INGEST_TABLES:
                        pf = pq.ParquetFile(os.path.join(work, "out", f"{t}.parquet"))
                        for seq, rb in enumerate(pf.iter_batches(batch_size=4096)):
                            sink = pa.BufferOutputStream()
                            with pa.ipc.new_stream(sink, rb.schema) as w:
                                w.write_batch(rb)
                            yield pa.record_batch([pa.array([t]), pa.array([dump]), pa.array([seq]),
                                                   pa.array([sink.getvalue().to_pybytes()], pa.binary())],
                                                  names=["tbl", "dump", "seq", "data"])
                finally:
                    shutil.rmtree(work, ignore_errors=True)

    blobs = jobs.mapInArrow(run, BLOB_SCHEMA).cache()
    schema_rows = blobs.where(F.col("tbl") == "schema.json").limit(1).collect()
    if not schema_rows:
        raise RuntimeError("no archive was ingested")
    schema = json.loads(bytes(schema_rows[0]["data"]))
    for table in schema["tables"]:
        name = table["name"]
        ddl = ", ".join(f"{c['name']} {_spark_type(c['type'])}" for c in table["columns"]) + ", dump string"

        def decode(batches, name=name):
            for b in batches:
                for data, dump in zip(b.column("data").to_pylist(), b.column("dump").to_pylist()):
                    for rb in pa.ipc.open_stream(data):
                        cols = rb.columns + [pa.array([dump] * rb.num_rows)]
                        yield pa.record_batch(cols, names=rb.schema.names + ["dump"])

        (blobs.where(F.col("tbl") == name).mapInArrow(decode, ddl)
         .write.mode("overwrite").option("compression", "zstd")
         .partitionBy("site", "dump").parquet(os.path.join(out, name)))
    blobs.unpersist()
    if "://" not in out:  # a local or shared folder: the tables' schema beside them
        with open(os.path.join(out, "schema.json"), "wb") as f:
            f.write(bytes(schema_rows[0]["data"]))
    return out


def main(argv=None):
    p = argparse.ArgumentParser(prog="stackmine_spark", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("classify", help="classify exported questions with the stackmine binary")
    c.add_argument("--questions", required=True, help="questions Parquet (export's questions.parquet, or a folder)")
    c.add_argument("--out", required=True, help="output folder of classifications Parquet")
    c.add_argument("--binary", required=True, help="the stackmine binary (glibc build) to ship")
    c.add_argument("--model-file", required=True, help="the model JSON to ship")
    c.add_argument("--encoder", help="the sentence encoder's folder to ship (hybrid models)")
    c.add_argument("--embeddings", help="exported embeddings Parquet, reused where they fit")
    c.add_argument("--partitions", type=int, help="repartition the questions into N partitions (N >= 1)")
    s = sub.add_parser("stats", help="Table I and answer statistics from an export")
    s.add_argument("--export", required=True, help="an export folder (stackmine export --out)")
    s.add_argument("--frameworks", help="framework keys, comma-separated, in order (default: those found)")
    s.add_argument("--json", help="write the JSON here (default: stdout)")
    i = sub.add_parser("ingest", help="ingest + export each archive on the executors")
    i.add_argument("archives", nargs="+", help="dump archives or folders, PATH or PATH=DUMP")
    i.add_argument("--out", required=True)
    i.add_argument("--binary", required=True)
    i.add_argument("--study-toml", required=True)
    i.add_argument("--all-questions", action="store_true")
    a = p.parse_args(argv)
    # Workers run the same Python as the driver unless told otherwise (local
    # mode; on a cluster set PYSPARK_PYTHON to the executors' interpreter).
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    spark = SparkSession.builder.appName(f"stackmine {a.cmd}").getOrCreate()
    try:
        if a.cmd == "classify":
            classify(spark, a.questions, a.out, a.binary, a.model_file, a.encoder, a.embeddings, a.partitions)
        elif a.cmd == "stats":
            fws = a.frameworks.split(",") if a.frameworks else None
            text = json.dumps(stats(spark, a.export, fws), indent=2, sort_keys=True)
            if a.json:
                open(a.json, "w").write(text + "\n")
            else:
                print(text)
        else:
            ingest(spark, a.archives, a.out, a.binary, a.study_toml, a.all_questions)
    finally:
        spark.stop()


if __name__ == "__main__":
    sys.exit(main())
