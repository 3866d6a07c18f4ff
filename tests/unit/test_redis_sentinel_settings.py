import pytest
from pydantic import ValidationError

from app import redis_conn
from app.settings import Settings


def test_sentinels_are_a_host_port_list():
    settings = Settings(redis_sentinels="10.0.0.1:26379, sentinel-b:26380,", redis_url="redis://:pw@x/3")
    assert settings.redis_sentinels == [("10.0.0.1", 26379), ("sentinel-b", 26380)]
    assert settings.wait_replicas == 1
    arq = redis_conn.arq_settings(settings)
    assert arq.sentinel and arq.host == [("10.0.0.1", 26379), ("sentinel-b", 26380)]
    assert arq.database == 3 and arq.password == "pw"
    assert Settings().redis_sentinels == [] and Settings().wait_replicas == 0
    assert Settings(redis_sentinels="", redis_wait_replicas="").wait_replicas == 0  # the ConfigMap's
    assert not redis_conn.arq_settings(Settings()).sentinel


@pytest.mark.parametrize("bad", ["host", "host:port", ":26379"])
def test_a_sentinel_without_a_port_is_refused(bad):
    with pytest.raises(ValidationError):
        Settings(redis_sentinels=bad)
