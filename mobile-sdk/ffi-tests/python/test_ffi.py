"""FFI test of the SDK from Python: the generated bindings (ctypes) against the host cdylib.

Run by mobile-sdk/ci.sh, which generates `epermit_sdk.py` next to a copy of `libepermit_sdk.so`
in a temporary folder and puts that folder on PYTHONPATH. The holder key is an Ed25519 key held
in Python (the `cryptography` package), signing through the SDK's HolderSigner foreign trait.
"""

import datetime
import json
import unittest

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

import epermit_sdk as sdk

NOW = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


class PythonSigner(sdk.HolderSigner):
    """A holder key kept in Python, as an app keeps it in its key store."""

    def __init__(self, key, refuse=False, crash=False):
        self.key = key
        self.refuse = refuse
        self.crash = crash
        self.calls = 0

    def public_key(self):
        return self.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    def sign(self, message):
        self.calls += 1
        if self.refuse:
            raise sdk.SdkError.SignerFailed()
        if self.crash:
            raise RuntimeError("keystore exploded")
        return self.key.sign(message)


class SdkFromPython(unittest.TestCase):
    def setUp(self):
        self.key = Ed25519PrivateKey.generate()
        self.signer = PythonSigner(self.key)
        self.bundle = sdk.demo_bundle_for_holder(self.signer.public_key(), NOW)
        self.verifier = sdk.Verifier([self.bundle.root_key_hex])
        self.assertEqual(self.verifier.load_trust_list(self.bundle.trust_list, NOW), sdk.Change.INSTALLED)
        self.assertEqual(self.verifier.load_status_list(self.bundle.status_list, NOW), sdk.Change.INSTALLED)

    def present(self, signer=None, challenge=None):
        return sdk.present(self.bundle.credential_text, signer or self.signer, NOW, challenge)

    def test_a_presentation_signed_in_python_verifies_as_holder_bound(self):
        text = self.present()
        self.assertTrue(text.startswith("EPP1:"))
        self.assertEqual(self.signer.calls, 1)
        v = self.verifier.verify(text, NOW + datetime.timedelta(seconds=20))
        self.assertEqual(v.verdict, sdk.Verdict.VALID)
        self.assertEqual(v.assurance, sdk.Assurance.HOLDER_BOUND)
        self.assertEqual(v.warnings, [])
        self.assertEqual(v.permit.name, "张小明")
        self.assertEqual(v.permit.residence, "330782")
        self.assertEqual(v.permit.holder_key, self.signer.public_key().hex())
        self.assertEqual(v.report.target, "330782")
        self.assertTrue(v.report.registered_at_target)

    def test_a_tampered_presentation_is_not_valid(self):
        text = self.present()
        i = len(text) // 2
        tampered = text[:i] + ("A" if text[i] != "A" else "B") + text[i + 1:]
        v = self.verifier.verify(tampered, NOW)
        self.assertNotEqual(v.verdict, sdk.Verdict.VALID)
        self.assertIsNone(v.assurance)
        self.assertEqual(self.verifier.verify("EPP1:", NOW).verdict, sdk.Verdict.MALFORMED)

    def test_a_stale_presentation_is_refused(self):
        v = self.verifier.verify(self.present(), NOW + datetime.timedelta(minutes=5))
        self.assertEqual(v.verdict, sdk.Verdict.PRESENTATION_STALE)

    def test_the_report_is_the_spec_contract(self):
        r = sdk.report(self.bundle.credential_text, "330782", NOW.date().isoformat())
        contract = json.loads(r.contract_json)
        self.assertEqual(contract["target"], "330782")
        self.assertEqual(contract["cumulative_in_jinhua_days"], r.cumulative_in_jinhua_days)
        self.assertEqual([rule["rule"] for rule in contract["rules"]], ["continuous", "cumulative"])
        self.assertIsInstance(r.rules[0], sdk.Rule.CONTINUOUS)
        self.assertEqual(r.rules[0].required_months, 24)  # 义乌市
        elsewhere = sdk.report(self.bundle.credential_text, "330703", NOW.date().isoformat())
        self.assertIn(sdk.Blocker.PERMIT_ISSUER_MISMATCH, elsewhere.blockers)
        with self.assertRaises(sdk.SdkError.TargetNotInJinhua):
            sdk.report(self.bundle.credential_text, "110101", "2026-01-01")
        with self.assertRaises(sdk.SdkError.InvalidDate):
            sdk.report(self.bundle.credential_text, "330782", "yesterday")

    def test_keystore_refusals_and_foreign_keys_become_sdk_errors(self):
        with self.assertRaises(sdk.SdkError.SignerFailed):
            self.present(PythonSigner(self.key, refuse=True))
        with self.assertRaises(sdk.SdkError.SignerFailed):
            self.present(PythonSigner(self.key, crash=True))
        with self.assertRaises(sdk.SdkError.NotBoundToSigner):
            self.present(PythonSigner(Ed25519PrivateKey.generate()))
        with self.assertRaises(sdk.SdkError.InvalidChallenge):
            self.present(challenge=b"")

    def test_lists_refuse_rollback_and_forgery_and_state_shows_their_age(self):
        self.assertEqual(self.verifier.load_trust_list(self.bundle.trust_list, NOW), sdk.Change.UNCHANGED)
        with self.assertRaises(sdk.SdkError.ListMalformed):
            self.verifier.load_trust_list(b"not a list", NOW)
        stranger = sdk.Verifier([Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()])
        with self.assertRaises(sdk.SdkError.ListNotTrusted):
            stranger.load_trust_list(self.bundle.trust_list, NOW)
        with self.assertRaises(sdk.SdkError.InvalidRootKey):
            sdk.Verifier(["zz"])
        state = self.verifier.state(NOW)
        self.assertEqual(state.trust_list_sequence, 1)
        self.assertEqual(state.trust_list_age_seconds, 86400)
        self.assertEqual(state.status_list_age_seconds, 3600)
        self.assertEqual(state.trust_list_expires_at, NOW + datetime.timedelta(days=30))


if __name__ == "__main__":
    unittest.main(verbosity=2)
