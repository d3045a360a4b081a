import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { buildFtsQuery, hasPrefixScan, matchTerms, queryTerms, quoteTerm, longestTermLength } from "../../src/index/fts-query.js";

describe("buildFtsQuery", () => {
  // The original's cases, with the decided changes: every term quoted, terms ANDed.
  test("one word: quoted prefix", () => {
    assert.equal(buildFtsQuery("llama"), '"llama"*');
  });
  test("hyphenated term stays one phrase", () => {
    assert.equal(buildFtsQuery("gpt-2"), '"gpt-2"*');
  });
  test("several words are ANDed, not ORed", () => {
    assert.equal(buildFtsQuery("llama model"), '"llama"* AND "model"*');
    assert.equal(buildFtsQuery("qwen 7b"), '"qwen"* AND "7b"*');
  });
  test("lowercased and trimmed", () => {
    assert.equal(buildFtsQuery("  GPT-2  "), '"gpt-2"*');
  });
  test("inner double quotes are doubled", () => {
    assert.equal(buildFtsQuery('test"quote'), '"test""quote"*');
    assert.equal(quoteTerm('a"b"c'), '"a""b""c"*');
  });
  test("empty and whitespace-only give null", () => {
    assert.equal(buildFtsQuery(""), null);
    assert.equal(buildFtsQuery("   \t\n "), null);
  });
  test("punctuation-only terms are dropped", () => {
    assert.equal(buildFtsQuery("( * )"), null);
    assert.equal(buildFtsQuery("llama -"), '"llama"*');
    assert.deepEqual(queryTerms('" * ( ) : ^ + -'), []);
  });
  test("FTS operators and syntax characters end up inside quotes", () => {
    for (const input of ["a:b", "-x", "^start", "(paren", "star*", "+plus", "NEAR", "AND", "OR", "NOT", "x}", "{y"]) {
      const q = buildFtsQuery(input);
      assert.ok(q !== null, input);
      assert.match(q, /^"[^]*"\*$/, `${input} → ${q}`);
      // Apart from the doubled quotes, nothing of the input is outside the quotes.
      assert.equal(q.slice(1, -2).replace(/""/g, '"'), input.toLowerCase());
    }
  });
  test("keywords are lowercased so FTS5 cannot read them as operators", () => {
    assert.equal(buildFtsQuery("llama AND qwen"), '"llama"* AND "and"* AND "qwen"*');
  });
  test("column restriction wraps the whole expression", () => {
    assert.equal(buildFtsQuery("ll qw", ["name"]), '{name} : ("ll"* AND "qw"*)');
    assert.equal(buildFtsQuery("x", ["name", "tags"]), '{name tags} : ("x"*)');
  });
  test("unicode: NFKC and case folding", () => {
    assert.equal(buildFtsQuery("ＬＬＡＭＡ"), '"llama"*');
    assert.equal(buildFtsQuery("Éclair"), '"éclair"*');
  });
  test("longestTermLength counts characters, not bytes", () => {
    assert.equal(longestTermLength("a bc"), 2);
    assert.equal(longestTermLength("日本"), 2);
    assert.equal(longestTermLength("qwen 7b"), 4);
    assert.equal(longestTermLength(""), 0);
  });
  test("a one-token term implied by a longer one under AND + prefix is left out; repeats once", () => {
    assert.equal(buildFtsQuery("safeten safetensors"), '"safetensors"*');
    assert.equal(buildFtsQuery("llama LLAMA"), '"llama"*');
    assert.equal(buildFtsQuery("q qwen 7b"), '"qwen"* AND "7b"*');
    // Phrases are not single tokens: "gpt" does not imply "gpt-2" rows the same way, both stay.
    assert.equal(buildFtsQuery("gpt gpt-2"), '"gpt"* AND "gpt-2"*');
    assert.equal(buildFtsQuery("qwen wen"), '"qwen"* AND "wen"*', "only a prefix, not any substring");
    assert.deepEqual(matchTerms("b a b"), ["b", "a"]);
  });
});

describe("prefix expansion", () => {
  const vocab = ["llama", "llama3", "llamacpp", "safetensors", "gpt", "2", "20b"];
  const expand = (token: string): string[] | null => {
    if (token === "many") return null; // the caller says: too many terms, let FTS5 scan
    return vocab.filter((t) => t.startsWith(token));
  };
  test("a long prefix becomes the OR of the index's terms it covers", () => {
    assert.equal(buildFtsQuery("llama", undefined, expand), '("llama" OR "llama3" OR "llamacpp")');
    assert.equal(buildFtsQuery("LLAMA3 safetensors", undefined, expand), '("llama3") AND ("safetensors")');
  });
  test("only the last token of a phrase is expanded; the rest of the term stays as typed", () => {
    assert.equal(quoteTerm("gpt-2000", expand), '"gpt-2000"*', "no term starts with 2000: FTS5's own prefix query");
    assert.equal(quoteTerm("license:llama3", expand), '("license:llama3")');
    assert.equal(quoteTerm('x"llama', expand), '("x""llama" OR "x""llama3" OR "x""llamacpp")');
    assert.equal(quoteTerm("llama-", expand), '("llama" OR "llama3" OR "llamacpp")');
  });
  test("left to FTS5: prefixes its prefix index covers, non-ASCII tokens, unknown prefixes, too many terms", () => {
    assert.equal(quoteTerm("lla", expand), '"lla"*');
    assert.equal(quoteTerm("llamaé", expand), '"llamaé"*');
    assert.equal(quoteTerm("café", expand), '"café"*');
    assert.equal(quoteTerm("zzzz", expand), '"zzzz"*');
    assert.equal(quoteTerm("many", expand), '"many"*');
  });
  test("hasPrefixScan: true when a long last token was not expanded", () => {
    assert.equal(hasPrefixScan("llama safetensors", expand), false);
    assert.equal(hasPrefixScan("lla 7b", expand), false, "prefix index");
    assert.equal(hasPrefixScan("llama many", expand), true);
    assert.equal(hasPrefixScan("café", expand), true);
    assert.equal(hasPrefixScan("llama"), true, "no expander at all");
  });
});
