// Family names: ours are specific (`sd1`, `sd2`, `sdxl`, `qwen2`), the original's often generic
// (`stable-diffusion` for every SD checkpoint, `qwen` from tensor names). A stored family is the user's (or the
// original's) word: re-identification may fill one in, or correct a different family, but never respells a
// family as a more specific version of itself.

// Generic names and the specific ones that belong to them.
const GENERIC_FAMILIES: Record<string, readonly string[]> = {
  stablediffusion: ["sd", "sd1", "sd15", "sd2", "sd21", "sd3", "sd35", "sdxl", "sdxlrefiner", "sdxlturbo"],
  sd: ["sd1", "sd15", "sd2", "sd21", "sd3", "sd35", "sdxl"],
};

const key = (family: string) => family.toLowerCase().replace(/[^a-z0-9]/g, "");

/** Whether `detected` is only a more specific spelling of `stored` (`stable-diffusion` → `sd1`, `qwen` → `qwen2`). */
export function isRespellingOf(stored: string, detected: string): boolean {
  const a = key(stored);
  const b = key(detected);
  if (a === "" || a === b) return a === b;
  if (GENERIC_FAMILIES[a]?.includes(b)) return true;
  // A version suffix on the same name: llama → llama3, qwen → qwen2_5, phi → phi3 (not "gemma" → "gemmax").
  return b.startsWith(a) && /^\d/.test(b.slice(a.length));
}

/** The family to keep after re-identification: the stored one unless the bytes name a different family. */
export function familyAfterRedetect(stored: string | null, detected: string | null): string | null {
  if (!detected) return stored;
  if (!stored) return detected;
  return isRespellingOf(stored, detected) ? stored : detected;
}
