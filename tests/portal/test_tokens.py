"""Access tokens: random, at least 128 bits, stored only as a SHA-256."""

from __future__ import annotations

import base64
import hashlib
import secrets
from unittest import mock

from portal import access
from portal.models import AccessToken
from tests import factories as f
from tests.base import BaseTestCase


class AccessTokenTests(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.contact = f.ContactFactory(client=f.ClientFactory(practice=self.practice))

    def test_it_derives_256_bit_tokens_from_128_random_bits_and_the_secret_key(self) -> None:
        with mock.patch.object(access.secrets, "token_hex", wraps=secrets.token_hex) as drawn:
            token = access.issue_token(self.contact, purpose=AccessToken.Purpose.SIGN_IN)
        drawn.assert_called_once()
        self.assertGreaterEqual(drawn.call_args.args[0] * 8, 128)
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        self.assertEqual(len(raw) * 8, 256)
        nonce = AccessToken.objects.get().nonce
        self.assertEqual(access._derive(nonce), token)
        with self.settings(SECRET_KEY="another-secret-key-" * 3):
            self.assertNotEqual(access._derive(nonce), token)  # the nonce alone opens nothing

    def test_every_token_is_different(self) -> None:
        tokens = {
            access.issue_token(self.contact, purpose=AccessToken.Purpose.SIGN_IN) for _ in range(20)
        }
        self.assertEqual(len(tokens), 20)

    def test_it_stores_only_the_sha256(self) -> None:
        token = access.issue_token(self.contact, purpose=AccessToken.Purpose.SIGN_IN)
        row = AccessToken.objects.get()
        self.assertEqual(row.token_hash, hashlib.sha256(token.encode()).hexdigest())
        for field in AccessToken._meta.concrete_fields:
            with self.subTest(field=field.name):
                self.assertNotIn(token, str(getattr(row, field.attname)))

    def test_it_finds_a_live_token_and_refuses_expired_revoked_and_unknown_ones(self) -> None:
        token = access.issue_token(self.contact, purpose=AccessToken.Purpose.SIGN_IN)
        self.assertEqual(access.find_token(token).contact, self.contact)
        self.assertIsNone(access.find_token(token[:-1]))
        self.assertIsNone(access.find_token(""))

        expired = access.issue_token(
            self.contact, purpose=AccessToken.Purpose.SIGN_IN, ttl=-access.SIGN_IN_TTL
        )
        self.assertIsNone(access.find_token(expired))

        access.revoke_tokens(self.contact)
        self.assertIsNone(access.find_token(token))

    def test_sign_in_links_live_thirty_minutes(self) -> None:
        access.issue_token(self.contact, purpose=AccessToken.Purpose.SIGN_IN)
        row = AccessToken.objects.get()
        lifetime = row.expires_at - row.created_at
        self.assertAlmostEqual(lifetime.total_seconds(), 30 * 60, delta=1)
