// A small semver range check for app versions (`--app-version`) against `overrides.json` `version_ranges`
// and a mapping config's `version_range`. Supports what people write in such files: `*`, `1.2.3`, `1.2`,
// `1.x`, comparators (`>=1.2 <2`), `^1.2.3`, `~1.2`, `1.0 - 2.0` and `||` alternatives. Pre-release tags are
// ignored (a version `1.2.0-rc1` compares as 1.2.0): app versions here are release numbers.
import { ModelLibraryError } from "../core/errors.js";

type Triple = [number, number, number];

function parseVersion(v: string): { parts: Triple; given: number } | null {
  const m = /^v?(\d+|[xX*])(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?(?:[-+].*)?$/.exec(v.trim());
  if (!m) return null;
  const raw = [m[1], m[2], m[3]];
  let given = 0;
  const parts: Triple = [0, 0, 0];
  for (let i = 0; i < 3; i++) {
    const p = raw[i];
    if (p === undefined || /^[xX*]$/.test(p)) break;
    parts[i] = Number(p);
    given++;
  }
  return { parts, given };
}

function cmp(a: Triple, b: Triple): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return 0;
}

/** The upper bound (exclusive) of a partial version: `1.2` → `1.3.0`, `1` → `2.0.0`. */
function bump(parts: Triple, given: number): Triple {
  if (given === 0) return [Infinity, 0, 0];
  const out: Triple = [parts[0], parts[1], parts[2]];
  out[given - 1]++;
  for (let i = given; i < 3; i++) out[i] = 0;
  return out;
}

type Test = (v: Triple) => boolean;

function comparator(token: string, range: string): Test {
  const m = /^(>=|<=|>|<|=|\^|~)?\s*(.+)$/.exec(token);
  const bad = () => new ModelLibraryError("E_INVALID", `version range "${range}": cannot read "${token}"`);
  if (!m) throw bad();
  const op = m[1] ?? "";
  const ver = parseVersion(m[2]);
  if (!ver) throw bad();
  const { parts, given } = ver;
  const upper = bump(parts, given);
  switch (op) {
    case ">=":
      return (v) => cmp(v, parts) >= 0;
    case ">":
      return (v) => cmp(v, upper) >= 0 || (given === 3 && cmp(v, parts) > 0);
    case "<":
      return (v) => cmp(v, parts) < 0;
    case "<=":
      return (v) => cmp(v, upper) < 0;
    case "^": {
      // ^1.2.3 := >=1.2.3 <2.0.0; ^0.2.3 := <0.3.0; ^0.0.3 := <0.0.4
      const first = parts[0] !== 0 || given === 1 ? 1 : parts[1] !== 0 || given === 2 ? 2 : 3;
      const hi = bump(parts, Math.min(first, Math.max(given, 1)));
      return (v) => cmp(v, parts) >= 0 && cmp(v, hi) < 0;
    }
    case "~": {
      const hi = bump(parts, Math.min(Math.max(given, 1), 2));
      return (v) => cmp(v, parts) >= 0 && cmp(v, hi) < 0;
    }
    default:
      // `1.2.3` exact, `1.2` / `1.x` a whole minor line, `*` anything
      return (v) => cmp(v, parts) >= 0 && cmp(v, upper) < 0;
  }
}

/** Checks `range` is readable (throws E_INVALID naming the bad part). */
export function validateRange(range: string): void {
  satisfies("0.0.0", range);
}

/** True when `version` lies in `range`. A version that is not a version number never satisfies a range. */
export function satisfies(version: string, range: string): boolean {
  const v = parseVersion(version);
  const alternatives = range.split("||").map((s) => s.trim());
  let result = false;
  for (const alt of alternatives) {
    let tests: Test[];
    const hyphen = /^(\S+)\s+-\s+(\S+)$/.exec(alt);
    if (hyphen) tests = [comparator(`>=${hyphen[1]}`, range), comparator(`<=${hyphen[2]}`, range)];
    else if (alt === "" || alt === "*") tests = [() => true];
    else tests = alt.replace(/(>=|<=|>|<|=|\^|~)\s+/g, "$1").split(/\s+/).map((t) => comparator(t, range));
    if (v && tests.every((t) => t(v.parts))) result = true;
  }
  return result;
}
