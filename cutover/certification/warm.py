"""What every certification shard loads first, loaded once by the shards' fork server (`launch.PRELOAD`).

Importing this module fills the process-wide caches a shard would fill at its start: the registry of
units and agency codes, and this thread's Faker (`vi_VN`, about 70 ms to build). A shard forked from
the server starts with them; both are read-only once built (a person is re-seeded from its own seed
material every time), so nothing of one shard reaches another.
"""

from __future__ import annotations

from refdata.testdata import citizen_for
from refdata.units import registry

citizen_for(registry().units("12")[0].code)
