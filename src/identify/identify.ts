// identify(path): what a model file (or a folder holding one model) is, from its own bytes.
// The first bytes decide the format; each format's reader then reads its header only, so the time does
// not grow with the file's size. The file name is used only for shard membership and as a weak hint.
import { stat } from "node:fs/promises";
import { basename, dirname } from "node:path";
import { ModelLibraryError, ioError } from "../core/errors.js";
import { readHead } from "../formats/file-bytes.js";
import { readGguf, summarizeGguf } from "../formats/gguf.js";
import { sniffGgml, summarizeGgml } from "../formats/ggml.js";
import { readHfConfig } from "../formats/hf-config.js";
import { lfsPointerMessage, parseLfsPointer } from "../formats/lfs-pointer.js";
import { readOnnxGraphSummary, readOnnxHeader, summarizeOnnx } from "../formats/onnx.js";
import { describeOnnxGraph } from "./onnx-type.js";
import { summarizePickle } from "../formats/pickle.js";
import { readSafetensorsHeader, summarizeSafetensors } from "../formats/safetensors.js";
import { shardInfoOf } from "../formats/sharding.js";
import { sniffFormat } from "../formats/sniff.js";
import { identifyFolder } from "./folder.js";
import { blankIdentification, mergeIdentification as merge, securityTierOf, type Identification } from "../formats/types.js";

const HEAD_BYTES = 4096;

// Extensions of formats that cannot run code, by the format they promise.
const SAFE_EXTENSIONS = new Map([["safetensors", "safetensors"], ["sft", "safetensors"], ["gguf", "GGUF"], ["onnx", "ONNX"]]);

/** Identifies a file, or a folder that holds one model (diffusers, HF snapshot, shard set). */
export async function identify(path: string): Promise<Identification> {
  let st;
  try {
    st = await stat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") {
      throw new ModelLibraryError("E_NOT_FOUND", `${path}: no such file or folder`, { path });
    }
    throw ioError(path, "read", e);
  }
  if (st.isDirectory()) return identifyFolder(path, identifyFile);
  if (!st.isFile()) throw new ModelLibraryError("E_INVALID", `${path}: not a regular file`, { path });
  return identifyFile(path);
}

/** Identifies one regular file. */
export async function identifyFile(path: string): Promise<Identification> {
  const { bytes: head, size } = await readHead(path, HEAD_BYTES);
  const result = blankIdentification(path, size);
  result.shard = shardInfoOf(basename(path));
  const format = sniffFormat(head, size, basename(path));
  result.format = format;
  result.securityTier = securityTierOf(format);

  switch (format) {
    case "gguf":
      merge(result, summarizeGguf(await readGguf(path)));
      break;
    case "ggml": {
      const ggml = sniffGgml(head);
      if (ggml) merge(result, summarizeGgml(ggml, head));
      break;
    }
    case "safetensors": {
      const header = await readSafetensorsHeader(path);
      const config = await readHfConfig(dirname(path), result.warnings);
      merge(result, summarizeSafetensors(header, { config }));
      break;
    }
    case "pickle":
      merge(result, await summarizePickle(path, head));
      break;
    case "onnx": {
      merge(result, summarizeOnnx(await readOnnxHeader(path)));
      const graph = await readOnnxGraphSummary(path);
      merge(result, describeOnnxGraph(graph));
      if (graph.externalData.length > 0 && result.onnx) result.onnx.externalData = graph.externalData;
      break;
    }
    case "lfs-pointer": {
      const info = parseLfsPointer(head);
      result.lfsPointer = info;
      if (info) result.warnings.push(lfsPointerMessage(path, info));
      break;
    }
    default: {
      // Unknown bytes under a name that promises a format with a magic: say so, rather than a bare "unknown".
      const ext = basename(path).toLowerCase().split(".").pop() ?? "";
      const promised: Record<string, string> = { gguf: "GGUF", safetensors: "safetensors", sft: "safetensors", onnx: "ONNX" };
      if (promised[ext] && size === 0) {
        throw new ModelLibraryError("E_TRUNCATED", `${path}: named .${ext} but the file is empty (0 bytes); the download or copy did not finish`, { path });
      }
      // A safetensors whose header length runs past the end (a download cut short): the reader names the truncation.
      if ((ext === "safetensors" || ext === "sft") && head.length >= 9 && head[8] === 0x7b) await readSafetensorsHeader(path);
      if (promised[ext]) {
        const first = head.subarray(0, 8);
        const shown = [...first].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : ".")).join("");
        throw new ModelLibraryError(
          "E_BAD_MAGIC",
          `${path}: named .${ext} but its bytes are not ${promised[ext]} (it starts with "${shown}", ${first.toString("hex")}); the file is damaged or not a model`,
          { path },
        );
      }
      break;
    }
  }
  if (size === 0) result.warnings.push("the file is empty (0 bytes)");
  if (await stat(`${path}.aria2`).then((s) => s.isFile(), () => false)) {
    // aria2 preallocates: full size and a valid header while the rest is still zeros.
    result.warnings.unshift(`still being downloaded: ${basename(path)}.aria2 (aria2's control file) is beside it; its content is not complete yet`);
  }
  const ext = basename(path).toLowerCase().split(".").pop() ?? "";
  if (format === "pickle" && SAFE_EXTENSIONS.has(ext)) {
    // A pickle under a safe format's name: whoever relies on the name is misled (mislabelled, or disguised on purpose).
    result.warnings.unshift(`named .${ext}, but it is a pickle, not ${SAFE_EXTENSIONS.get(ext)}: the name hides that loading it can run code`);
  }
  // Readers describe content; these two always come from the sniffed format and the file itself.
  result.format = format;
  result.securityTier = securityTierOf(format);
  result.path = path;
  result.fileSize = size;
  return result;
}
