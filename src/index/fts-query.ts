// Turns what a user typed into an FTS5 MATCH expression that cannot be misread as FTS5 syntax.
//
// Every term is wrapped in double quotes (inner quotes doubled), which makes `: ( ) + ^ * - NEAR AND OR NOT`
// plain text to FTS5; a `*` after the closing quote asks for a prefix match on the term's last token, so
// results appear while the user is still typing ("qwe" finds "qwen"). Terms are ANDed (FTS5's implicit
// operator between phrases): someone typing "qwen 7b" wants models that are both, not the union of every
// Qwen and every 7B model that OR would give (the original's behaviour).
//
// A prefix term can be expanded by the caller into the index's own terms (see PrefixExpander), which FTS5
// then reads as an OR of plain terms: measured 2-3x cheaper than its prefix scan when no prefix index fits.
//
// A term with no letter or digit ("-", "(", "***") would tokenize to nothing; it is dropped, as web search
// boxes drop punctuation, instead of becoming an empty phrase.

const HAS_TOKEN_CHAR = /[\p{L}\p{N}]/u;

const ONE_TOKEN = /^[\p{L}\p{N}]+$/u;

/** The user's terms that can match something: lowercased (NFKC), split on whitespace, punctuation-only terms dropped. */
export function queryTerms(input: string): string[] {
  return input
    .normalize("NFKC")
    .toLowerCase()
    .split(/\s+/u)
    .filter((t) => t.length > 0 && HAS_TOKEN_CHAR.test(t));
}

/**
 * The terms that decide the match: a one-token term that starts another one-token term ("lla" with
 * "llama", or a repeated word) is implied by it under AND + prefix matching, so it is left out: the same
 * rows match, and FTS5 does not build and intersect the doclists of that common prefix again.
 */
export function matchTerms(input: string): string[] {
  const terms = [...new Set(queryTerms(input))];
  return terms.filter((t) => !(ONE_TOKEN.test(t) && terms.some((o) => o !== t && o.startsWith(t) && ONE_TOKEN.test(o))));
}

/**
 * The indexed terms that start with `token` (a lowercase ASCII letters-and-digits token longer than the
 * prefix index covers), or null to leave the prefix query to FTS5.
 */
export type PrefixExpander = (token: string) => string[] | null;

// Prefix lengths FTS5 answers from its own prefix index (the tables' prefix='1 2 3'): never expanded.
const PREFIX_INDEXED_MAX = 3;
// The last token of a term, when it is one the index stores unchanged (ASCII: no case or diacritic folding).
const LAST_ASCII_TOKEN = /(?:^|[^\p{L}\p{N}\p{Co}])([a-z0-9]+)[^\p{L}\p{N}\p{Co}]*$/u;

const quote = (text: string): string => `"${text.replace(/"/g, '""')}"`;

/**
 * One term as a quoted FTS5 prefix phrase: `gpt-2` → `"gpt-2"*`, `a"b` → `"a""b"*`. With `expand`, a last
 * token the prefix index does not cover becomes the OR of the terms it expands to: `llama` →
 * `("llama" OR "llama3")`, `gpt-2` → `("gpt-2" OR "gpt-20b")`.
 */
export function quoteTerm(term: string, expand?: PrefixExpander): string {
  const x = expansion(term, expand);
  return x ? `(${x.terms.map((t) => quote(x.head + t)).join(" OR ")})` : `${quote(term)}*`;
}

/** The terms the last token of term expands to, and the text before that token; null when not expanded. */
function expansion(term: string, expand?: PrefixExpander): { head: string; terms: string[] } | null {
  const last = expand ? LAST_ASCII_TOKEN.exec(term) : null;
  if (!last || last[1].length <= PREFIX_INDEXED_MAX) return null;
  const terms = expand!(last[1]);
  if (!terms || terms.length === 0) return null;
  return { head: term.slice(0, last.index + last[0].indexOf(last[1])), terms };
}

// Names glue words and numbers in either way ("Meta-Llama-3.1" and "llama3-8b", "qwen2.5" and "Qwen 2.5"),
// and the tokenizer keeps "llama3" one token but "llama-3" two: so a term with a word run glued to a number
// also matches split ("llama3" → "llama3" or "llama 3"), and two adjacent terms also match glued ("llama 3" →
// "llama 3" or "llama3", "ultra sharp" → "ultrasharp"). Glued pairs are tried only in short queries (a
// query of n terms becomes n alternatives), and a glued alternative no indexed term starts is left out.
const MAX_GLUED_TERMS = 4;
// A run of two or more letters followed by a digit: "llama3", "qwen2.5", "sd15"; not "q4" or "v0" (quant
// and version tags, which names write glued).
const WORD_THEN_DIGIT = /(\p{L}{2,})(?=\p{N})/gu;

/** One matched term: the phrases (any of which may match) it stands for. */
type TermGroup = string[];

// A dotted version number, with or without its "v": names write "v0.3" (one token "v0", then "3") as often
// as "3.1" (two tokens), so "0.3" also looks for "v0.3" and "v3.1" also for "3.1".
const VERSION = /^(v?)(\d+(?:\.\d+)+)$/u;

// A model file's extension at the end of a pasted file name: names are indexed without it, so
// "Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf" also looks for the name alone.
const FILE_EXTENSION = /\.(?:gguf|ggml|safetensors|sft|ckpt|pt|pth|bin|onnx|pkl|pickle|llamafile)$/u;

