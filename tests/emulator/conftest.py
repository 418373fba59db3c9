import httpx
import pytest

from secretsync.emulator import Emulator, EmulatorConfig
from tests.emulator.helpers import AUTH, SEED, FakeClock


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def make_emulator(clock):
    started = []

    def make(seed=SEED, config: EmulatorConfig | None = None, **kwargs) -> Emulator:
        kwargs.setdefault("clock", clock)
        emulator = Emulator(seed, config, **kwargs)
        emulator.start()
        started.append(emulator)
        return emulator

    yield make
    for emulator in started:
        emulator.stop()


@pytest.fixture
def emu(make_emulator):
    return make_emulator()


@pytest.fixture
def client(emu):
    with httpx.Client(base_url=emu.url, headers=AUTH, timeout=5) as c:
        yield c
