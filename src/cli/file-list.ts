// `--file` values: a comma-separated list (users' scripts pass `--file a.gguf,b.gguf`), repeatable, where `\,` is a
// comma inside a name (`--file 'weights\,v2.gguf'`) and `\\` a backslash. Before, every comma split, so a Hub file
// whose name holds one could not be chosen at all.
import { InvalidArgumentError } from "commander";

/** Splits one value on its unescaped commas; names are trimmed (as the comma list always was), empty ones dropped. */
export function splitFileList(value: string): string[] {
  const names: string[] = [];
  let current = "";
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === "\\" && (value[i + 1] === "," || value[i + 1] === "\\")) {
      current += value[++i];
    } else if (c === ",") {
      names.push(current);
      current = "";
    } else {
      current += c;
    }
  }
  names.push(current);
  return names.map((n) => n.trim()).filter((n) => n !== "");
}

/** Commander's collector for a repeatable, comma-separated, escapable `--file`. */
export function collectFiles(value: string, previous: string[] | undefined): string[] {
  const names = splitFileList(value);
  if (names.length === 0) throw new InvalidArgumentError("expected a file path (or several, comma-separated).");
  return [...(previous ?? []), ...names];
}
