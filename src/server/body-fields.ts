// Checks of the fields of a JSON request body: each field its type, its length and its shape, unknown fields
// refused, so a bad request is a 400 that names the field before anything runs.
import { isAbsolute } from "node:path";
import { HttpError } from "./http-json.js";

export function bad(message: string): HttpError {
  return new HttpError(400, "E_USAGE", message);
}

/** Refuses any field not in `known`. */
export function onlyFields(body: Record<string, unknown>, known: string[]): void {
  for (const key of Object.keys(body)) if (!known.includes(key)) throw bad(`unknown field "${key.slice(0, 40)}" (${known.join(", ")})`);
}

export interface StringRule {
  required?: boolean;
  max?: number;
  pattern?: RegExp;
  /** What the value should look like, for the message. */
  shape?: string;
}

export function stringField(body: Record<string, unknown>, name: string, rule: StringRule = {}): string | undefined {
  const v = body[name];
  if (v === undefined || v === null || v === "") {
    if (rule.required) throw bad(`${name} is required${rule.shape ? ` (${rule.shape})` : ""}`);
    return undefined;
  }
  if (typeof v !== "string") throw bad(`${name} must be a string`);
  if (v.length > (rule.max ?? 1000) || v.includes("\0")) throw bad(`${name} is too long or holds a NUL`);
  if (rule.pattern && !rule.pattern.test(v)) throw bad(`${name} "${v.slice(0, 100)}" is not ${rule.shape ?? "valid"}`);
  return v;
}

export function choiceField<T extends string>(body: Record<string, unknown>, name: string, choices: readonly T[]): T | undefined {
  const v = body[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string" || !choices.includes(v as T)) throw bad(`${name} must be one of ${choices.join(", ")}`);
  return v as T;
}

export function boolField(body: Record<string, unknown>, name: string): boolean {
  const v = body[name];
  if (v === undefined) return false;
  if (typeof v !== "boolean") throw bad(`${name} must be true or false`);
  return v;
}

/** An absolute path on this machine (the server never resolves a relative one against its own folder). */
export function absolutePathField(body: Record<string, unknown>, name: string): string {
  const v = body[name];
  if (typeof v !== "string" || !isAbsolute(v) || v.length > 4096 || v.includes("\0")) throw bad(`${name} must be an absolute path on this machine, not "${String(v).slice(0, 100)}"`);
  return v;
}

/** App profile ids: comfyui, a1111, my_app-2... */
export const APP_ID = /^[A-Za-z0-9][\w.-]{0,63}$/;
/** A Hub repo: owner/name, letters, digits, `-_.`, never `..`. */
export const REPO_ID = /^(?!.*\.\.)[A-Za-z0-9][\w.-]{0,95}\/[\w.-]{1,96}$/;
/** An app version or a Hub quant/revision: short words. */
export const SHORT_WORD = /^[\w.+-]{1,64}$/;
