// What happens to pickle files (which can run code when loaded) on their way into the library, the same for
// every way in (import, adopt; later download, watch, merge):
//   - with the user's consent (--allow-pickle / securityAcknowledged), everything is stored and the model's
//     tier is "pickle";
//   - without it, no pickle file is stored. A pickle that has safe weights beside it in its own folder (a
//     snapshot's pytorch_model.bin next to model.safetensors, training_args.bin) is left out, and the result
//     says which; a pickle that is the only weights of its folder (a diffusers unet as .bin, a .ckpt) refuses
//     the whole model, since without it the model would be incomplete.
import { ModelLibraryError } from "../core/errors.js";
import type { Identification } from "../formats/types.js";

export interface PickleDecision {
  /** The model cannot come in without its pickle files (null: it can). */
  refusal: ModelLibraryError | null;
  /** Pickle files to leave out (each has safe weights beside it). */
  skip: string[];
}

const folderOf = (rel: string) => (rel.includes("/") ? rel.slice(0, rel.lastIndexOf("/")) : "");

export function decidePickles(source: string, ident: Identification, weightFiles: string[], allowPickle: boolean): PickleDecision {
  const pickles = ident.folder?.pickleFiles ?? [];
  if (allowPickle) return { refusal: null, skip: [] };
  if (pickles.length === 0) {
    if (ident.securityTier !== "pickle") return { refusal: null, skip: [] };
    return { refusal: pickleRefusal(source, ident, []), skip: [] };
  }
  const alone = picklesAlone(pickles, weightFiles);
  if (alone.length > 0) return { refusal: pickleRefusal(source, ident, alone), skip: [] };
  return { refusal: null, skip: pickles };
}

/** The pickle files that are the only weights of their folder (no other weight file beside them). */
export function picklesAlone(pickles: string[], weightFiles: string[]): string[] {
  const safeFolders = new Set(weightFiles.filter((w) => !pickles.includes(w)).map(folderOf));
  return pickles.filter((p) => !safeFolders.has(folderOf(p)));
}

function pickleRefusal(source: string, ident: Identification, files: string[]): ModelLibraryError {
  const what = files.length > 0
    ? `${files.slice(0, 5).join(", ")}${files.length > 5 ? ", ..." : ""} ${files.length === 1 ? "is a pickle and the only weights of its folder" : "are pickles and the only weights of their folders"}`
    : `pickle format (${ident.pickleEntries ? "a zip holding a pickle" : "raw pickle"})`;
  return new ModelLibraryError(
    "E_PICKLE",
    `${source}: ${what}: loading it can run arbitrary code. ` +
      // A pickle under a safe format's name (identify's warning): the user must not trust the name.
      (ident.warnings.filter((w) => w.includes("but it is a pickle")).map((w) => `Beware: ${w}. `).join("")) +
      `Prefer a safetensors version; to store it anyway pass --allow-pickle (API: securityAcknowledged: true)`,
    { path: source },
  );
}

/** The warning a result carries when pickle files were left out. */
export function skippedPicklesWarning(source: string, skipped: string[]): string {
  return `${source}: left out ${skipped.length} pickle file(s) that safe weights beside them make unnecessary: ` +
    `${skipped.slice(0, 5).join(", ")}${skipped.length > 5 ? ", ..." : ""} (--allow-pickle stores them too)`;
}
