"""Benchmark: catalogue search at scale, through HTTP, beside a naive icontains + COUNT baseline.

    .venv/bin/python -m tests.benchmarks.search --assets 100000 [--versions 100000] [--runs 15] [--keep]
        [--database NAME] [--backends postgres,memory]

Creates a PostgreSQL database of its own (named after DATABASE_URL's server, default
postgres://postgres@127.0.0.1:5432, with a unique name), migrates it and loads through bulk SQL (COPY):
`--assets` assets (names from domain, task and algorithm words; 2 to 6 tags each, Zipf-distributed over a
vocabulary of 3,000; summaries and descriptions of a few sentences; 50 teams; models, datasets and
solutions; a fifth private) and one asset with `--versions` versions. The search indexes are built after
the load and the derived tables (facet counts, vocabulary) filled by the search backend's own SQL. Release
statuses are a fixed mix (most approved or validated).

It then starts a gunicorn per search backend (`--backends`; as production runs it: gthread workers,
keep-alive) and measures, with one keep-alive connection per user and server, pages of 100 for a mixed set
of query types, as a member of three teams and as an outsider, the servers' requests interleaved, and
prints p50/p95 per type and backend, the first search's time (the in-memory backend loads its index then)
and the workers' RSS. The baseline runs the same queries the naive way
(every word `icontains` over name, tags, summary and description, filters, COUNT(*) and a first page by
-updated; no facets) straight on the database, fewer times (it is slow). It also prints what serialising
a page of 100 costs in-process. The database is dropped at the end unless --keep.

Not collected by pytest (tests/ only collects test_*.py).
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from datetime import UTC, datetime, timedelta
from importlib import import_module
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[2]
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432"
TEAMS = 50
MEMBER_TEAMS = 3

DOMAINS = (
    "fraud churn credit sentiment retail insurance energy weather traffic medical radiology genomics "
    "protein speech music legal finance marketing supply logistics manufacturing agriculture satellite "
    "cyber network telecom gaming sports news ecommerce recommendation advertising housing mortgage "
    "payroll hiring education chemistry materials battery solar wind seismic ocean climate aviation "
    "shipping railway automotive robotics drone retina dermatology cardiology oncology pathology "
    "pharmacy vaccine epidemiology crime"
).split()
TASKS_WORDS = (
    "detection classification regression forecasting segmentation ranking clustering "
    "anomaly tagging summarization translation recognition scoring prediction extraction "
    "generation captioning retrieval estimation parsing"
).split()
ALGORITHMS = (
    "xgboost lightgbm catboost resnet efficientnet vit bert roberta distilbert gpt llama mistral t5 "
    "whisper wav2vec lstm gru transformer randomforest logistic svm knn unet yolo detr clip "
    "prophet arima tabnet autoencoder gan diffusion"
).split()
TASKS = (
    "tabular-classification tabular-regression image-classification object-detection image-segmentation "
    "text-classification token-classification question-answering summarization translation "
    "text-generation speech-recognition audio-classification time-series-forecasting "
    "anomaly-detection recommendation feature-extraction zero-shot-classification fill-mask "
    "sentence-similarity depth-estimation video-classification"
).split()
LICENSES = (
    "MIT Apache-2.0 BSD-3-Clause GPL-3.0-only CC-BY-4.0 CC-BY-SA-4.0 CC0-1.0 MPL-2.0 "
    "LGPL-3.0-only AGPL-3.0-only Unlicense LicenseRef-internal"
).split()
FRAMEWORKS = "pytorch tensorflow sklearn onnx jax xgboost keras".split()
SYLLABLES = "ka lo mi ra tu ve sa no pe di fa gu ri zo ne ta ba lu mo si".split()
GENERAL = (
    "trained evaluated dataset benchmark accuracy latency robust production pipeline features "
    "labelled samples validation holdout baseline improved deployment monitoring drift calibrated "
    "quantised exported onnx inference batch realtime historical records customers sensors images "
    "documents signals hourly daily weekly regional global english multilingual"
).split()
STATUSES = ("approved", "validated", "in_review", "validating", "rejected", "invalid", "deprecated", "")
STATUS_WEIGHTS = (40, 25, 8, 2, 5, 5, 5, 10)


def _admin(url: str):
    import dj_database_url
    import psycopg2

    cfg = dj_database_url.parse(url + "/postgres")
    conn = psycopg2.connect(
        dbname="postgres",
        user=cfg["USER"],
        password=cfg["PASSWORD"] or None,
        host=cfg["HOST"] or "127.0.0.1",
        port=cfg["PORT"] or 5432,
    )
    conn.autocommit = True
    return conn


def _setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("MODELHUB_DATA_DIR", tempfile.mkdtemp(prefix="modelhub-bench-search-"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "marketplace.settings"
    # Benchmarks measure the portal, not its rate limits (which still count every request).
    os.environ.setdefault("MODELHUB_API_RATE_PER_TOKEN", "1000000/second")
    os.environ.setdefault("MODELHUB_API_RATE_PER_ADDRESS", "1000000/second")
    os.environ["MODELHUB_WEB_STATEMENT_TIMEOUT_MS"] = "0"
    sys.path.insert(0, str(REPO))
    import django

    django.setup()


def _tag_vocabulary(rng: random.Random) -> list[str]:
    bases = DOMAINS + ALGORITHMS + TASKS_WORDS + GENERAL
    words = set()
    while len(words) < 3000:
        base = rng.choice(bases)
        tail = "".join(rng.choice(SYLLABLES) for _ in range(rng.choice((1, 2))))
        words.add(f"{base}-{tail}" if rng.random() < 0.8 else base)
    return sorted(words)


def _sentence(rng: random.Random, domain: str, task: str, algo: str) -> str:
    words = rng.sample(GENERAL, 6)
    return rng.choice(
        (
            f"This {algo} model was {words[0]} on {words[1]} {domain} {words[2]} for {task}.",
            f"It reaches good {words[0]} on the {domain} {words[1]} benchmark with {words[2]} {words[3]}.",
            f"Use it for {domain} {task} on {words[0]} {words[1]}; {words[2]} and {words[3]} are documented.",
            f"The {words[0]} {words[1]} was {words[2]} before {task} with {algo}.",
        )
    )


def load(assets: int, versions: int, seed: int = 0) -> dict:
    """Bulk-load the catalogue; returns the users, a big asset and query material."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from registry.search.backends.postgres import FACET_COUNTS_SQL, VOCABULARY_SQL
    from registry.tokens.services import token_create

    migration = import_module("marketplace.migrations.0009_search")
    rng = random.Random(seed)
    User = get_user_model()
    member = User.objects.create_user(username="member", password="x")
    outsider = User.objects.create_user(username="outsider", password="x")
    now = datetime.now(UTC)
    tags = _tag_vocabulary(rng)
    weights = [1 / (i + 1) for i in range(len(tags))]  # Zipf: a few tags are everywhere, most are rare
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO registry_team (slug, name, description, created_at) "
            "SELECT 'team-' || i, 'Team ' || i, '', now() FROM generate_series(0, %s) i RETURNING id",
            [TEAMS - 1],
        )
        team_ids = sorted(row[0] for row in cursor.fetchall())
        for team_id in team_ids[:MEMBER_TEAMS]:
            cursor.execute(
                "INSERT INTO registry_membership (team_id, user_id, role, created_at) VALUES (%s, %s, 'member', now())",
                [team_id, member.pk],
            )
        for name in migration.POSTGRES_INDEXES:
            if name.startswith("asset_"):
                cursor.execute(f"DROP INDEX {name}")
    started = time.perf_counter()
    columns = (
        "kind, team_id, name, slug, summary, description, license, task, framework, visibility, "
        "created_by_id, created_at, updated_at, tags_text, latest_version, version_count, status"
    )
    raw = connection.connection
    chunk = 50_000
    for first in range(0, assets, chunk):
        buffer = io.StringIO()
        for i in range(first, min(first + chunk, assets)):
            domain, task_word, algo = rng.choice(DOMAINS), rng.choice(TASKS_WORDS), rng.choice(ALGORITHMS)
            kind = rng.choices(("model", "dataset", "solution"), (6, 3, 1))[0]
            name = f"{domain} {task_word} {algo}" if kind != "dataset" else f"{domain} {task_word} data"
            slug = f"{name.replace(' ', '-')}-{i}"
            asset_tags = sorted(set(rng.choices(tags, weights, k=rng.randint(2, 6))))
            summary = f"A {algo} {kind} for {domain} {task_word}."
            description = " ".join(_sentence(rng, domain, task_word, algo) for _ in range(rng.randint(2, 4)))
            created = now - timedelta(seconds=rng.randint(0, 3 * 365 * 86400))
            updated = created + timedelta(seconds=rng.randint(0, 86400 * 30))
            buffer.write(
                "\t".join(
                    (
                        kind,
                        str(rng.choice(team_ids)),
                        name,
                        slug,
                        summary,
                        description,
                        rng.choice(LICENSES),
                        rng.choice(TASKS),
                        rng.choice(FRAMEWORKS),
                        "private" if rng.random() < 0.2 else "internal",
                        str(member.pk),
                        created.isoformat(),
                        updated.isoformat(),
                        " ".join(asset_tags),
                        "",
                        "0",
                        rng.choices(STATUSES, STATUS_WEIGHTS)[0],
                    )
                )
                + "\n"
            )
        buffer.seek(0)
        with raw.cursor() as cursor:
            cursor.copy_expert(f"COPY registry_asset ({columns}) FROM STDIN", buffer)
        raw.commit()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO registry_asset (kind, team_id, name, slug, summary, description, license, task, "
            "framework, visibility, created_by_id, created_at, updated_at, tags_text, latest_version, "
            "version_count) VALUES ('model', %s, 'fraud scoring giant', 'giant', 'Many versions.', '', "
            "'MIT', 'tabular-classification', 'onnx', 'internal', %s, now(), now(), 'big', '', 0) "
            "RETURNING id",
            [team_ids[0], member.pk],
        )
        giant = cursor.fetchone()[0]
    buffer = io.StringIO()
    for n in range(versions):
        major, minor, patch = n // 10_000, (n // 100) % 100, n % 100
        buffer.write(
            f"{giant}\t{major}.{minor}.{patch}\t{major}\t{minor}\t{patch}\t\tf\tvalidated\t{now.isoformat()}\t"
            f"{{}}\tmodel.onnx\t{'0' * 64}\t1\t\t{member.pk}\t{now.isoformat()}\t{now.isoformat()}\n"
        )
    buffer.seek(0)
    with raw.cursor() as cursor:
        cursor.copy_expert(
            "COPY registry_assetversion (asset_id, version, major, minor, patch, prerelease, "
            "is_prerelease, status, status_changed_at, metadata, filename, sha256, size, "
            "deprecation_reason, created_by_id, created_at, updated_at) FROM STDIN",
            buffer,
        )
    raw.commit()
    loaded = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE registry_asset SET version_count = %s, latest_version = %s WHERE id = %s",
            [versions, f"{(versions - 1) // 10_000}.{((versions - 1) // 100) % 100}.{(versions - 1) % 100}", giant],
        )
        for name, statement in migration.POSTGRES_INDEXES.items():
            if name.startswith("asset_"):
                cursor.execute(statement)
        indexed = time.perf_counter() - started
        cursor.execute(FACET_COUNTS_SQL)
        cursor.execute(VOCABULARY_SQL)
    reset_change_log()
    raw.autocommit = True
    with raw.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return {
        "member": member,
        "outsider": outsider,
        "tokens": {
            "member": token_create(user=member, name="bench")[1],
            "outsider": token_create(user=outsider, name="bench")[1],
        },
        "load_s": loaded,
        "index_s": indexed - loaded,
        "total_s": time.perf_counter() - started,
        "tags": tags,
        "giant": "team-0/giant",
    }


