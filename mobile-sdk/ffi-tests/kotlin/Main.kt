// FFI test of the SDK from Kotlin on the JVM: the checked-in generated bindings (JNA) against the
// host cdylib. The holder key is a JDK 17 Ed25519 key (java.security), signing through the SDK's
// HolderSigner foreign trait as an Android Keystore key would. Run by mobile-sdk/ci.sh.

import cn.jinhua.epermit.sdk.*
import java.security.KeyPair
import java.security.KeyPairGenerator
import java.security.Signature
import java.time.Instant
import java.time.ZoneOffset
import java.time.temporal.ChronoUnit
import kotlin.system.exitProcess

/** A holder key kept in the JVM's provider, as an app keeps it in the Android Keystore. */
class JvmSigner(private val keys: KeyPair, private val refuse: Boolean = false) : HolderSigner {
    var calls = 0

    // X.509 SubjectPublicKeyInfo of an Ed25519 key: 12 bytes of header, then the raw 32 bytes.
    override fun publicKey(): ByteArray = keys.public.encoded.takeLast(32).toByteArray()

    override fun sign(message: ByteArray): ByteArray {
        calls++
        if (refuse) throw SdkException.SignerFailed()
        return Signature.getInstance("Ed25519").run {
            initSign(keys.private)
            update(message)
            sign()
        }
    }
}

fun newKeys(): KeyPair = KeyPairGenerator.getInstance("Ed25519").generateKeyPair()

var passed = 0
var failed = 0

fun check(name: String, body: () -> Unit) {
    try {
        body()
        passed++
        println("ok   $name")
    } catch (e: Throwable) {
        failed++
        println("FAIL $name: $e")
    }
}

fun expect(condition: Boolean, what: String) {
    if (!condition) throw AssertionError(what)
}

inline fun <reified E : Throwable> throws(body: () -> Unit) {
    try {
        body()
    } catch (e: Throwable) {
        if (e is E) return
        throw AssertionError("expected ${E::class.simpleName}, got $e")
    }
    throw AssertionError("expected ${E::class.simpleName}, nothing thrown")
}

fun main() {
    val now = Instant.now().truncatedTo(ChronoUnit.SECONDS)
    val keys = newKeys()
    val signer = JvmSigner(keys)
    val bundle = demoBundleForHolder(signer.publicKey(), now)
    val verifier = Verifier(listOf(bundle.rootKeyHex))

    check("lists load and say what changed") {
        expect(verifier.loadTrustList(bundle.trustList, now) == Change.INSTALLED, "trust installed")
        expect(verifier.loadStatusList(bundle.statusList, now) == Change.INSTALLED, "status installed")
        expect(verifier.loadTrustList(bundle.trustList, now) == Change.UNCHANGED, "trust unchanged")
        throws<SdkException.ListMalformed> { verifier.loadStatusList(byteArrayOf(1, 2, 3), now) }
        throws<SdkException.InvalidRootKey> { Verifier(listOf("00")) }
        val state = verifier.state(now)
        expect(state.trustListSequence == 1UL.toULong(), "sequence ${state.trustListSequence}")
        val status = state.lists.single { it.kind == ListKind.STATUS_LIST }
        expect(status.ageSeconds == 3600L, "status age ${status.ageSeconds}")
        expect(status.stale, "status list at its ttl is stale")
    }

    check("the verifier state survives export and import") {
        val restored = Verifier.importState(verifier.exportState())
        expect(restored.state(now) == verifier.state(now), "same state")
        restored.close()
        throws<SdkException.StateMalformed> { Verifier.importState(byteArrayOf(1, 2, 3)) }
    }

    check("a presentation signed by a JDK Ed25519 key verifies as holder-bound") {
        val text = present(bundle.credentialText, signer, now, null)
        expect(text.startsWith("EPP1:"), "prefix")
        expect(signer.calls == 1, "signed once")
        val v = verifier.verify(text, now.plusSeconds(15))
        expect(v.verdict == Verdict.VALID, "verdict ${v.verdict}")
        expect(v.assurance == Assurance.HOLDER_BOUND, "assurance ${v.assurance}")
        expect(v.warnings.isEmpty(), "warnings ${v.warnings}")
        expect(v.permit?.name == "张小明", "name")
        expect(v.permit?.idNumber == "342401********271X", "masked id ${v.permit?.idNumber}")
        expect(v.report?.target == "330782", "report target")
    }

    check("a tampered presentation is not valid") {
        val text = present(bundle.credentialText, signer, now, null)
        val i = text.length / 2
        val tampered = text.substring(0, i) + (if (text[i] == 'A') 'B' else 'A') + text.substring(i + 1)
        val v = verifier.verify(tampered, now)
        expect(v.verdict != Verdict.VALID, "verdict ${v.verdict}")
        expect(v.assurance == null, "no assurance")
    }

    check("a challenge must be answered exactly") {
        val text = present(bundle.credentialText, signer, now, "nonce".toByteArray())
        val wrong = verifier.verifyWithOptions(text, now, VerifyOptions(120u, "other".toByteArray()))
        expect(wrong.verdict == Verdict.PRESENTATION_STALE, "wrong challenge ${wrong.verdict}")
        val right = verifier.verifyWithOptions(text, now, VerifyOptions(120u, "nonce".toByteArray()))
        expect(right.verdict == Verdict.VALID, "right challenge ${right.verdict}")
    }

    check("keystore refusals and unbound keys are SDK errors") {
        throws<SdkException.SignerFailed> { present(bundle.credentialText, JvmSigner(keys, refuse = true), now, null) }
        throws<SdkException.NotBoundToSigner> { present(bundle.credentialText, JvmSigner(newKeys()), now, null) }
    }

    check("the holder computes the SPEC §3 report") {
        val today = now.atOffset(ZoneOffset.ofHours(8)).toLocalDate().toString()
        val r = report(bundle.credentialText, "330782", today)
        expect(r.asOf == today, "as_of")
        expect(r.registeredAtTarget, "registered at target")
        val continuous = r.rules[0]
        expect(continuous is Rule.Continuous && continuous.requiredMonths == 24u, "Yiwu needs 24 months")
        expect(r.contractJson.startsWith("{\"target\":\"330782\""), "contract json")
        val elsewhere = report(bundle.credentialText, "330703", today)
        expect(Blocker.PERMIT_ISSUER_MISMATCH in elsewhere.blockers, "issuer mismatch")
        throws<SdkException.TargetNotInJinhua> { report(bundle.credentialText, "110101", today) }
    }

    verifier.close()
    println("kotlin: $passed passed, $failed failed")
    if (failed > 0) exitProcess(1)
}
