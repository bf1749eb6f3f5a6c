"""The in-memory search backend (issue 8): the same answers as the PostgreSQL backend it extends (ids, counts,
facets, cursors, highlights, widening), ranks equal to `ts_rank`, and an index that follows every committed
change, including one committed by a transaction that was still open when a search read the log.

Committed data (transactional tests): the index loads what other connections can see; a caller's own
uncommitted changes are PostgreSQL's to answer."""

import http.client
import io
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid

import numpy as np
import psycopg2
import pytest
from django.conf import settings
from django.db import connection, transaction
from django.http import QueryDict

from registry.assets.models import Asset
from registry.assets.services import asset_delete, asset_update
from registry.kernel.access import asset_scope
from registry.search.backends import memory as memory_module
from registry.search.backends.memory import MemorySearchBackend, entry_contribution
from registry.search.backends.postgres import PostgresSearchBackend
from registry.search.models import SearchChange, SearchState
from registry.search.query import parse_search
from registry.tokens.services import token_create
from tests.conftest import REPO, subprocess_database_url
from tests.factories import make_asset, make_search_catalogue

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the in-memory backend reads PostgreSQL"),
]

PARAMS = [
    {"q": "fraud"},
    {"q": "fraud det"},
    {"q": "frud"},
    {"q": "raud"},
    {"q": "zzqqxx"},
    {"tag": "finance"},
    {"q": "fraud", "tag": "finance", "kind": "model"},
    {"license": "mit", "kind": "model"},
    {"task": "TABULAR-classification", "tag": "finance"},
    {"team": "speech", "q": "whisper"},
    {"q": "fraud", "page_size": "2"},
    {"q": "balancing"},
    {"q": "detects transaction"},
    {"q": "the fraud"},
    {"q": "the"},
    {"q": "happiness"},
    {"q": "fraud", "ordering": "-updated", "page_size": "2"},
    {"q": "fraud", "ordering": "-used"},
    {"q": "fraud", "ordering": "created"},
    {"q": "fraud", "page": "2", "page_size": "2"},
    {"q": "fraud", "visibility": "private"},
    {"q": "fraud", "framework": "onnx"},
    {"q": "fraud", "status": "draft"},
    # answered by the PostgreSQL backend it extends: the precomputed counts, orderings by name
    {},
    {"kind": "model"},
    {"task": "tabular-classification", "ordering": "-used"},
    {"q": "fraud", "ordering": "name"},
]


@pytest.fixture
def memory():
    """A fresh in-memory backend, and the state row a flush of the previous test removed."""
    SearchState.objects.update_or_create(id=1, defaults={"epoch": str(uuid.uuid4())})
    return MemorySearchBackend()


@pytest.fixture
def catalogue(alice, team, charlie):
    made = make_search_catalogue(alice, team, charlie)
    made["by-summary"] = asset_update(
        user=alice,
        asset=made["by-summary"],
        fields={"summary": "Detects fraud in card transactions, fraud after fraud"},
    )  # a word three times in one field
    made["mood"] = make_asset(alice, team, slug="mood", name="Happy customers", summary="Hoping for the best")
    return made


def answers(backend, user, params: dict) -> dict:
    qd = QueryDict(mutable=True)
    for key, value in params.items():
        qd.setlist(key, [value])
    found = backend.search(scope=asset_scope(user), query=parse_search(qd))
    return {
        "ids": found.ids,
        "count": found.count,
        "facets": found.facets,
        "widened": found.widened,
        "highlights": found.highlights,
        "next": found.next_cursor,
        "previous": found.previous_cursor,
    }


def assert_same(memory, users, params_list=PARAMS):
    for user in users:
        for params in params_list:
            assert answers(memory, user, params) == answers(PostgresSearchBackend(), user, params), (
                user.username,
                params,
            )


def test_the_same_answers_as_postgresql(memory, alice, charlie, catalogue):
    assert_same(memory, (alice, charlie))
    assert memory.index.base is not None and memory.index.base.size == len(catalogue)  # it did answer


