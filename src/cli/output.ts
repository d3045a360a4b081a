// Printing for `mlib`: human sizes and counts, aligned tables, JSON. Results go to stdout; errors, prompts
// and progress go to stderr, so `mlib ... --json | jq` always sees clean JSON.

const BYTE_UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/** Binary units: `512 B`, `1.5 KiB`, `7.24 GiB` (three significant digits past 1 KiB). */
export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return "-";
  // Whole bytes (a rate in bytes per second is rarely whole): 467.55 → "468 B", 1023.7 → "1 KiB".
  if (n < 1024) n = Math.round(n);
  if (n < 1024) return `${n} B`;
  let v = n;
  let i = 0;
  while (v >= 1024 && i < BYTE_UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return `${threeDigits(v)} ${BYTE_UNITS[i]}`;
}

/** Parameter counts the way model cards write them: `950`, `1.2K`, `3.63K`, `7.24B`. */
export function formatCount(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return "-";
  const units: [number, string][] = [
    [1e12, "T"],
    [1e9, "B"],
    [1e6, "M"],
    [1e3, "K"],
  ];
  for (const [size, suffix] of units) if (Math.abs(n) >= size) return `${threeDigits(n / size)}${suffix}`;
  return String(n);
}

function threeDigits(v: number): string {
  const digits = v >= 100 ? 0 : v >= 10 ? 1 : 2;
  return String(Number(v.toFixed(digits)));
}

/** Milliseconds as `850 ms` or `2.4 s`. */
export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

// C0 controls, DEL, C1 controls (0x9b is a one-byte CSI on some terminals), and the bidi overrides and
// isolates that reorder what the terminal shows (U+202A-202E, U+2066-2069).
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex
const CONTROL_BUT_NEWLINE = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;
const NAMED: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

function escapeControl(c: string): string {
  const code = c.charCodeAt(0);
  return NAMED[c] ?? (code > 0xff ? `\\u${code.toString(16).padStart(4, "0")}` : `\\x${code.toString(16).padStart(2, "0")}`);
}

/**
 * Text from files and metadata (model names, tags, file names, messages naming them) made safe for a terminal:
 * control characters are shown escaped (`\x1b`, `\r`...) instead of moving the cursor, clearing the screen or
 * setting the title. Every human output goes through it (out, err, table, fields); JSON output never does.
 */
export function safeText(text: string, options: { keepNewlines?: boolean } = {}): string {
  return text.replace(options.keepNewlines ? CONTROL_BUT_NEWLINE : CONTROL, escapeControl);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function out(line = ""): void {
  // One call, one line: a newline inside (from a file name, a tag) must not fake a second line.
  process.stdout.write(`${safeText(line)}\n`);
}

/** An error or notice for the user: `mlib: <message>` on stderr. */
export function err(message: string): void {
  process.stderr.write(`mlib: ${safeText(message)}\n`);
}

export interface Column {
  header: string;
  /** Right-aligned (numbers, sizes). */
  right?: boolean;
}

/** Rows as aligned columns, two spaces apart; the last column is never padded. */
export function table(columns: Column[], rows: string[][]): string[] {
  rows = rows.map((r) => r.map((cell) => safeText(cell ?? ""))); // escaped before measuring, so columns stay aligned
  const widths = columns.map((c, i) => Math.max(c.header.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => {
        const last = i === cells.length - 1;
        if (columns[i].right) return cell.padStart(widths[i]);
        return last ? cell : cell.padEnd(widths[i]);
      })
      .join("  ")
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...rows.map((r) => line(columns.map((_, i) => r[i] ?? "")))];
}

/** `key  value` lines with the keys padded to one width; null/empty values are left out. */
export function fields(pairs: [string, string | null | undefined][], indent = "  "): string[] {
  const shown = pairs
    .filter((p): p is [string, string] => p[1] !== null && p[1] !== undefined && p[1] !== "")
    .map(([k, v]): [string, string] => [k, safeText(v)]);
  const width = Math.max(0, ...shown.map(([k]) => k.length));
  return shown.map(([k, v]) => `${indent}${k.padEnd(width)}  ${v}`);
}

/** `a=3, b=1` from a count map (already sorted by the index: most first). */
export function countsLine(counts: Record<string, number>): string {
  const entries = Object.entries(counts);
  return entries.length === 0 ? "-" : entries.map(([k, n]) => `${k} ${n}`).join(", ");
}
