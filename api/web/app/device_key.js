// The device key: an Ed25519 key pair made by WebCrypto in this browser, its private half
// non-extractable, the CryptoKeyPair kept in IndexedDB (structured clone keeps the key usable
// without ever exposing its bytes). It signs the holder-key proof and each presentation.

const DB = "epermit-app";
const STORE = "keys";
const ID = "device";

function open() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function run(mode, work) {
  const db = await open();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const request = work(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(request.result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

/** Whether this browser makes Ed25519 keys (WebCrypto in a secure context). */
export async function canMakeKeys() {
  if (!globalThis.crypto?.subtle || !globalThis.indexedDB) return false;
  try {
    await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]);
    return true;
  } catch {
    return false;
  }
}

/** The stored key pair, or null. */
export async function storedKey() {
  return (await run("readonly", (store) => store.get(ID))) || null;
}

/** The stored key pair, made and stored first if there is none. */
export async function deviceKey() {
  const existing = await storedKey();
  if (existing) return existing;
  const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]);
  await run("readwrite", (store) => store.put(pair, ID));
  return pair;
}

/** Forgets the key (a new one must be bound). */
export async function forgetKey() {
  await run("readwrite", (store) => store.delete(ID));
}

/** The public key, 64 hex characters (as `holder_key` and `PUT …/holder-key` write it). */
export async function publicKeyHex(pair) {
  return hex(new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey)));
}

/** The 64-byte Ed25519 signature of `message` by the key pair. */
export async function sign(pair, message) {
  return new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, pair.privateKey, message));
}

export function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