def test_cursor_pages_walk_the_same_rows(memory, alice, team, charlie):
    """30 matches, pages of 3: the page is picked by a partition on the first sort key (ties included), then
    sorted; ranks and usage counts tie a lot, and the walk must still match PostgreSQL's row for row. Two words
    ("fraud detector", 20 matches at varied distances and weights): PostgreSQL ranks the matches whose bound
    can reach the page, a batch at a time."""
    for i in range(30):
        make_asset(
            alice,
            team,
            slug=f"fraud-{i}",
            name=f"Fraud {i}" + (" detector" if i % 5 == 0 else ""),
            summary="detector " * (i % 3) + "fraud " * (i % 4) + "spotting",
            description="a fraud detector" if i % 7 == 0 else "",
        )
    Asset.objects.filter(slug__in=["fraud-4", "fraud-9"]).update(usage_count=2)
    for params in (
        {"q": "fraud", "page": "4", "page_size": "3"},
        {"q": "fraud", "ordering": "-used", "page": "2", "page_size": "3"},
        {"q": "fraud detector", "page": "3", "page_size": "3"},
    ):
        assert answers(memory, charlie, params) == answers(PostgresSearchBackend(), charlie, params), params
    for q, ordering, total in (
        ("fraud", "relevance", 30),
        ("fraud", "-updated", 30),
        ("fraud", "-used", 30),
        ("fraud detector", "relevance", 23),
    ):
        seen, params = [], {"q": q, "ordering": ordering, "page_size": "3"}
        while True:
            mine, theirs = answers(memory, charlie, params), answers(PostgresSearchBackend(), charlie, params)
            assert mine == theirs, (ordering, params)
            seen += mine["ids"]
            if mine["next"] is None:
                break
            params = {**params, "cursor": mine["next"]}
        assert len(seen) == len(set(seen)) == total, (q, ordering)
        back = answers(memory, charlie, {**params, "cursor": mine["previous"]})
        assert back == answers(PostgresSearchBackend(), charlie, {**params, "cursor": mine["previous"]})


def test_deep_offset_pages_of_the_precomputed_path_come_from_the_index(memory, monkeypatch, alice, charlie, catalogue):
    monkeypatch.setattr(memory_module, "DEEP_OFFSET", 2)
    original, calls = MemorySearchBackend._page_rows, []

    def counted(self, *args):
        calls.append(args[2].ordering)
        return original(self, *args)

    monkeypatch.setattr(MemorySearchBackend, "_page_rows", counted)
    for params in (
        {"page": "2", "page_size": "2", "ordering": "-created"},
        {"page": "3", "page_size": "2"},
        {"page": "2", "page_size": "2", "ordering": "-used", "kind": "model"},
        {"page": "2", "page_size": "2", "team": "speech"},
        {"page": "2", "page_size": "2", "ordering": "name"},
    ):
        for user in (alice, charlie):
            assert answers(memory, user, params) == answers(PostgresSearchBackend(), user, params), params
    assert calls.count("name") == 0 and len(calls) == 8  # names keep PostgreSQL's collation


def test_ranks_equal_ts_rank(memory):
    """Each lexeme entry's contribution reproduces PostgreSQL's float arithmetic: ts_rank of a one-word query
    over vectors with every mix of weights and repetitions equals the index's rank, to the last bit."""
    patterns = ["A", "D", "AB", "DA", "CCC", "DDDDA", "BADC", "AAAAAAAAAA", "DCBA", "BBBBBBBBBBBBBBBBBBBB"]
    with connection.cursor() as cursor:
        for weights in patterns:
            vector = " ".join(f"fraud:{i + 1}{w}" for i, w in enumerate(weights))
            cursor.execute("SELECT ts_rank(%s::tsvector, 'fraud'::tsquery)", [vector])
            assert np.float32(entry_contribution(weights)) == np.float32(cursor.fetchone()[0]), weights


