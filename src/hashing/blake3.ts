// BLAKE3 incremental hasher: the native @napi-rs/blake-hash (AVX2/AVX-512, several GiB/s) when its
// binary loads on this platform, else hash-wasm's WebAssembly build (~0.8 GiB/s) so hashing never fails.
// MLIB_BLAKE3_BACKEND=wasm forces the fallback (tests use it to check that path gives the same digests).
import { createRequire } from "node:module";

export interface Blake3 {
  update(bytes: Uint8Array): void;
  digestHex(): string;
}

export type Blake3Backend = "native" | "wasm";

interface NativeHasher {
  update(input: Uint8Array): unknown;
  digest(format?: string): string;
}
type NativeCtor = new () => NativeHasher;

let nativeCtor: NativeCtor | null | undefined;

// The native package is CommonJS and throws at require time when no binary matches the platform.
function loadNative(): NativeCtor | null {
  if (nativeCtor !== undefined) return nativeCtor;
  nativeCtor = null;
  if (process.env.MLIB_BLAKE3_BACKEND === "wasm") return nativeCtor;
  try {
    const mod = createRequire(import.meta.url)("@napi-rs/blake-hash") as { Blake3Hasher?: NativeCtor };
    if (typeof mod.Blake3Hasher === "function") nativeCtor = mod.Blake3Hasher;
  } catch {
    // no binary for this platform: the wasm fallback takes over
  }
  return nativeCtor;
}

/** Which implementation createBlake3() uses in this thread. */
export function blake3Backend(): Blake3Backend {
  return loadNative() ? "native" : "wasm";
}

export async function createBlake3(): Promise<Blake3> {
  const Native = loadNative();
  if (Native) {
    const h = new Native();
    return {
      update: (bytes) => void h.update(bytes),
      digestHex: () => h.digest("hex"),
    };
  }
  // loaded only when needed: hash-wasm bundles every algorithm and costs ~50-90 ms to import
  const { createBLAKE3 } = await import("hash-wasm");
  const h = await createBLAKE3();
  h.init();
  return {
    update: (bytes) => void h.update(bytes),
    digestHex: () => h.digest("hex"),
  };
}
