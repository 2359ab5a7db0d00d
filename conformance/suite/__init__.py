"""The conformance suite: does a server honour the contract? (schemathesis + fixed probes)."""