def test_several_word_ranks_equal_ts_rank(memory, monkeypatch, alice, team, charlie):
    """`calc_rank_and` reproduced from the positions: ts_rank of AND queries of prefixes (some matching several
    lexemes of one asset, some several words' alternatives) equals the index's rank for every match, to the last
    bit, whatever the fields, repetitions and distances (past 100 positions apart too)."""
    texts = [
        "fraud detector",
        "detector of fraud",
        "fraud fraud fraud detector",
        "detector " * 5 + "fraud",
        "fraud " + "filler " * 20 + "detector",
        "fraud " + "filler " * 120 + "detector",
        "fraudulent detection by a fraud detector detecting frauds",
        "card fraud detector for card payments",
    ]
    for i, text in enumerate(texts):
        if len(text) <= 200:
            make_asset(alice, team, slug=f"n{i}", name=text, tags=["fraud", "cards"])
            make_asset(alice, team, slug=f"s{i}", name="Fraud", summary=text)
        make_asset(alice, team, slug=f"d{i}", name="Detector", tags=["fraud"], description=text + " card " * i)
    answers(memory, charlie, {"q": "fraud detector"})
    base = memory.index.base
    row_of = {int(asset): row for row, asset in enumerate(base.ids)}
    queries = {
        "'fraud':* & 'detector':*": ["fraud", "detector"],
        "'fraud':* & 'detect':*": ["fraud", "detect"],
        "'fraud':* & 'detect':* & 'card':*": ["fraud", "detect", "card"],
        "( 'frud':* | 'fraud':* ) & 'detector':*": ["frud", "fraud", "detector"],
        "'detect':* & 'detector':*": ["detect", "detector"],
        "'fraud':* & 'fraud':*": ["fraud", "fraud"],
    }
    with connection.cursor() as cursor:
        for text, items in queries.items():
            cursor.execute(
                "SELECT id, ts_rank(search_vector, %s::tsquery) FROM registry_asset "
                "WHERE search_vector @@ %s::tsquery ORDER BY id",
                [text, text],
            )
            expected = cursor.fetchall()
            assert len(expected) > 10, text
            rank, exact = base.rank_and(items, np.array([row_of[asset] for asset, _ in expected]))
            assert exact.all()
            assert [np.float32(value) for _, value in expected] == list(rank), text
    monkeypatch.setattr(memory_module, "MAX_PAIRS", 3)  # the matches with more pairs: PostgreSQL ranks them
    rank, exact = base.rank_and(["fraud", "detector"], np.arange(base.size))
    assert 0 < exact.sum() < base.size
    assert_same(memory, (charlie,), [{"q": "fraud detector"}, {"q": "detector fraud", "page_size": "5"}])


def test_every_committed_change_is_followed(memory, alice, bob, charlie, catalogue):
    assert_same(memory, (charlie,), [{"q": "fraud"}])  # loaded
    changed = {catalogue[name].pk for name in ("by-tag", "secret", "by-name", "by-description", "by-summary")}
    asset_update(
        user=alice, asset=catalogue["by-tag"], fields={"tags": ["fraud", "new-tag"], "license": "BSD-3-Clause"}
    )
    asset_update(user=alice, asset=catalogue["secret"], fields={"visibility": "internal"})
    asset_update(user=alice, asset=catalogue["by-name"], fields={"visibility": "private", "name": "Renamed"})
    asset_delete(user=alice, asset=catalogue["by-description"])
    make_asset(alice, catalogue["by-name"].team, slug="fresh", name="Fresh fraud model", tags=["new-tag"])
    Asset.objects.filter(pk=catalogue["by-summary"].pk).update(usage_count=9)  # no service: the trigger sees it
    assert_same(memory, (alice, bob, charlie))
    # What the overlay holds: these six, and any other asset whose log row a long transaction elsewhere on the
    # server kept above the snapshots' xmin (read again, harmlessly).
    assert changed | {Asset.objects.get(slug="fresh").pk} <= set(memory.index.changed)


def test_a_change_committed_after_a_search_read_the_log_is_not_missed(memory, alice, charlie, catalogue):
    """Transaction ids are not commit order: a writer that began before a search and commits after it has a
    log row the search could not see, below the ids of later writers. The next search must find it."""
    assert answers(memory, charlie, {"q": "zebra"})["count"] == 0
    slow = psycopg2.connect(**connection.get_connection_params())
    try:
        with slow.cursor() as cursor:  # an open transaction changes an asset and keeps its xid in flight
            cursor.execute(
                "UPDATE registry_asset SET name = 'Zebra ledger' WHERE id = %s", [catalogue["by-description"].pk]
            )
        asset_update(user=charlie, asset=catalogue["whisper"], fields={"name": "Zebra whisper"})  # a later writer
        assert answers(memory, charlie, {"q": "zebra"})["count"] == 1  # the log read moves on past it
        slow.commit()
    finally:
        slow.close()
    assert answers(memory, charlie, {"q": "zebra"}) == answers(PostgresSearchBackend(), charlie, {"q": "zebra"})
    assert answers(memory, charlie, {"q": "zebra"})["count"] == 2


