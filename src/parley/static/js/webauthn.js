import { api, ApiError } from "./api.js";

// WebAuthn in the browser: the server's options (JSON, binary fields in base64url) to
// what navigator.credentials wants, and the authenticator's answer back to the JSON the
// server reads (what PublicKeyCredential.toJSON() gives, built by hand for browsers
// that lack it). State only: knows nothing of the DOM. Imported on first use of a
// passkey, never with the page.

function toBytes(text) {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

function toText(buffer) {
  let binary = "";
  for (const byte of new Uint8Array(buffer)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

const descriptors = (list = []) => list.map((c) => ({ ...c, id: toBytes(c.id) }));

function common(credential, response) {
  return {
    id: credential.id,
    rawId: toText(credential.rawId),
    type: credential.type,
    response,
    clientExtensionResults: credential.getClientExtensionResults?.() || {},
    authenticatorAttachment: credential.authenticatorAttachment || undefined,
  };
}

/** Make a new passkey for the creation options of /api/auth/passkeys/register/options. */
export async function createPasskey(options) {
  const publicKey = {
    ...options,
    challenge: toBytes(options.challenge),
    user: { ...options.user, id: toBytes(options.user.id) },
    excludeCredentials: descriptors(options.excludeCredentials),
  };
  const credential = await navigator.credentials.create({ publicKey });
  const { response } = credential;
  return common(credential, {
    clientDataJSON: toText(response.clientDataJSON),
    attestationObject: toText(response.attestationObject),
    transports: response.getTransports?.() || [],
  });
}

/** Answer the request options of /api/auth/passkeys/login/options with a passkey. */
export async function usePasskey(options) {
  const publicKey = {
    ...options,
    challenge: toBytes(options.challenge),
    allowCredentials: descriptors(options.allowCredentials),
  };
  const credential = await navigator.credentials.get({ publicKey });
  const { response } = credential;
  return common(credential, {
    clientDataJSON: toText(response.clientDataJSON),
    authenticatorData: toText(response.authenticatorData),
    signature: toText(response.signature),
    userHandle: response.userHandle ? toText(response.userHandle) : null,
  });
}

/** What to tell a person when the browser's passkey prompt ends without a passkey. */
export function browserRefusal(err) {
  if (err && (err.name === "NotAllowedError" || err.name === "AbortError")) {
    return "No passkey was used. Try again when you're ready.";
  }
  if (err && err.name === "InvalidStateError") return "This device already holds a passkey for your account.";
  if (err && err.name === "SecurityError") return "Passkeys need this site's own address over HTTPS (or localhost).";
  return null;
}

/**
 * Sign in with a passkey: a sign-in challenge, the browser's prompt, then
 * `finish(credential)` (the server call that signs in with it) and its answer.
 * Throws an Error whose message says what went wrong in words for the person.
 */
export async function signInWith(finish) {
  try {
    return await finish(await usePasskey(await api.passkeyLoginOptions()));
  } catch (err) {
    if (err instanceof ApiError) throw new Error(REFUSED[err.code] || err.message);
    throw new Error(browserRefusal(err) || "Passkeys couldn't start here. Sign in with your password.");
  }
}
