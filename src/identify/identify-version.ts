// Which revision of identification a model's metadata.json was written by. Identification gets better (a FLUX
// transformer alone became `diffusion_models` instead of `checkpoints`, ComfyUI-GGUF image models became diffusion
// models instead of LLMs), and a stored model keeps what it was given until `mlib redetect`. The revision is
// recorded in metadata.json (`identify_version`; absent: written before it was recorded, or by the original), so
// `mlib doctor` can name the models to redetect from their metadata alone, without reading any model bytes.
//
// Bump it when a change to identify (or the format readers under it) can give a stored model another type,
// subtype, family or format; say here what changed.
//   1  FLUX/SD3 transformers and UNets alone are diffusion_models; GGUF image architectures (flux, sd3, wan...) are
//      diffusion models; a diffusers UNet2DConditionModel config is a UNet.
export const IDENTIFY_VERSION = 1;

/** The field of metadata.json that records it. */
export const IDENTIFY_VERSION_FIELD = "identify_version";

/** The revision a metadata.json records (0 when none: before it was recorded, or written by another program). */
export function recordedIdentifyVersion(meta: Record<string, unknown>): number {
  const v = meta[IDENTIFY_VERSION_FIELD];
  return typeof v === "number" && Number.isInteger(v) && v > 0 ? v : 0;
}
