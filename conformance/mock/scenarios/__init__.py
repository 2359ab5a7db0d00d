"""The scenarios shipped with the mock (default.yaml)."""
