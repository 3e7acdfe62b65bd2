"""The rate-limit counter, the client address behind proxies, and the cache it lives in."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from unittest import mock

from django.conf import settings
from django.core.cache import cache
from django.test import RequestFactory, SimpleTestCase, override_settings

from sodium import ratelimit


class HitTests(SimpleTestCase):
    def setUp(self) -> None:
        cache.clear()

    def test_it_allows_up_to_the_limit_then_refuses(self) -> None:
        self.assertEqual([ratelimit.hit("k", 3, 60) for _ in range(5)], [True] * 3 + [False] * 2)

    def test_keys_count_separately(self) -> None:
        ratelimit.hit("a", 1, 60)
        self.assertFalse(ratelimit.hit("a", 1, 60))
        self.assertTrue(ratelimit.hit("b", 1, 60))

    def test_a_new_window_starts_when_the_old_one_ends(self) -> None:
        ratelimit.hit("k", 1, 60)
        self.assertFalse(ratelimit.hit("k", 1, 60))
        with mock.patch("time.time", return_value=time.time() + 61):
            self.assertTrue(ratelimit.hit("k", 1, 60))

    def test_it_survives_the_key_expiring_between_add_and_incr(self) -> None:
        with mock.patch.object(cache, "incr", side_effect=ValueError):
            self.assertTrue(ratelimit.hit("k", 1, 60))

    def test_it_keeps_personal_data_out_of_cache_keys(self) -> None:
        with mock.patch.object(cache, "add", wraps=cache.add) as add:
            ratelimit.hit("portal:sign-in:email:ellie@acme.example", 5, 60)
        self.assertNotIn("ellie", add.call_args.args[0])


class ClientIpTests(SimpleTestCase):
    def request(self, forwarded: str = ""):
        headers = {"X-Forwarded-For": forwarded} if forwarded else {}
        return RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", headers=headers)

    @override_settings(SODIUM_PROXY_HOPS=0)
    def test_without_proxies_it_ignores_forwarded_for(self) -> None:
        self.assertEqual(ratelimit.client_ip(self.request("1.2.3.4")), "10.0.0.1")

    @override_settings(SODIUM_PROXY_HOPS=1)
    def test_behind_one_proxy_it_takes_the_address_that_proxy_saw(self) -> None:
        # The client wrote "6.6.6.6" itself; our proxy appended the real address.
        self.assertEqual(ratelimit.client_ip(self.request("6.6.6.6, 1.2.3.4")), "1.2.3.4")
        self.assertEqual(ratelimit.client_ip(self.request()), "10.0.0.1")

    @override_settings(SODIUM_PROXY_HOPS=2)
    def test_behind_two_proxies_it_skips_the_inner_one(self) -> None:
        self.assertEqual(ratelimit.client_ip(self.request("6.6.6.6, 1.2.3.4, 10.1.1.1")), "1.2.3.4")


PROBE = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps(s.CACHES['default']))"
)


def probe_cache(**env: str) -> dict:
    base = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL"}}
    base.update(DJANGO_SETTINGS_MODULE="sodium.settings", **env)
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=base,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_without_redis_the_cache_is_files_in_the_data_dir(tmp_path) -> None:
    got = probe_cache(SODIUM_DATA_DIR=str(tmp_path))
    assert got == {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(tmp_path / "cache"),
    }


def test_with_redis_the_cache_is_redis(tmp_path) -> None:
    got = probe_cache(SODIUM_DATA_DIR=str(tmp_path), REDIS_URL="redis://cache.example:6379/0")
    assert got == {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://cache.example:6379/0",
    }
