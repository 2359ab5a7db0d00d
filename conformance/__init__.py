"""Conformance suite and mock server for Close's request-internal-phone-number endpoint."""
