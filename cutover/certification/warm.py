"""What every certification shard loads first, loaded once by the shards' fork server (`launch.PRELOAD`).

Importing this module fills the process-wide caches a shard would fill at its start: the registry of
units and agency codes, and this thread's Faker (`vi_VN`, about 70 ms to build). A shard forked from
the server starts with them; both are read-only once built (a person is re-seeded from its own seed
material every time), so nothing of one shard reaches another.

It also makes the SSO mock's RSA keys of a run ahead (`SPARE_KEYS`: each shard takes its copy's keys in
order), and takes everything loaded so far out of the collector's view (`gc.freeze`): it lives as long as
every shard, and a shard's own collections (`cutover.pytest_plugin`) then skip it.
"""

from __future__ import annotations

import gc

from mocks.national_portal.sso.models import SPARE_KEYS, new_key
from refdata.testdata import citizen_for
from refdata.units import registry

citizen_for(registry().units("12")[0].code)
SPARE_KEYS[:] = [new_key() for _ in range(4)]
gc.collect()
gc.freeze()
