// `mlib identify PATH...`: what each file (or model folder) is, from its own bytes. Reads only.
import type { Command } from "commander";
import { ModelLibraryError } from "../../core/errors.js";
import type { Identification } from "../../formats/types.js";
import { commonOptions, markFailed, withCommonOptions } from "../common.js";
import { err, fields, formatBytes, formatCount, out, printJson, safeText } from "../output.js";

export function register(program: Command): void {
  const cmd = program
    .command("identify")
    .description("identify model files or folders (format, type, family, quantization, parameters...)")
    .argument("<path...>", "model files or folders")
    .action(async (paths: string[]) => {
      const common = commonOptions(cmd);
      const { identify } = await import("../../identify/identify.js");
      const records: unknown[] = [];
      for (const [i, path] of paths.entries()) {
        try {
          const ident = await identify(path);
          if (common.json) records.push(ident);
          else {
            if (i > 0) out();
            for (const line of describeIdentification(ident)) out(line);
          }
        } catch (e) {
          markFailed();
          const error = errorInfo(e);
          if (common.json) records.push({ path, error });
          else err(error.message);
          if (common.debug) process.stderr.write(`${safeText((e as Error)?.stack ?? String(e), { keepNewlines: true })}\n`);
        }
      }
      if (common.json) printJson(records);
    });
  withCommonOptions(cmd, { library: false });
}

export function errorInfo(e: unknown): { code: string; message: string } {
  if (e instanceof ModelLibraryError) return { code: e.code, message: e.message };
  return { code: "E_IO", message: e instanceof Error ? e.message : String(e) };
}

/** A compact human summary of one identification. */
export function describeIdentification(id: Identification): string[] {
  const lines = [id.path];
  if (id.format === "lfs-pointer" && id.folder) {
    lines.push(`  NOT DOWNLOADED: ${id.warnings[0] ?? "its weight files are Git LFS pointers"}`);
  } else if (id.format === "lfs-pointer") {
    const size = id.lfsPointer ? ` (the real file is ${formatBytes(id.lfsPointer.size)}, ${id.lfsPointer.oid})` : "";
    lines.push(`  NOT DOWNLOADED: a Git LFS pointer, not the model: the file was never downloaded${size}.`);
    lines.push("  Run `git lfs pull` in the repository, or download the file again.");
    return lines;
  }
  const format = [id.format, id.ggufVersion !== null ? `v${id.ggufVersion}` : null].filter(Boolean).join(" ");
  const tier = id.securityTier === "pickle" ? "pickle: loading it can run code" : id.securityTier;
  const type = [id.modelType, id.subtype].filter(Boolean).join(" / ");
  const folder = id.folder
    ? `${id.folder.kind}, ${id.folder.weightFiles.length} weight file(s), ${id.folder.files.length} file(s)` +
      (id.folder.complete
        ? ", complete"
        : id.folder.missingFiles.length > 0
          ? `, INCOMPLETE: missing ${id.folder.missingFiles.slice(0, 8).join(", ")}${id.folder.missingFiles.length > 8 ? `, ... (${id.folder.missingFiles.length})` : ""}`
          : ", not usable as it is")
    : null;
  const shard = id.shard ? `${id.shard.index} of ${id.shard.total ?? "?"} (set ${id.shard.setKey})` : null;
  lines.push(
    ...fields([
      ["format", `${format} (${tier})`],
      ["type", type],
      ["family", id.family],
      ["architecture", id.architecture && id.architecture !== id.family ? id.architecture : null],
      ["name", id.name],
      ["quantization", id.quantization],
      ["lora", id.loraFormat],
      ["params", id.parameterCount !== null ? formatCount(id.parameterCount) : null],
      ["context", id.contextLength !== null ? String(id.contextLength) : null],
      ["size", `${formatBytes(id.fileSize)} (${id.fileSize} bytes)`],
      ["shard", shard],
      ["folder", folder],
      ["onnx", id.onnx ? `ir_version ${id.onnx.irVersion ?? "?"}, producer ${[id.onnx.producerName, id.onnx.producerVersion].filter(Boolean).join(" ") || "?"}, opset ${id.onnx.opsetImports.map((o) => `${o.domain || "ai.onnx"} ${o.version}`).join(", ") || "?"}` : null],
      ["entries", id.pickleEntries ? `${id.pickleEntries.slice(0, 4).join(", ")}${id.pickleEntries.length > 4 ? `, ... (${id.pickleEntries.length})` : ""}` : null],
    ]),
  );
  for (const w of id.format === "lfs-pointer" && id.folder ? id.warnings.slice(1) : id.warnings) lines.push(`  warning: ${w}`);
  return lines;
}
