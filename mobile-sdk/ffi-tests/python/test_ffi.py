"""FFI test of the SDK from Python: the generated bindings (ctypes) against the host cdylib.

Run by mobile-sdk/ci.sh, which generates `epermit_sdk.py` next to a copy of `libepermit_sdk.so`
in a temporary folder and puts that folder on PYTHONPATH. The holder key is an Ed25519 key held
in Python (the `cryptography` package), signing through the SDK's HolderSigner foreign trait.
An independent COSE_Sign1 (RFC 9052) implementation — `cbor2` + `cryptography` + the Base45 of
RFC 9285 below — builds presentations the SDK did not write.
"""

import datetime
import json
import unittest
import zlib

import cbor2
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

import epermit_sdk as sdk

NOW = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"


def b45encode(data):
    """RFC 9285 §4.2."""
    out = []
    for i in range(0, len(data) - 1, 2):
        n = data[i] * 256 + data[i + 1]
        out += [B45[n % 45], B45[n // 45 % 45], B45[n // 2025]]
    if len(data) % 2:
        out += [B45[data[-1] % 45], B45[data[-1] // 45]]
    return "".join(out)


def b45decode(text):
    """RFC 9285 §4.3 (input trusted: it comes from the SDK's demo bundle)."""
    v = [B45.index(c) for c in text]
    out = bytearray()
    for i in range(0, len(v), 3):
        chunk = v[i:i + 3]
        n = sum(d * 45 ** k for k, d in enumerate(chunk))
        out += n.to_bytes(2 if len(chunk) == 3 else 1, "big")
    return bytes(out)


def cose_sign1_eddsa(payload, key):
    """A tagged COSE_Sign1 with protected {1: -8 (EdDSA)}, empty unprotected header and AAD."""
    protected = cbor2.dumps({1: -8})
    to_be_signed = cbor2.dumps(["Signature1", protected, b"", payload])
    return cbor2.dumps(cbor2.CBORTag(18, [protected, {}, payload, key.sign(to_be_signed)]))


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

    def test_an_independently_built_presentation_verifies_with_the_credential_tagged_or_not(self):
        prefix, body = self.bundle.credential_text.split(":", 1)
        self.assertEqual(prefix, "EP1")
        credential = zlib.decompress(b45decode(body))
        self.assertEqual(credential[0], 0xD2)  # tag 18, as issued
        for field_1 in (credential, credential[1:]):  # tagged, then untagged (what the SDK writes)
            payload = cbor2.dumps({1: field_1, 2: int(NOW.timestamp())})
            cose = cose_sign1_eddsa(payload, self.key)
            text = "EPP1:" + b45encode(zlib.compress(cose, 9))
            v = self.verifier.verify(text, NOW + datetime.timedelta(seconds=5))
            self.assertEqual(v.verdict, sdk.Verdict.VALID, field_1[:1].hex())
            self.assertEqual(v.assurance, sdk.Assurance.HOLDER_BOUND)
            self.assertEqual(v.permit.name, "张小明")

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
        trust, status = state.lists
        self.assertEqual(trust.kind, sdk.ListKind.TRUST_LIST)
        self.assertEqual(trust.age_seconds, 86400)
        self.assertEqual(trust.expires_at, NOW + datetime.timedelta(days=30))
        self.assertFalse(trust.stale)
        self.assertEqual(status.kind, sdk.ListKind.STATUS_LIST)
        self.assertEqual(status.age_seconds, 3600)
        self.assertEqual(status.ttl_seconds, 3600)
        self.assertTrue(status.stale)  # at its ttl: fetch again
        self.assertFalse(status.expired)

    def test_the_verifier_state_survives_export_and_import(self):
        saved = self.verifier.export_state()
        restored = sdk.Verifier.import_state(saved)
        self.assertEqual(restored.state(NOW), self.verifier.state(NOW))
        self.assertEqual(restored.verify(self.present(), NOW).verdict, sdk.Verdict.VALID)
        with self.assertRaises(sdk.SdkError.StateMalformed):
            sdk.Verifier.import_state(saved[:-1])


if __name__ == "__main__":
    unittest.main(verbosity=2)