/**
 * The term as typed, split between a word and the number glued to it when it has one, a dotted version
 * with its "v" added or taken off, and a pasted file name without its extension.
 */
function termGroup(term: string): TermGroup {
  const bare = term.replace(FILE_EXTENSION, "");
  if (bare !== term && HAS_TOKEN_CHAR.test(bare)) return [term, ...termGroup(bare)];
  const group = [term];
  const split = term.replace(WORD_THEN_DIGIT, "$1 ");
  if (split !== term) group.push(split);
  const version = VERSION.exec(term);
  if (version) group.push(version[1] ? version[2] : `v${version[2]}`);
  return group;
}

const gluable = (a: string, b: string): boolean => HAS_TOKEN_CHAR.test(a.slice(-1)) && HAS_TOKEN_CHAR.test(b[0]);

// An Ollama-style "name:tag" ("deepseek-r1:7b"): the tag is rarely next to the name in a file or repo name
// ("DeepSeek-R1-Distill-Qwen-7B"), so such a term also matches as two words.
const NAME_AND_TAG = /^([^:]*[\p{L}\p{N}][^:]*):([^:]*[\p{L}\p{N}][^:]*)$/u;
// A Hub tag ("license:mit", "base_model:...", "dataset:...") is not a name:tag: split, its key alone ("license")
// matches nearly every model, and the alternative cost the searches for such tags 2-3x (p99 of the search bench).
const HUB_TAG_KEY = /^(?:license|base_model|dataset|datasets|region|arxiv|doi|language|library|pipeline_tag)$/iu;

function nameAndTag(term: string): string[] | null {
  const m = NAME_AND_TAG.exec(term);
  return m && !HUB_TAG_KEY.test(m[1]) ? [m[1], m[2]] : null;
}

/** The ways the query can match: each an AND of term groups; the first is the terms as typed. */
function conjunctions(input: string): TermGroup[][] {
  const terms = matchTerms(input);
  if (terms.length === 0) return [];
  const out = [terms.map(termGroup)];
  if (terms.some((t) => nameAndTag(t))) {
    out.push(terms.flatMap((t) => nameAndTag(t) ?? [t]).map(termGroup));
  }
  if (terms.length <= MAX_GLUED_TERMS) {
    for (let i = 0; i + 1 < terms.length; i++) {
      if (!gluable(terms[i], terms[i + 1])) continue;
      out.push([...terms.slice(0, i).map(termGroup), [terms[i] + terms[i + 1]], ...terms.slice(i + 2).map(termGroup)]);
    }
  }
  return out;
}

/** A conjunction with a glued phrase no indexed term starts: it cannot match (known only with an expander). */
function cannotMatch(conj: TermGroup[], expand?: PrefixExpander): boolean {
  if (!expand) return false;
  return conj.some((group) =>
    group.every((phrase) => {
      const last = LAST_ASCII_TOKEN.exec(phrase);
      return !!last && last[1].length > PREFIX_INDEXED_MAX && expand(last[1])?.length === 0;
    }),
  );
}

/** The conjunctions worth sending: the terms as typed always, the glued ones that can match. */
function liveConjunctions(input: string, expand?: PrefixExpander): TermGroup[][] {
  return conjunctions(input).filter((conj, i) => i === 0 || !cannotMatch(conj, expand));
}

/**
 * Whether buildFtsQuery(input, _, expand) leaves FTS5 a prefix scan: a phrase whose last token is longer than
 * the prefix index covers and was not expanded. Such a scan merges every matching term's doclist before the
 * first row, so even a LIMIT 50 page of it costs what a count does.
 */
export function hasPrefixScan(input: string, expand?: PrefixExpander): boolean {
  return liveConjunctions(input, expand).some((conj) =>
    conj.some((group) =>
      group.some((t) => {
        const tokens = t.match(/[\p{L}\p{N}\p{Co}]+/gu) ?? [];
        const last = tokens[tokens.length - 1] ?? "";
        return [...last].length > PREFIX_INDEXED_MAX && expansion(t, expand) === null;
      }),
    ),
  );
}

/**
 * The MATCH expression for `input`, or null when nothing in it can match a token (the caller then lists
 * instead of searching). `columns` restricts every term to those FTS columns (`{name tags} : ...`);
 * `expand` turns long prefixes into the terms they match (see quoteTerm).
 */
export function buildFtsQuery(input: string, columns?: readonly string[], expand?: PrefixExpander): string | null {
  const conjs = liveConjunctions(input, expand);
  if (conjs.length === 0) return null;
  const renderGroup = (g: TermGroup): string => (g.length === 1 ? quoteTerm(g[0], expand) : `(${g.map((t) => quoteTerm(t, expand)).join(" OR ")})`);
  const renderConj = (c: TermGroup[]): string => c.map(renderGroup).join(" AND ");
  const body = conjs.length === 1 ? renderConj(conjs[0]) : conjs.map((c) => `(${renderConj(c)})`).join(" OR ");
  if (!columns || columns.length === 0) return body;
  return `{${columns.join(" ")}} : (${body})`;
}

/** Length in characters of the longest term: decides whether a query is a "short" (1-2 character) one. */
export function longestTermLength(input: string): number {
  return queryTerms(input).reduce((n, t) => Math.max(n, [...t].length), 0);
}
