// Smoke test of the committed module through engine.js, as a page uses it (run by
// web/tests/engine_smoke.rs, which writes the fixture directory):
//
//   node web/tests/engine_smoke.mjs DIR
//
// DIR holds root.hex, bundle.cose, credential.txt, holder.pkcs8 (the holder key, DER), now.txt,
// and qr.rgba + qr.json ({width, height, text}). The holder signs through WebCrypto, as the app does.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));
const { loadEngine } = await import(join(here, "../../api/web/common/engine.js"));
const dir = process.argv[2];
const read = (name) => readFileSync(join(dir, name));
const text = (name) => read(name).toString("utf8").trim();

const wasm = readFileSync(join(here, "../../api/web/common/epermit_web.wasm"));
assert.equal(WebAssembly.Module.imports(new WebAssembly.Module(wasm)).length, 0, "the module imports nothing");

const engine = await loadEngine(new Uint8Array(wasm));
const now = Number(text("now.txt"));
const checks = [];
const check = (name, fn) => checks.push([name, fn]);

const verifier = engine.newVerifier([text("root.hex")]);
check("the bundle loads", () => {
  const load = verifier.loadBundle(read("bundle.cose"), now);
  assert.equal(load.trust_list, "installed");
  assert.deepEqual(load.status_lists.map((l) => l.outcome), ["installed"]);
});

check("a static credential is valid but unbound", () => {
  const v = verifier.verify(text("credential.txt"), now);
  assert.equal(v.verdict, "valid");
  assert.equal(v.assurance, "unbound");
  assert.equal(v.permit.district, "330782");
  assert.ok(v.permit.masked_id_number.includes("*"));
  assert.equal(v.report.target, "330782");
});

let presentation;
check("a presentation signed through WebCrypto is valid and holder-bound", async () => {
  const key = await crypto.subtle.importKey("pkcs8", read("holder.pkcs8"), { name: "Ed25519" }, false, ["sign"]);
  const message = engine.presentationMessage(text("credential.txt"), now);
  assert.ok(message instanceof Uint8Array && message.length > 100);
  const signature = new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, key, message));
  presentation = engine.presentationFinish(text("credential.txt"), now, signature);
  assert.match(presentation, /^EPP1:/);
  const v = verifier.verify(presentation, now + 10);
  assert.equal(v.verdict, "valid");
  assert.equal(v.assurance, "holder_bound");
  assert.deepEqual(v.warnings, []);
  assert.equal(verifier.verify(presentation, now + 600).verdict, "presentation_stale");
  assert.equal(verifier.verify(presentation, now + 600, { maxPresentationAgeSeconds: 900 }).verdict, "valid");
  assert.throws(
    () => engine.presentationFinish(text("credential.txt"), now, signature.map((b, i) => (i ? b : b ^ 1))),
    (e) => e.code === "signer_failed",
  );
});

check("a tampered text is a verdict, not an error", () => {
  const t = text("credential.txt");
  const tampered = t.slice(0, 60) + (t[60] === "A" ? "B" : "A") + t.slice(61);
  assert.notEqual(verifier.verify(tampered, now).verdict, "valid");
  assert.equal(verifier.verify("hello", now).verdict, "malformed");
});

check("a camera frame reads as its text", () => {
  const { width, height, text: expected } = JSON.parse(text("qr.json"));
  const rgba = new Uint8ClampedArray(read("qr.rgba"));
  assert.equal(engine.decodeQr(rgba, width, height), expected);
  assert.equal(engine.decodeQr(new Uint8ClampedArray(16 * 16 * 4).fill(255), 16, 16), null);
  assert.throws(() => engine.decodeQr(rgba, width + 1, height), (e) => e.code === "invalid_input");
});

check("qrSvg draws SVG", () => {
  assert.match(engine.qrSvg(text("credential.txt")), /<svg/);
});

check("the state survives export", () => {
  const state = verifier.state(now);
  assert.deepEqual(state.lists.map((l) => l.kind), ["trust_list", "status_list"]);
  const restored = engine.verifierFromState(verifier.exportState());
  assert.equal(restored.verify(text("credential.txt"), now).verdict, "valid");
});

check("the binding message is the context, the number and the challenge", () => {
  const m = engine.bindingMessage("330782-2026-000123", "ab".repeat(32));
  assert.equal(new TextDecoder().decode(m.slice(0, 29)), "epermit holder-key binding v1");
  assert.equal(m.length, 29 + 1 + 18 + 1 + 32);
});

check("refusals throw an Error with the engine's code", () => {
  assert.throws(() => engine.newVerifier(["abcd"]), (e) => e instanceof Error && e.code === "invalid_root_key");
  assert.throws(() => verifier.loadBundle(new Uint8Array([1, 2, 3]), now), (e) => e.code === "list_malformed");
});

check("a thousand calls do not leak module memory", () => {
  const before = engine.qrSvg("EP1:A").length;
  for (let i = 0; i < 1000; i++) verifier.verify(presentation, now + 10);
  assert.equal(engine.qrSvg("EP1:A").length, before);
});

let failed = 0;
for (const [name, fn] of checks) {
  try {
    await fn();
    console.log(`ok - ${name}`);
  } catch (e) {
    failed++;
    console.log(`not ok - ${name}: ${e.stack || e}`);
  }
}
console.log(`${checks.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
