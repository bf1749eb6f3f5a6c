"""What a separate process of a client user runs (multiprocessing spawns it: no Django, no test module)."""

import os


def pull_in_a_process(url: str, token: str, cache: str, ref: str, queue) -> None:
    os.environ["MODELHUB_CACHE"] = cache
    from marketplace.client import Client

    queue.put(str(Client(url, token).pull(ref) / "model.onnx"))
