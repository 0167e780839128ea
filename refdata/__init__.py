"""Reference data, no HTTP: the unit registry (34 provinces, 3,321 commune-level units from
`vietnam-provinces`), agency identification codes, deterministic test people and the national
procedure catalogue. Everything above it (the mocks, the reference system, the harness, the load
tests) reads them from here."""
