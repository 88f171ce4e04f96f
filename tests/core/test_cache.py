"""Production's Redis cache: an outage is a miss — sessions keep working from the database."""

import pytest
from django.contrib.sessions.backends.cached_db import SessionStore
from django.core.cache import caches
from django.test import override_settings

from dms.core.cache import ResilientRedisCache

DOWN = {
    "BACKEND": "dms.core.cache.ResilientRedisCache",
    "LOCATION": "redis://127.0.0.1:1/1",  # nothing listens there
    "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
}


def test_every_operation_of_a_dead_redis_is_a_miss_or_a_no_op(caplog):
    cache = ResilientRedisCache(DOWN["LOCATION"], {"OPTIONS": DOWN["OPTIONS"]})
    assert cache.get("k", "default") == "default" and cache.get_many(["a", "b"]) == {}
    assert cache.add("k", 1) is False and cache.set("k", 1) is None and cache.set("k", 1, None) is None
    assert cache.has_key("k") is False and cache.touch("k") is False and cache.delete("k") is False
    assert cache.set_many({"a": 1}) == ["a"] and cache.delete_many(["a"]) is None and cache.clear() is False
    with pytest.raises(ValueError):
        cache.incr("k")
    assert "cache get failed" in caplog.text


@pytest.mark.django_db
def test_sessions_survive_a_dead_redis():
    with override_settings(CACHES={"default": DOWN}):
        caches._settings = None  # let the override take effect in this thread
        try:
            assert isinstance(caches["default"], ResilientRedisCache)
            session = SessionStore()
            session["active_dealership_id"] = 7
            session.save()
            again = SessionStore(session_key=session.session_key)
            assert again["active_dealership_id"] == 7  # read from the database
        finally:
            caches._settings = None


@pytest.mark.django_db
@pytest.mark.redis
def test_a_live_redis_is_used(settings):
    import os

    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.skip("TEST_REDIS_URL is not set")
    cache = ResilientRedisCache(url, {"KEY_PREFIX": "dms-test"})
    cache.set("k", {"a": 1}, 30)
    assert cache.get("k") == {"a": 1}
    cache.delete("n")
    assert cache.add("n", 1, 30) is True and cache.incr("n") == 2
    cache.delete_many(["k", "n"])
    assert cache.get("k") is None
