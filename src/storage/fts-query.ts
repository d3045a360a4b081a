// Turns what a user typed into an FTS5 MATCH expression that cannot be misread as FTS5 syntax.
//
// Every term is wrapped in double quotes (inner quotes doubled), which makes `: ( ) + ^ * - NEAR AND OR NOT`
// plain text to FTS5; a `*` after the closing quote asks for a prefix match on the term's last token, so
// results appear while the user is still typing ("qwe" finds "qwen"). Terms are ANDed (FTS5's implicit
// operator between phrases): someone typing "qwen 7b" wants models that are both, not the union of every
// Qwen and every 7B model that OR would give (the original's behaviour).
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

/** One term as a quoted FTS5 prefix phrase: `gpt-2` → `"gpt-2"*`, `a"b` → `"a""b"*`. */
export function quoteTerm(term: string): string {
  return `"${term.replace(/"/g, '""')}"*`;
}

/**
 * The MATCH expression for `input`, or null when nothing in it can match a token (the caller then lists
 * instead of searching). `columns` restricts every term to those FTS columns (`{name tags} : ...`).
 */
export function buildFtsQuery(input: string, columns?: readonly string[]): string | null {
  const terms = matchTerms(input);
  if (terms.length === 0) return null;
  const body = terms.map(quoteTerm).join(" AND ");
  if (!columns || columns.length === 0) return body;
  return `{${columns.join(" ")}} : (${body})`;
}

/** Length in characters of the longest term: decides whether a query is a "short" (1-2 character) one. */
export function longestTermLength(input: string): number {
  return queryTerms(input).reduce((n, t) => Math.max(n, [...t].length), 0);
}
