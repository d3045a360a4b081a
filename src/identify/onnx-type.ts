// What an ONNX model does, from its graph's operators and its real inputs/outputs (never from its file name).
import type { OnnxGraphSummary } from "../formats/onnx.js";
import type { Identification, ModelType } from "../formats/types.js";

// Graph names exporters write by default: they say nothing about the model.
const GENERIC_GRAPH_NAMES = /^(torch[-_]jit([-_]export)?|main[-_]graph|graph|model|tf2onnx|onnx[-_].*)$/i;

const AUDIO_INPUTS = /^(input_features|input_values|audio|audio_signal|waveform|speech|mel|melspectrogram)$/i;
const EMBEDDING_OUTPUTS = /(^|_)(sentence_embedding|embeddings?|pooler_output|last_hidden_state|text_embeds|image_embeds)$/i;

/** Type (and, when the graph is named, its architecture) of an ONNX model. */
export function describeOnnxGraph(g: OnnxGraphSummary): Partial<Identification> {
  const ops = new Set(g.opTypes);
  const inputNames = g.inputs.map((i) => i.name.split("/").pop() ?? i.name);
  const outputNames = g.outputs.map((o) => o.name.split("/").pop() ?? o.name);
  let modelType: ModelType = "unknown";
  if (inputNames.includes("input_ids")) {
    modelType = outputNames.some((n) => /logits/i.test(n)) ? "llm" : outputNames.some((n) => EMBEDDING_OUTPUTS.test(n)) ? "embedding" : "unknown";
  } else if (inputNames.some((n) => AUDIO_INPUTS.test(n))) {
    modelType = "audio";
  } else if (ops.has("Conv") && g.inputs.some((i) => isImageShape(i.shape))) {
    // An image in (N, C, H, W) or (N, H, W, C) with 1-4 channels, through convolutions: a vision model
    // (classifier, detector, segmenter...).
    modelType = "vision";
  }
  const architecture = g.name && !GENERIC_GRAPH_NAMES.test(g.name) ? g.name : null;
  return { modelType, ...(architecture && modelType !== "unknown" ? { architecture } : {}) };
}

function isImageShape(shape: (number | string | null)[] | null): boolean {
  if (!shape || shape.length !== 4) return false;
  const channels = (d: number | string | null) => typeof d === "number" && d >= 1 && d <= 4;
  return channels(shape[1]) || channels(shape[3]);
}
