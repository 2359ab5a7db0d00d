"""Benchmarks of the mock, the suite, the client and generation against their peers (`make bench`)."""
