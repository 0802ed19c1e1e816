"""Fixtures shared across the suite: an owner, a teammate and an outsider, and their data."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from contacts.geo import lookup_zip
from contacts.models import CustomerProfile, Dealer, Search


@pytest.fixture
def empty_queue():
    """Real Huey storage, emptied before and after, so a test sees only its own tasks."""
    from huey.contrib.djhuey import HUEY

    HUEY.flush()
    yield HUEY
    HUEY.flush()


@pytest.fixture
def owner(db) -> User:
    return User.objects.create_user("alice", "alice@example.org", "password")


@pytest.fixture
def teammate(db) -> User:
    # Works at the same brokerage but did not create the data: still sees none of it.
    return User.objects.create_user("bob", "bob@example.org", "password")


@pytest.fixture
def outsider(db) -> User:
    return User.objects.create_user("charlie", "charlie@example.org", "password")


@pytest.fixture
def profile(owner) -> CustomerProfile:
    return CustomerProfile.objects.create(
        owner=owner,
        first_name="Alice",
        last_name="Buyer",
        email="alice.buyer@example.org",
        phone="+13105550123",
        zip_code="90210",
        preferred_contact="email",
        vehicle_year=2024,
        vehicle_make="Toyota",
        vehicle_model="RAV4",
        vehicle_trim="XLE",
    )


def make_dealer(name: str, lat: float, lng: float, website: str = "", **extra) -> Dealer:
    return Dealer.objects.create(
        name=name,
        website=website,
        website_key=website or None,
        latitude=lat,
        longitude=lng,
        **extra,
    )


@pytest.fixture
def dealers(db) -> list[Dealer]:
    return [
        make_dealer("Beverly Hills Toyota", 34.07, -118.39, "http://127.0.0.1:9/bh/", city="Beverly Hills",
                    state="CA", makes=",toyota,"),
        make_dealer("Santa Monica Ford", 34.02, -118.49, "http://127.0.0.1:9/sm/", city="Santa Monica",
                    state="CA", makes=",ford,"),
        make_dealer("Pasadena Honda", 34.15, -118.14, "http://127.0.0.1:9/pa/", city="Pasadena",
                    state="CA", makes=",honda,"),
    ]


@pytest.fixture
def search(owner, profile) -> Search:
    place = lookup_zip("90210")
    return Search.objects.create(
        owner=owner, customer=profile, zip_code="90210", radius_miles=25,
        latitude=place.latitude, longitude=place.longitude,
    )


@pytest.fixture(scope="session", autouse=True)
def _remove_per_process_files():
    """Test Huey storage and media are per process; remove them when the run ends."""
    yield
    import shutil
    from pathlib import Path

    from django.conf import settings

    shutil.rmtree(settings.MEDIA_ROOT, ignore_errors=True)
    huey_file = settings.HUEY.get("filename")
    if huey_file:
        for suffix in ("", "-wal", "-shm"):
            Path(huey_file + suffix).unlink(missing_ok=True)


class AsgiServer:
    """The real ASGI app (uvicorn) on a loopback port, in a thread of the test process."""

    def __init__(self) -> None:
        import socket
        import threading

        import uvicorn

        from dealercontact.asgi import application

        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(application, log_level="warning", lifespan="off", timeout_graceful_shutdown=1)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True)

    def start(self) -> "AsgiServer":
        import time

        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)
        self._socket.close()


@pytest.fixture
def asgi_server(transactional_db):
    server = AsgiServer().start()
    yield server
    server.stop()


@pytest.fixture
def huey_consumer(transactional_db):
    """A real Huey consumer (thread workers) reading the configured storage."""
    from huey.contrib.djhuey import HUEY

    from contacts.worker import shutdown_engine

    HUEY.flush()
    consumer = HUEY.create_consumer(workers=2, worker_type="thread", periodic=False, initial_delay=0.05,
                                    max_delay=0.2, backoff=1.1)
    # Signal handlers belong to the test runner, not to this in-process consumer.
    consumer._set_signal_handlers = lambda: None
    consumer.start()
    yield consumer
    consumer.stop(graceful=True)
    shutdown_engine()
    HUEY.flush()

