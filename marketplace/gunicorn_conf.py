"""Gunicorn settings of the web process: `gunicorn -c python:marketplace.gunicorn_conf marketplace.wsgi ...` (the
command line adds the address, workers, threads and timeouts).

- The master loads the application before it forks the workers (`preload_app`), and so does the search backend
  what it keeps in memory (the in-memory backend's index, paid once at start instead of by each worker's first
  search, its arrays then shared by the workers).
- Then every object alive is moved out of the garbage collector's sight (`gc.freeze`): a full collection
  otherwise walks the whole application in the middle of some request, and writing to the objects' headers
  would copy their pages into each worker.

What these cost and save, measured: registry/search/README.md.
"""

import gc
import logging

preload_app = True

log = logging.getLogger("modelhub.web")


def when_ready(server) -> None:
    """In the master, before the first fork."""
    from django.db import connections

    from registry.search.backends import search_backend

    try:
        search_backend().prepare()
    except Exception:  # a database not reachable or not migrated yet: each worker loads on its first search
        log.exception("preparing the search backend before forking failed")
    connections.close_all()  # a connection must not be shared by the forked workers
    gc.collect()
    gc.freeze()
