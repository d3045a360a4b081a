// Editing what a person says about a model: its display name, tags and notes. The change goes through the
// library's atomic metadata path (read-modify-write under the commit lock, metadata.json.bak kept, index row
// updated); the model's id and folder never change. Each field edited by hand is listed in `manual_fields`, so
// a later Hub lookup knows to leave it alone (the original could only mark the whole record "manual").
import { ModelLibraryError, throwIfAborted } from "../core/errors.js";
import type { ModelMetadata } from "../store/metadata.js";
import type { ModelLibrary } from "../store/model-library.js";
import type { OperationOptions } from "./types.js";

export interface EditModelParams {
  id: string;
  /** New display name (official_name); the folder keeps its name. */
  name?: string;
  /** The whole new tag list (replaces the old one). */
  tags?: string[];
  /** New notes; "" or null clears them. */
  notes?: string | null;
}

export interface EditModelResult {
  id: string;
  /** The metadata fields that were written (snake_case), e.g. ["official_name", "tags"]. */
  changed: string[];
  metadata: ModelMetadata;
}

/** The metadata.json field listing the fields a person set by hand. */
export const MANUAL_FIELDS = "manual_fields";

const MAX_NAME = 300;
const MAX_TAG = 100;
const MAX_TAGS = 200;
const MAX_NOTES = 100_000;
const hasControl = (s: string): boolean => [...s].some((c) => c.charCodeAt(0) < 0x20);

/** Throws E_USAGE naming what is wrong; returns the cleaned values. */
export function checkEditParams(params: EditModelParams): { name?: string; tags?: string[]; notes?: string | null } {
  const out: { name?: string; tags?: string[]; notes?: string | null } = {};
  if (params.name !== undefined) {
    if (typeof params.name !== "string") throw usage("name must be a string");
    const name = params.name.trim();
    if (name === "") throw usage("name must not be empty");
    if (name.length > MAX_NAME) throw usage(`name is longer than ${MAX_NAME} characters`);
    if (hasControl(name)) throw usage("name must not contain control characters");
    out.name = name;
  }
  if (params.tags !== undefined) {
    if (!Array.isArray(params.tags) || params.tags.some((t) => typeof t !== "string")) throw usage("tags must be a list of strings");
    const tags = [...new Set(params.tags.map((t) => t.trim()).filter((t) => t !== ""))];
    if (tags.length > MAX_TAGS) throw usage(`more than ${MAX_TAGS} tags`);
    const bad = tags.find((t) => t.length > MAX_TAG || t.includes(",") || hasControl(t));
    if (bad !== undefined) throw usage(`tag "${bad.slice(0, 40)}" is too long or holds a comma or control character`);
    out.tags = tags;
  }
  if (params.notes !== undefined) {
    if (params.notes !== null && typeof params.notes !== "string") throw usage("notes must be a string or null");
    const notes = params.notes === null || params.notes.trim() === "" ? null : params.notes;
    if (notes !== null && notes.length > MAX_NOTES) throw usage(`notes are longer than ${MAX_NOTES} characters`);
    out.notes = notes;
  }
  return out;
}

export async function editModel(library: ModelLibrary, params: EditModelParams, options: OperationOptions = {}): Promise<EditModelResult> {
  const edit = checkEditParams(params);
  const id = library.require(params.id).id;
  throwIfAborted(options.signal, `edit of ${id}`);
  const changed: string[] = [];
  if (edit.name !== undefined) changed.push("official_name");
  if (edit.tags !== undefined) changed.push("tags");
  if (edit.notes !== undefined) changed.push("notes");
  if (changed.length === 0) throw usage("nothing to change: give a name, tags or notes");
  options.onProgress?.({ op: "edit", phase: "commit", item: id });
  const metadata = await library.updateMetadata(id, (m) => {
    if (edit.name !== undefined) m.official_name = edit.name;
    if (edit.tags !== undefined) m.tags = edit.tags;
    if (edit.notes !== undefined) m.notes = edit.notes;
    const before = Array.isArray(m[MANUAL_FIELDS]) ? (m[MANUAL_FIELDS] as unknown[]).filter((x): x is string => typeof x === "string") : [];
    m[MANUAL_FIELDS] = [...new Set([...before, ...changed])].sort();
  });
  options.onProgress?.({ op: "edit", phase: "done", item: id });
  return { id, changed, metadata };
}

function usage(message: string): ModelLibraryError {
  return new ModelLibraryError("E_USAGE", `edit: ${message}`);
}
