// Numbers as people read them (the same rules as the CLI's output.ts).

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

export function formatBytes(n) {
  if (n === null || n === undefined || !Number.isFinite(n)) return "-";
  if (n < 1024) return `${n} B`;
  let v = n;
  let i = 0;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return `${threeDigits(v)} ${UNITS[i]}`;
}

export function formatCount(n) {
  if (n === null || n === undefined || !Number.isFinite(n)) return "-";
  for (const [size, suffix] of [[1e12, "T"], [1e9, "B"], [1e6, "M"], [1e3, "K"]]) if (Math.abs(n) >= size) return `${threeDigits(n / size)}${suffix}`;
  return String(n);
}

function threeDigits(v) {
  const digits = v >= 100 ? 0 : v >= 10 ? 1 : 2;
  return String(Number(v.toFixed(digits)));
}

export function formatNumber(n) {
  return Number.isFinite(n) ? n.toLocaleString("en-US") : "-";
}

export function formatDate(iso) {
  if (!iso) return "-";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toISOString().slice(0, 16).replace("T", " ");
}
