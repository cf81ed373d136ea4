// The browser engine: loads epermit_web.wasm (the SDK's Rust verification code, built by
// web/build.sh) and wraps its C ABI (web/src/abi.rs) in plain functions. One engine for the desk
// and the app: no verification logic lives in JavaScript.
//
//   const engine = await loadEngine();           // or loadEngine(bytes) / loadEngine(url)
//   const v = engine.newVerifier([rootKeyHex]);
//   v.loadBundle(bundleBytes, Date.now() / 1000);
//   const { verdict, assurance, warnings, permit, report } = v.verify(text, Date.now() / 1000);
//
// Times are Unix seconds (numbers). Results are plain JSON objects with the snake_case fields of
// web/src/json.rs. A refused call throws an Error whose `.code` is the engine's stable code
// (`invalid_root_key`, `list_expired`, `credential_malformed`, `signer_failed`, `invalid_input`…).

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Loads the module from `source`: a URL (string or URL) or its bytes (ArrayBuffer, typed array). */
export async function loadEngine(source = "/web/epermit_web.wasm") {
  let instance;
  if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) {
    ({ instance } = await WebAssembly.instantiate(source, {}));
  } else {
    const response = await fetch(source);
    if (!response.ok) throw engineError("engine_unavailable", `${source}: HTTP ${response.status}`);
    ({ instance } = await WebAssembly.instantiate(await response.arrayBuffer(), {}));
  }
  return new Engine(instance.exports);
}

function engineError(code, message) {
  const error = new Error(message);
  error.code = code;
  return error;
}

function bytesOf(value) {
  if (typeof value === "string") return encoder.encode(value);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (value == null) return new Uint8Array(0);
  throw engineError("invalid_input", "expected a string or bytes");
}

function hex(bytes) {
  return Array.from(bytesOf(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
}

class Engine {
  #x;
  #registry;

  constructor(exports) {
    this.#x = exports;
    // A verifier the page drops is freed in the module too.
    this.#registry = new FinalizationRegistry((handle) => this.#call("epermit_verifier_free", handle));
  }

  // Calls an export: strings and bytes become (pointer, length) pairs of module memory, numbers
  // pass as they are; answers the `ok` value (or the raw bytes), throws the `error`.
  #call(name, ...args) {
    const x = this.#x;
    const owned = [];
    const flat = [];
    try {
      for (const arg of args) {
        if (typeof arg === "number") {
          flat.push(arg);
          continue;
        }
        const bytes = bytesOf(arg);
        const ptr = x.epermit_alloc(bytes.length);
        owned.push([ptr, bytes.length]);
        new Uint8Array(x.memory.buffer, ptr, bytes.length).set(bytes);
        flat.push(ptr, bytes.length);
      }
      const block = x[name](...flat);
      const view = new DataView(x.memory.buffer);
      const length = view.getUint32(block, true);
      const raw = view.getUint32(block + 4, true) === 1;
      const body = new Uint8Array(x.memory.buffer, block + 8, length).slice();
      x.epermit_result_free(block);
      if (raw) return body;
      const reply = JSON.parse(decoder.decode(body));
      if (reply.error) throw engineError(reply.error.code, reply.error.message);
      return reply.ok;
    } finally {
      for (const [ptr, len] of owned) x.epermit_free(ptr, len);
    }
  }

  #verifier(handle) {
    const verifier = new Verifier((name, ...args) => this.#call(name, handle, ...args));
    this.#registry.register(verifier, handle);
    return verifier;
  }

  /** A verifier pinning `rootKeysHex` (64 hex digits each). */
  newVerifier(rootKeysHex) {
    return this.#verifier(this.#call("epermit_verifier_new", JSON.stringify(rootKeysHex)));
  }

  /** A verifier restored from `Verifier.exportState()`. */
  verifierFromState(stateText) {
    return this.#verifier(this.#call("epermit_verifier_from_state", stateText));
  }

  /** The text of the first QR code in an RGBA frame (a canvas's ImageData.data), or null. */
  decodeQr(rgba, width, height) {
    return this.#call("epermit_decode_qr", rgba, width, height);
  }

  /** SVG markup of `text` as a QR code (error correction M, as the API renders it). Show it as
   *  an image (`URL.createObjectURL(new Blob([svg], { type: "image/svg+xml" }))`), never parsed into the page. */
  qrSvg(text) {
    return this.#call("epermit_qr_svg", text);
  }

  /** The bytes the holder key signs (Ed25519) to present `credentialText` (EP1:) at `now`. */
  presentationMessage(credentialText, now, challenge = null) {
    return this.#call("epermit_presentation_message", credentialText, now, challenge);
  }

  /** The EPP1: text from the same inputs and the 64-byte signature of presentationMessage's bytes. */
  presentationFinish(credentialText, now, signature, challenge = null) {
    return this.#call("epermit_presentation_finish", credentialText, now, signature, challenge);
  }

  /** The bytes the device key signs to bind itself to permit `permitNumber` (issue 6). */
  bindingMessage(permitNumber, challengeHex) {
    return this.#call("epermit_binding_message", permitNumber, challengeHex);
  }
}

/** An offline verifier held by the module (see web/README.md for each result's fields). */
class Verifier {
  #call;

  constructor(call) {
    this.#call = call;
  }

  /** Loads a signed verifier bundle: {issued_at, trust_list, status_lists: [{uri, outcome}]}. */
  loadBundle(bytes, now) {
    return this.#call("epermit_verifier_load_bundle", bytes, now);
  }

  /** Loads a signed trust list: "installed" | "updated" | "unchanged". */
  loadTrustList(bytes, now) {
    return this.#call("epermit_verifier_load_trust_list", bytes, now);
  }

  /** Loads a signed status list: "installed" | "updated" | "unchanged". */
  loadStatusList(bytes, now) {
    return this.#call("epermit_verifier_load_status_list", bytes, now);
  }

  /** Verifies an EP1:/EPP1: text: {verdict, assurance, warnings, permit, report}. Never throws for a bad text. */
  verify(text, now, { maxPresentationAgeSeconds, expectedChallenge } = {}) {
    const options = {};
    if (maxPresentationAgeSeconds !== undefined) options.max_presentation_age_seconds = maxPresentationAgeSeconds;
    if (expectedChallenge) options.expected_challenge_hex = hex(expectedChallenge);
    const json = Object.keys(options).length ? JSON.stringify(options) : null;
    return this.#call("epermit_verifier_verify", text, now, json);
  }

  /** What the verifier holds: {root_key_ids, root_keys_hex, trust_list_sequence, lists: […]}. */
  state(now) {
    return this.#call("epermit_verifier_state", now);
  }

  /** The state as text to keep (localStorage) and give to engine.verifierFromState. */
  exportState() {
    return this.#call("epermit_verifier_export_state");
  }
}
