// How results read on a terminal, shared by the commands that print them (identify, import, verify, demo):
// each function turns one operation result into lines; the commands only choose between these and --json.
import type { Identification } from "../formats/types.js";
import type { ImportResult } from "../operations/import-models.js";
import type { VerifyFileResult, VerifyResult } from "../operations/verify-models.js";
import { err, fields, formatBytes, formatCount, out } from "./output.js";

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

export function printImportResults(results: ImportResult[]): void {
  for (const r of results) {
    if (r.status === "imported") {
      out(`imported   ${r.modelId}  (${r.format}, ${r.files} file${r.files === 1 ? "" : "s"}, ${formatBytes(r.bytes)})`);
      out(`           ${r.path}`);
      for (const w of r.warnings) out(`           warning: ${w}`);
    } else if (r.status === "duplicate") {
      out(`duplicate  ${r.source}: already in the library as ${r.duplicateOf}`);
    } else {
      err(r.error?.message ?? `${r.source}: import failed`);
    }
  }
}

export function describeVerify(r: VerifyResult, dir: string): string[] {
  const bytes = r.files.reduce((a, f) => a + (f.actual.size ?? 0), 0);
  if (r.ok) {
    const unhashed = r.files.filter((f) => f.status === "unhashed").length;
    const ambiguous = r.files.filter((f) => f.status === "ambiguous").length;
    const note = (unhashed > 0 ? `, ${unhashed} without a recorded hash (not checked)` : "") +
      (ambiguous > 0 ? `, ${ambiguous} listed by a bare name several sub-folders hold (not checked)` : "");
    return [`OK      ${r.id}  (${r.files.length} file${r.files.length === 1 ? "" : "s"}, ${formatBytes(bytes)}${note})`];
  }
  const lines = [`FAILED  ${r.id}`];
  if (r.error) lines.push(`        ${r.error}`);
  for (const f of r.files) {
    const text = describeFile(f);
    if (text) lines.push(`        ${dir}/${f.path ?? f.name}: ${text}`);
  }
  return lines;
}

function describeFile(f: VerifyFileResult): string | null {
  switch (f.status) {
    case "missing":
      return "missing";
    case "ambiguous":
      return "listed by its bare name, which several sub-folders hold (not checked)";
    case "size-mismatch":
      return `size changed (recorded ${f.expected.size} bytes, found ${f.actual.size})`;
    case "hash-mismatch": {
      const which = f.expected.sha256 && f.expected.sha256 !== f.actual.sha256 ? "sha256" : "blake3";
      const expected = which === "sha256" ? f.expected.sha256 : f.expected.blake3;
      const actual = which === "sha256" ? f.actual.sha256 : f.actual.blake3;
      return `content changed (${which} recorded ${expected}, now ${actual})`;
    }
    default:
      return null;
  }
}
