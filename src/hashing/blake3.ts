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
let nativeName: string | null = null;

// The binary packages @napi-rs/blake-hash picks from, for the platforms whose name needs no runtime probe.
// Loading one directly skips the package's own choice, which asks process.report for the libc (~7 ms of a
// worker's start); on musl the -gnu binary fails to load and the package's choice runs as before.
const DIRECT_BINARIES: Record<string, string[]> = {
  "linux-x64": ["@napi-rs/blake-hash-linux-x64-gnu"],
  "linux-arm64": ["@napi-rs/blake-hash-linux-arm64-gnu"],
  "darwin-x64": ["@napi-rs/blake-hash-darwin-universal", "@napi-rs/blake-hash-darwin-x64"],
  "darwin-arm64": ["@napi-rs/blake-hash-darwin-universal", "@napi-rs/blake-hash-darwin-arm64"],
  "win32-x64": ["@napi-rs/blake-hash-win32-x64-msvc"],
};

// The native package is CommonJS and throws at require time when no binary matches the platform.
function loadNative(): NativeCtor | null {
  if (nativeCtor !== undefined) return nativeCtor;
  nativeCtor = null;
  if (process.env.MLIB_BLAKE3_BACKEND === "wasm") return nativeCtor;
  const require = createRequire(import.meta.url);
  for (const name of [...(DIRECT_BINARIES[`${process.platform}-${process.arch}`] ?? []), "@napi-rs/blake-hash"]) {
    try {
      const mod = require(name) as { Blake3Hasher?: NativeCtor };
      if (typeof mod.Blake3Hasher === "function") {
        nativeName = name;
        return (nativeCtor = mod.Blake3Hasher);
      }
    } catch {
      // not installed or not loadable here: the next candidate, in the end the wasm fallback
    }
  }
  return nativeCtor;
}

/** The file the native backend loads from (a plain-JS worker can `require` the same), or null: the wasm fallback. */
export function nativeBlake3Path(): string | null {
  return loadNative() && nativeName ? createRequire(import.meta.url).resolve(nativeName) : null;
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