def reset_change_log() -> None:
    """What `search_rebuild` ends with, after a bulk load: the load's change log rows (the trigger logged every
    COPY row) go under a new epoch."""
    from django.db import connection

    from registry.search.backends.postgres import change_log_reset

    with connection.cursor() as cursor:
        change_log_reset(cursor)


def reuse() -> dict:
    """The users and material of a database an earlier run kept (migrated to the current schema)."""
    from django.contrib.auth import get_user_model

    from registry.assets.models import Asset
    from registry.tokens.services import token_create

    User = get_user_model()
    member, outsider = User.objects.get(username="member"), User.objects.get(username="outsider")
    giant = Asset.objects.get(slug="giant")
    return {
        "member": member,
        "outsider": outsider,
        "assets": Asset.objects.count() - 1,
        "versions": giant.version_count,
        "tags": _tag_vocabulary(random.Random(0)),
        "tokens": {
            "member": token_create(user=member, name="bench")[1],
            "outsider": token_create(user=outsider, name="bench")[1],
        },
    }


def query_mix(rng: random.Random, tags: list[str], deep_cursor: str, deep_version_cursor: str) -> dict[str, list[str]]:
    def some(seq, n=8):
        return [rng.choice(seq) for _ in range(n)]

    def typo(word):
        i = rng.randrange(1, len(word) - 1)
        return word[:i] + word[i + 1 :]

    common_tags = tags[:60]  # the Zipf head, where a filter matches the most assets
    mix = {
        "word": [f"q={w}" for w in some(DOMAINS)],
        "two words": [f"q={d}+{a}" for d, a in zip(some(DOMAINS), some(ALGORITHMS), strict=True)],
        "prefix": [f"q={w[:4]}" for w in some([w for w in DOMAINS if len(w) >= 6])],
        "typo": [f"q={typo(w)}" for w in some([w for w in DOMAINS if len(w) >= 6])],
        "substring": [f"q={w[1:]}" for w in some([w for w in DOMAINS if len(w) >= 6])],
        "tag": [f"tag={t}" for t in some(common_tags)],
        "task": [f"task={t}" for t in some(TASKS)],
        "word + tag": [f"q={w}&tag={t}" for w, t in zip(some(DOMAINS), some(common_tags), strict=True)],
        "word + task": [f"q={w}&task={t}" for w, t in zip(some(DOMAINS), some(TASKS), strict=True)],
        "word + status": [f"q={w}&status=approved" for w in some(DOMAINS)],
        "kind": [f"kind={k}" for k in some(("model", "dataset", "solution"))],
        "newest": ["ordering=-updated"],
        "name order": ["ordering=name"],
        "deep page (cursor)": [f"cursor={deep_cursor}"],
        "page 50 (offset)": ["page=50&page_size=100&ordering=-created"],
    }
    queries = {
        kind: [f"/api/v1/assets/?page_size=100&{q}" if "page_size" not in q else f"/api/v1/assets/?{q}" for q in qs]
        for kind, qs in mix.items()
    }
    queries["100 versions"] = ["/api/v1/assets/team-0/giant/versions/?page_size=100"]
    queries["versions, deep"] = [f"/api/v1/assets/team-0/giant/versions/?page_size=100&cursor={deep_version_cursor}"]
    return queries


