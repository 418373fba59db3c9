"""A local emulator of the SourceCraft secrets API (like LocalStack or moto), for tests, the
demo and the benchmarks.

    with Emulator(seed={"orgs": [...]}, config=EmulatorConfig(op_delay_ms=50)) as emu:
        client = httpx.Client(base_url=emu.url, headers={"Authorization": "Bearer emulator-token"})

Standard library only (ruamel.yaml is imported lazily for YAML seeds), so it starts fast.
The seed format is described in `secretsync.emulator.seed`; the command is `secretsync-emulator`.

May import: nothing of secretsync outside the emulator. It stands in for the API, so it shares
no code with the client tested against it.
"""

from secretsync.emulator.config import EmulatorConfig
from secretsync.emulator.seed import SeedError, load_seed
from secretsync.emulator.server import Emulator

__all__ = ["Emulator", "EmulatorConfig", "SeedError", "load_seed"]
