"""Schemathesis hooks for scripts/schemathesis.sh (loaded through SCHEMATHESIS_HOOKS).

`POST /v1/verify` takes a QR text that only the service's own keys can sign, so generated text
is always `malformed` and the verifier's run would never reach a decoded permit, its schema or
the link from a verdict to the police look-up. The script puts the seeded resident's real `EP1:`
credential in EPERMIT_SEEDED_QR; half the bodies generated for `POST /v1/verify` carry it
instead of their own `qr` (the other fields, if any, stay as generated).
"""

import os

import schemathesis
from hypothesis import strategies as st

SEEDED_QR = os.environ["EPERMIT_SEEDED_QR"]


@schemathesis.hook.apply_to(method="POST", path="/v1/verify")
def flatmap_body(context, body):
    if not isinstance(body, dict):
        return st.just(body)
    return st.sampled_from([body, {**body, "qr": SEEDED_QR}])