def test_own_uncommitted_changes_are_answered_as_postgresql_sees_them(memory, alice, charlie, catalogue):
    answers(memory, charlie, {"q": "fraud"})
    with transaction.atomic():
        asset_update(user=charlie, asset=catalogue["whisper"], fields={"name": "Fraud whisper"})
        assert answers(memory, alice, {"q": "fraud"}) == answers(PostgresSearchBackend(), alice, {"q": "fraud"})
        assert catalogue["whisper"].pk in answers(memory, alice, {"q": "fraud"})["ids"]
        transaction.set_rollback(True)
    assert catalogue["whisper"].pk not in answers(memory, alice, {"q": "fraud"})["ids"]  # nothing leaked
    overlay = memory.index.changed.get(catalogue["whisper"].pk)
    assert overlay is None or "fraud" not in {overlay[1].lexemes[t] for t in overlay[1].terms}


def test_a_rebuild_reloads_and_a_missing_state_row_leaves_it_to_postgresql(memory, alice, team, charlie, catalogue):
    answers(memory, charlie, {"q": "fraud"})
    first = memory.index.base
    asset_update(user=alice, asset=catalogue["mood"], fields={"name": "Fraud mood"})
    assert SearchChange.objects.exists()
    memory.rebuild()  # what `manage.py search_rebuild` runs: a new epoch, an empty log
    assert not SearchChange.objects.exists()
    assert_same(memory, (charlie,), [{"q": "fraud"}])
    assert memory.index.base is not first
    SearchState.objects.all().delete()
    Asset.objects.all().delete()
    assert answers(memory, charlie, {"q": "fraud"})["count"] == 0  # PostgreSQL's answer, not the stale index


def test_an_empty_catalogue_loads_and_follows_its_first_asset(memory, alice, team, charlie):
    assert answers(memory, charlie, {"q": "fraud"})["count"] == 0
    assert memory.index.base.size == 0
    make_asset(alice, team, slug="first", name="Fraud first")
    assert_same(memory, (alice, charlie), [{"q": "fraud"}, {"q": "fraud", "kind": "model"}, {"tag": "x"}])
    assert answers(memory, charlie, {"q": "fraud"})["count"] == 1


def test_a_large_overlay_is_folded_into_a_new_base_while_searches_go_on(memory, alice, team, charlie, monkeypatch):
    monkeypatch.setattr(memory_module, "OVERLAY_REBUILD", 3)
    for i in range(4):
        make_asset(alice, team, slug=f"early-{i}", name=f"Fraud early {i}")
    answers(memory, charlie, {"q": "fraud"})
    started = threading.Event()
    real = memory_module._Loader.everything

    def slow_everything(params):
        started.set()
        return real(params)

    monkeypatch.setattr(memory_module._Loader, "everything", staticmethod(slow_everything))
    for i in range(5):
        make_asset(alice, team, slug=f"late-{i}", name=f"Fraud late {i}")
    assert_same(memory, (charlie,), [{"q": "fraud"}, {"q": "late"}])
    assert started.wait(10)
    for thread in threading.enumerate():
        if thread.name == "search-rebuild":
            thread.join(30)
    assert memory.index.base.size == 9  # the new base
    make_asset(alice, team, slug="after", name="Fraud after")
    assert_same(memory, (charlie,), [{"q": "fraud"}])
    assert answers(memory, charlie, {"q": "fraud"})["count"] == 10


def test_the_api_answers_from_the_memory_backend(memory, settings, charlie_api, catalogue):
    from registry.search import backends

    settings.MODELHUB_SEARCH_BACKEND = "memory"
    backends._backend.cache_clear()
    try:
        response = charlie_api.get("/api/v1/assets/?q=fraud&tag=finance")
        assert response.status_code == 200, response.content
        assert {item["slug"] for item in response.json()["results"]} == {"fraud-detector", "payments-risk"}
        assert backends.search_backend().index.base is not None
    finally:
        backends._backend.cache_clear()


def _web_env(**extra) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": subprocess_database_url(),
        "PYTHONPATH": str(REPO),
        "DJANGO_DEBUG": "0",
        "MODELHUB_DATA_DIR": str(settings.DATA_DIR),
        **extra,
    }


