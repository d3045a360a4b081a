import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { buildFtsQuery, matchTerms, queryTerms, quoteTerm, longestTermLength } from "../../src/storage/fts-query.js";

describe("buildFtsQuery", () => {
  // The original's cases (§7), with the decided changes: every term quoted, terms ANDed.
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
