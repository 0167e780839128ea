"""The cutover-day shape: an open model driven by the profile's arrival rate.

Every second `tick()` computes the rate the profile asks for at this point of the (compressed)
day, turns it into whole arrivals (a running remainder carries the fractions) and hands them
to the citizens: directly in a single process, or to each worker as a `cutover_arrivals`
message in distributed mode. A citizen user takes one arrival, runs one journey, and waits
for the next; arrivals that find no free citizen for `max_queue_seconds` are dropped and
counted as failures (request type ARRIVAL), as k6's `dropped_iterations` are. The user count
the shape returns is the pool (citizens plus the fixed officers, agencies and sync storms),
not the load: the load is the arrival rate.
"""

from __future__ import annotations

import math
from typing import Any

from locust import LoadTestShape
from locust.runners import LocalRunner, MasterRunner

from .context import context_for
from .users import AgencyUser, CitizenUser, OfficerUser, SyncStormUser

ARRIVALS_MESSAGE = "cutover_arrivals"


def configure_user_counts(environment: Any) -> int:
    """Fixed counts from the profile; returns the total pool size."""
    ctx = context_for(environment)
    p = ctx.profile
    OfficerUser.fixed_count = p.officers.users
    AgencyUser.fixed_count = p.agencies.users if ctx.target.docaxis_url else 0
    SyncStormUser.fixed_count = p.sync_storm.users
    return p.citizen_pool + OfficerUser.fixed_count + AgencyUser.fixed_count + SyncStormUser.fixed_count


class CutoverDayShape(LoadTestShape):
    use_common_options = False

    def __init__(self) -> None:
        super().__init__()
        self.carry = 0.0
        self.last: float | None = None
        self.dispatched = 0
        self.rates: list[tuple[float, float]] = []

    def reset_time(self) -> None:
        super().reset_time()
        self.carry, self.last, self.dispatched, self.rates = 0.0, None, 0, []

    def tick(self) -> tuple[int, float, list[type]] | None:
        env = self.runner.environment if self.runner is not None else None
        if env is None:
            return None
        ctx = context_for(env)
        profile = ctx.profile
        t = self.get_run_time()
        if t >= profile.duration:
            return None
        total = configure_user_counts(env)
        classes: list[type] = [CitizenUser]
        classes += [c for c in (OfficerUser, AgencyUser, SyncStormUser) if c.fixed_count]
        if self.last is not None:  # the first tick spawns the pool; arrivals start on the next
            rate = profile.rate_at(t, len(ctx.units))
            self.rates.append((round(t, 1), rate))
            self.carry += rate * (t - self.last)
            n = math.floor(self.carry)
            self.carry -= n
            if n:
                self.dispatch(env, n)
        self.last = t
        return total, max(total, 50), classes

    def dispatch(self, env: Any, n: int) -> None:
        self.dispatched += n
        runner = env.runner
        if isinstance(runner, MasterRunner):
            workers = [c.id for c in runner.clients.values() if c.state != "missing"]
            if not workers:
                return
            share, extra = divmod(n, len(workers))
            offset = self.dispatched % len(workers)
            for i, cid in enumerate(workers):
                k = share + (1 if (i - offset) % len(workers) < extra else 0)
                if k:
                    runner.send_message(ARRIVALS_MESSAGE, {"n": k}, client_id=cid)
        elif isinstance(runner, LocalRunner):
            context_for(env).arrivals.schedule(n)