def test_the_web_master_loads_the_index_once_before_forking_and_workers_follow_changes(
    memory, tmp_path, alice, charlie, catalogue
):
    key = token_create(user=charlie, name="web")[1]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log_path = tmp_path / "gunicorn.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(
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
                "2",
                "--bind",
                f"127.0.0.1:{port}",
                "--log-level",
                "info",
            ],
            cwd=REPO,
            env=_web_env(MODELHUB_SEARCH_BACKEND="memory"),
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def search(q: str) -> dict:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)  # a new connection: either worker
        try:
            conn.request("GET", f"/api/v1/assets/?q={q}", headers={"Authorization": f"Token {key}"})
            response = conn.getresponse()
            assert response.status == 200, response.read()[:500]
            return json.loads(response.read())
        finally:
            conn.close()

    try:
        deadline = time.monotonic() + 60
        while log_path.read_text().count("Booting worker") < 2:
            assert server.poll() is None and time.monotonic() < deadline, log_path.read_text()[-3000:]
            time.sleep(0.2)
        text = log_path.read_text()
        assert "in-memory search index loaded" in text and (
            text.index("in-memory search index loaded") < text.index("Booting worker")
        ), text
        expected = answers(PostgresSearchBackend(), charlie, {"q": "fraud"})
        slugs = dict(Asset.objects.values_list("id", "slug"))
        for _ in range(6):
            found = search("fraud")
            assert [item["slug"] for item in found["results"]] == [slugs[pk] for pk in expected["ids"]]
            assert found["count"] == expected["count"] and found["facets"] == expected["facets"]
        asset_update(user=alice, asset=catalogue["mood"], fields={"summary": "Spots fraud in a happy way"})
        for _ in range(6):
            assert "mood" in {item["slug"] for item in search("fraud")["results"]}  # the log, read after the fork
        assert log_path.read_text().count("in-memory search index loaded") == 1  # no worker loaded its own
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_the_web_master_freezes_what_it_loaded_and_closes_its_connections(memory):
    # The catalogue is empty: the index loads (a CSV of nothing is no error) and answers.
    script = (
        "import gc, django; django.setup(); from django.db import connection; "
        "from marketplace import gunicorn_conf; from registry.search.backends import search_backend; "
        "gunicorn_conf.when_ready(None); "
        "print(gc.get_freeze_count() > 10_000, search_backend().index.base.size == 0, connection.connection)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env=_web_env(MODELHUB_SEARCH_BACKEND="memory", DJANGO_SETTINGS_MODULE="marketplace.settings"),
    )
    assert done.stdout.split() == ["True", "True", "None"], done.stderr[-3000:]


def test_the_change_log_is_pruned_a_period_late_and_an_index_that_slept_through_it_loads_afresh(
    memory, alice, charlie, catalogue
):
    from registry.search.tasks import search_log_prune_task

    awake, asleep = MemorySearchBackend(), MemorySearchBackend()
    for backend in (awake, asleep):
        answers(backend, charlie, {"q": "fraud"})
    asset_update(user=alice, asset=catalogue["mood"], fields={"summary": "Fraud, in a good mood"})
    logged = SearchChange.objects.count()
    search_log_prune_task.apply()  # a period begins: nothing goes yet
    assert SearchChange.objects.count() == logged
    with connection.cursor() as cursor:
        cursor.execute("SELECT max(xid::text::bigint) FROM registry_searchchange")
        if SearchState.objects.get().prune_next <= cursor.fetchone()[0]:
            pytest.skip("a transaction open elsewhere on the server holds the snapshot horizon back")
    assert_same(awake, (charlie,), [{"q": "fraud"}])  # reads the log within the period
    search_log_prune_task.apply()  # the period is over: the rows of transactions before its start go
    assert SearchChange.objects.count() == 0
    state = SearchState.objects.get()
    assert 0 < state.pruned_below <= state.prune_next
    awake_base, asleep_base = awake.index.base, asleep.index.base
    asset_update(user=alice, asset=catalogue["by-tag"], fields={"summary": "Fraud again"})
    assert_same(awake, (alice, charlie), [{"q": "fraud"}, {"q": "mood"}])
    assert awake.index.base is awake_base  # it had read what it needed before the prune
    assert_same(asleep, (alice, charlie), [{"q": "fraud"}, {"q": "mood"}])  # the mood change's row is gone...
    assert asleep.index.base is not asleep_base  # ...so it loaded afresh


def test_a_load_fails_whole_when_either_half_of_its_copy_fails(memory):
    """The postings are read in two halves at once (one in a thread): a failure of either must not leave an index
    with half its entries."""
    for bad in (0, 1):
        connections = [psycopg2.connect(**connection.get_connection_params()) for _ in range(2)]
        try:
            jobs = [
                (raw.cursor(), b"COPY (SELECT 1 / %d) TO STDOUT" % (0 if i == bad else 1), io.BytesIO())
                for i, raw in enumerate(connections)
            ]
            with pytest.raises(psycopg2.errors.DivisionByZero):
                memory_module._copy_both(*jobs)
        finally:
            for raw in connections:
                raw.close()
