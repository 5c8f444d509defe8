"""Helpers of the cross-language conformance plugin (tests/conformance/go/crosslang):
the fixtures Go writes, Go values as the SDK hands them to Python, and the
checks of the API calls and hooks."""