def _peak_rss(pid: int) -> int:
    """The process's peak resident set (VmHWM), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(url: str, backend: str) -> tuple[subprocess.Popen, int]:
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "PYTHONPATH": str(REPO),
        "DJANGO_DEBUG": "0",
        "MODELHUB_WEB_STATEMENT_TIMEOUT_MS": "0",
        "MODELHUB_SEARCH_BACKEND": backend,
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "python:marketplace.gunicorn_conf",
            "marketplace.wsgi",
            "--worker-class",
            "gthread",
            "--workers",
            "2",
            "--threads",
            "4",
            "--keep-alive",
            "30",
            # --timeout: a worker loads the in-memory index itself if the master could not
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "--timeout",
            "300",
        ],
        cwd=REPO,
        env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process, port
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("gunicorn did not start")


def measure(ports: dict[str, int], token: str, queries: dict[str, list[str]], runs: int) -> dict[str, dict]:
    """Per server (backend name -> port) and query type, the request times in ms, one keep-alive connection per
    server, the servers' requests interleaved so that whatever else the machine does falls on both. The first
    request of each server (which loads the in-memory index) is timed apart as "first"."""
    conns = {name: http.client.HTTPConnection("127.0.0.1", port) for name, port in ports.items()}
    headers = {"Authorization": f"Token {token}", "Connection": "keep-alive"}

    def get(name: str, url: str) -> float:
        started = time.perf_counter()
        try:
            conns[name].request("GET", url, headers=headers)
            response = conns[name].getresponse()
        except (http.client.RemoteDisconnected, ConnectionError):
            # The server closed a connection idle past its keep-alive (while the other loaded its index): again.
            conns[name].close()
            started = time.perf_counter()
            conns[name].request("GET", url, headers=headers)
            response = conns[name].getresponse()
        body = response.read()
        if response.status != 200:
            raise SystemExit(f"{name} {url}: {response.status} {body[:300]!r}")
        return (time.perf_counter() - started) * 1000

    times: dict[str, dict] = {name: {"first": get(name, "/api/v1/assets/?q=first+search")} for name in ports}
    for urls in queries.values():  # warm-up: one pass
        for url in urls:
            for name in ports:
                get(name, url)
    for kind, urls in queries.items():
        for name in ports:
            times[name][kind] = []
        for run in range(runs):
            for name in list(ports) if run % 2 == 0 else list(ports)[::-1]:
                times[name][kind].append(get(name, urls[run % len(urls)]))
    for conn in conns.values():
        conn.close()
    return times


def baseline(user, queries: dict[str, list[str]], runs: int) -> dict[str, list[float]]:
    """The naive way: icontains per word on every text field, COUNT(*), and a first page by -updated."""
    from django.db.models import Q

    from registry.assets.selectors import asset_list
    from registry.search.query import search_terms

    times = {}
    for kind, urls in queries.items():
        if "versions" in kind or "cursor" in kind:
            continue
        samples = []
        for run in range(runs):
            params = urllib.parse.parse_qs(urllib.parse.urlsplit(urls[run % len(urls)]).query)
            started = time.perf_counter()
            qs = asset_list(user=user)
            for term in search_terms(" ".join(params.get("q", []))):
                qs = qs.filter(
                    Q(name__icontains=term)
                    | Q(tags_text__icontains=term)
                    | Q(summary__icontains=term)
                    | Q(description__icontains=term)
                )
            for tag in params.get("tag", []):
                qs = qs.filter(tags_text__icontains=tag)
            for field in ("task", "kind", "status"):
                if field in params:
                    qs = qs.filter(**{f"{field}__iexact": params[field][0]})
            qs.count()
            page = int(params.get("page", ["1"])[0])
            list(qs.order_by("-updated_at", "-pk")[(page - 1) * 100 : page * 100])
            samples.append((time.perf_counter() - started) * 1000)
        times[kind] = samples
    return times


def serialise_cost(user) -> float:
    """In-process milliseconds to turn a page of 100 search results into response data."""
    from django.test import RequestFactory

    from marketplace.api.assets import asset_list_item
    from registry.search.selectors import asset_search

    found = asset_search(user=user, params={"q": "fraud", "page_size": "100"}, as_rows=True)
    request = RequestFactory().get("/api/v1/assets/")
    prefix = request.build_absolute_uri("/api/v1/assets/")
    best = float("inf")
    for _ in range(20):
        started = time.perf_counter()
        data = [asset_list_item(row, prefix, found.highlights.get(row["id"])) for row in found.assets]
        json.dumps({"results": data, "facets": found.facets})
        best = min(best, (time.perf_counter() - started) * 1000)
    return best


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assets", type=int, default=100_000)
    parser.add_argument("--versions", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=15, help="requests per query type and user")
    parser.add_argument("--baseline-runs", type=int, default=3)
    parser.add_argument("--server", default=os.environ.get("BENCH_DATABASE_SERVER", DEFAULT_SERVER))
    parser.add_argument("--keep", action="store_true", help="keep the database (its name is printed)")
    parser.add_argument("--database", help="measure a database kept by an earlier --keep run instead of loading")
    parser.add_argument(
        "--backends",
        default="postgres,memory",
        help="search backends to serve and compare, each by a gunicorn of its own (postgres, memory)",
    )
    args = parser.parse_args()
    name = args.database or f"modelhub_bench_search_{uuid.uuid4().hex[:8]}"
    admin = _admin(args.server)
    if not args.database:
        with admin.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE {name}")
    url = f"{args.server}/{name}"
    servers: dict[str, subprocess.Popen] = {}
    try:
        _setup_django(url)
        from django.core.management import call_command

        if args.database:
            call_command("migrate", verbosity=0)
            reset_change_log()
            world = reuse()
            args.assets = world["assets"]
            args.versions = world["versions"]
            args.keep = True
        else:
            call_command("migrate", verbosity=0)
            world = load(args.assets, args.versions)
            print(
                f"catalogue: {args.assets:,} assets + 1 with {args.versions:,} versions; COPY "
                f"{world['load_s']:.0f} s, search indexes {world['index_s']:.0f} s, total with facet counts, "
                f"vocabulary and VACUUM ANALYZE {world['total_s']:.0f} s",
                flush=True,
            )
        from django.db import connection

        from registry.search.cursor import cursor_encode

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT updated_at, id FROM registry_asset WHERE visibility = 'internal' "
                "ORDER BY updated_at DESC, id DESC OFFSET %s LIMIT 1",
                [args.assets // 2],
            )
            deep = cursor_encode(cursor.fetchone())
        import base64

        deep_version = base64.urlsafe_b64encode(f"a:{args.versions // 20_000}.50.50".encode()).decode().rstrip("=")
        queries = query_mix(random.Random(1), world["tags"], deep, deep_version)
        backends = args.backends.split(",")
        ports = {}
        for backend in backends:
            servers[backend], ports[backend] = start_server(url, backend)
        results = {role: measure(ports, world["tokens"][role], queries, args.runs) for role in ("member", "outsider")}
        naive = baseline(world["member"], queries, args.baseline_runs)
        print(f"serialising a page of 100 (in-process): {serialise_cost(world['member']):.1f} ms")
        for backend in backends:
            master = psutil.Process(servers[backend].pid)
            processes = [master, *master.children()]
            rss = sum(child.memory_info().rss for child in processes[1:])
            pss = sum(process.memory_full_info().pss for process in processes)
            peak = _peak_rss(master.pid)
            print(
                f"{backend}: first search {results['member'][backend]['first']:.0f} ms (it waits for the in-memory "
                f"index the master loads at start; the master's peak RSS {peak / 2**20:.0f} MiB), workers' RSS "
                f"{rss / 2**20:.0f} MiB, master and workers' PSS {pss / 2**20:.0f} MiB (shared pages split "
                "between the processes)"
            )
        worst = dict.fromkeys(backends, 0.0)
        print(
            f"\n{'query type':<22}"
            + "".join(f"{b + ' member p50':>22}{'p95':>7}{'outsider p50':>14}{'p95':>7}" for b in backends)
            + f"{'naive p50':>11}{'p95':>7}"
        )
        for kind in queries:
            line = f"{kind:<22}"
            for backend in backends:
                m, o = results["member"][backend][kind], results["outsider"][backend][kind]
                worst[backend] = max(worst[backend], _pct(m, 0.95), _pct(o, 0.95))
                line += f"{_pct(m, 0.5):>22.1f}{_pct(m, 0.95):>7.1f}{_pct(o, 0.5):>14.1f}{_pct(o, 0.95):>7.1f}"
            b = naive.get(kind)
            print(line + (f"{_pct(b, 0.5):>11.0f}{_pct(b, 0.95):>7.0f}" if b else f"{'-':>11}{'-':>7}"))
        print("(ms; pages of 100; naive: icontains + COUNT, no facets)")
        print("\nworst p95: " + ", ".join(f"{backend} {value:.1f} ms" for backend, value in worst.items()))
        if args.keep:
            print(f"kept: --database {name}")
        return 0
    finally:
        for server in servers.values():
            server.terminate()
            server.wait(timeout=30)
        if not args.keep:
            from django.db import connections

            connections.close_all()
            with admin.cursor() as cursor:
                cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


if __name__ == "__main__":
    raise SystemExit(main())
