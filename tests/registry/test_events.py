"""Domain events (registry.kernel.events): how areas react to each other without importing back."""

import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from registry.kernel import events
from registry.kernel.errors import Conflict

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Happened:
    what: str


@dataclass(frozen=True)
class HappenedAgain(Happened):
    pass


@pytest.fixture
def isolated(monkeypatch):
    monkeypatch.setattr(events, "_subscribers", type(events._subscribers)(list))


def test_subscribers_run_in_order_for_the_event_and_its_bases(isolated):
    seen = []
    events.subscribe(Happened)(lambda event: seen.append(("first", event.what)))
    events.subscribe(HappenedAgain)(lambda event: seen.append(("own", event.what)))
    events.subscribe(Happened)(lambda event: seen.append(("second", event.what)))
    events.publish(HappenedAgain("x"))
    events.publish(Happened("y"))
    assert seen == [("own", "x"), ("first", "x"), ("second", "x"), ("first", "y"), ("second", "y")]


def test_a_subscriber_that_refuses_stops_the_publisher(isolated):
    def refuse(event):
        raise Conflict("not now")

    events.subscribe(Happened)(refuse)
    with pytest.raises(Conflict, match="not now"):
        events.publish(Happened("x"))


def test_subscribing_twice_subscribes_once(isolated):
    seen = []

    def handler(event):
        seen.append(event)

    events.subscribe(Happened)(handler)
    events.subscribe(Happened)(handler)
    events.publish(Happened("x"))
    assert len(seen) == 1


def test_every_subscribers_module_is_wired_by_the_registry_app():
    """An area's subscribers.py that registry/apps.py does not import would never hear a thing."""
    modules = {
        ".".join(path.relative_to(REPO).with_suffix("").parts) for path in REPO.glob("registry/**/subscribers.py")
    }
    assert modules and modules <= set(sys.modules), modules - set(sys.modules)
