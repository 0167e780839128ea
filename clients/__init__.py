"""Clients of the national platforms and of the certification driver, over any requests-like
session: the portal's adapter API (`adapter`), the document axis (`axis`), the mocks' admin API
(`admin`) and a system under test's `/cert/v1` (`driver`). They stand on `protocols` only; the
harness, the load tests and the reference provincial system all share them."""
