"""The outage test's real ``acre serve`` / ``acre worker`` on a Redis of its own (``services``)."""

from tests.integration.test_outages import services  # noqa: F401 - a fixture, shared
