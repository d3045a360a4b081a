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
    // (plus the two words glued, as a name may write them: see "joined and split words")
    assert.equal(buildFtsQuery("llama model"), '("llama"* AND "model"*) OR ("llamamodel"*)');
    assert.equal(buildFtsQuery("qwen 7b"), '("qwen"* AND "7b"*) OR ("qwen7b"*)');
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
    for (const input of [":b", "b:", "-x", "^start", "(paren", "star*", "+plus", "NEAR", "AND", "OR", "NOT", "x}", "{y"]) {
      const q = buildFtsQuery(input);
      assert.ok(q !== null, input);
      assert.match(q, /^"[^]*"\*$/, `${input} → ${q}`);
      // Apart from the doubled quotes, nothing of the input is outside the quotes.
      assert.equal(q.slice(1, -2).replace(/""/g, '"'), input.toLowerCase());
    }
  });
  test("keywords are lowercased so FTS5 cannot read them as operators", () => {
    assert.equal(buildFtsQuery("llama AND qwen"), '("llama"* AND "and"* AND "qwen"*) OR ("llamaand"* AND "qwen"*) OR ("llama"* AND "andqwen"*)');
  });
  test("column restriction wraps the whole expression", () => {
    assert.equal(buildFtsQuery("ll qw", ["name"]), '{name} : (("ll"* AND "qw"*) OR ("llqw"*))');
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
    assert.equal(buildFtsQuery("q qwen 7b"), '("qwen"* AND "7b"*) OR ("qwen7b"*)');
    // Phrases are not single tokens: "gpt" does not imply "gpt-2" rows the same way, both stay.
    assert.equal(buildFtsQuery("gpt gpt-2"), '("gpt"* AND "gpt-2"*) OR ("gptgpt-2"*)');
    assert.equal(buildFtsQuery("qwen wen"), '("qwen"* AND "wen"*) OR ("qwenwen"*)', "only a prefix, not any substring");
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
    // "llama3" also as "llama 3"; "llama3safetensors" is left out: no indexed term starts with it.
    assert.equal(buildFtsQuery("LLAMA3 safetensors", undefined, expand), '(("llama3") OR "llama 3"*) AND ("safetensors")');
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

describe("joined and split words", () => {
  test("a word glued to a number also matches split: llama3 → llama3 or llama 3", () => {
    assert.equal(buildFtsQuery("llama3"), '("llama3"* OR "llama 3"*)');
    assert.equal(buildFtsQuery("Qwen2.5"), '("qwen2.5"* OR "qwen 2.5"*)');
    assert.equal(buildFtsQuery("q4_k_m"), '"q4_k_m"*', "one letter before the digit (quant, version tags): as typed");
    assert.equal(buildFtsQuery("q4"), '"q4"*');
  });
  test("a dotted version also matches with its v added or taken off: 0.3 → v0.3, v3.1 → 3.1", () => {
    assert.equal(buildFtsQuery("0.3"), '("0.3"* OR "v0.3"*)');
    assert.equal(buildFtsQuery("V3.1"), '("v3.1"* OR "3.1"*)');
    assert.equal(buildFtsQuery("7b"), '"7b"*', "not a dotted version");
    assert.equal(buildFtsQuery("v2"), '"v2"*', "not dotted: v2 is a name's word as often as a version");
  });
  test("a pasted file name also matches without its extension", () => {
    assert.equal(buildFtsQuery("sdxl_vae.safetensors"), '("sdxl_vae.safetensors"* OR "sdxl_vae"*)');
    assert.equal(buildFtsQuery("Llama-2-13b.Q4_0.GGUF"), '("llama-2-13b.q4_0.gguf"* OR "llama-2-13b.q4_0"*)');
    assert.equal(buildFtsQuery(".gguf"), '".gguf"*', "the extension alone is a word to look for");
    assert.equal(buildFtsQuery("ggufs"), '"ggufs"*');
  });
  test("an Ollama-style name:tag also matches as two words", () => {
    assert.equal(buildFtsQuery("deepseek-r1:7b"), '("deepseek-r1:7b"*) OR ("deepseek-r1"* AND "7b"*)');
    // A Hub tag is not a name:tag: "license" alone would match nearly every model.
    assert.equal(buildFtsQuery("license:mit"), '"license:mit"*');
    assert.equal(buildFtsQuery("base_model:meta-llama"), '"base_model:meta-llama"*');
    assert.equal(buildFtsQuery("a:b"), '("a:b"*) OR ("a"* AND "b"*)', "the colon stays inside quotes: no column filter");
    assert.equal(buildFtsQuery("a:b:c"), '"a:b:c"*', "not one name and one tag");
    assert.equal(buildFtsQuery("llama:"), '"llama:"*');
  });
  test("two adjacent terms also match glued: llama 3 → llama 3 or llama3", () => {
    assert.equal(buildFtsQuery("llama 3"), '("llama"* AND "3"*) OR ("llama3"*)');
    assert.equal(buildFtsQuery("ultra sharp"), '("ultra"* AND "sharp"*) OR ("ultrasharp"*)');
    assert.equal(buildFtsQuery("llama -"), '"llama"*', "a dropped term is not glued");
  });
  test("a glued alternative no indexed term starts is left out", () => {
    const vocab = ["llama", "llama3", "ultrasharp", "ultra", "sharp", "3"];
    const expand = (t: string): string[] => vocab.filter((v) => v.startsWith(t));
    assert.equal(buildFtsQuery("llama sharp", undefined, expand), '("llama" OR "llama3") AND ("sharp")');
    assert.equal(buildFtsQuery("ultra sharp", undefined, expand), '(("ultrasharp" OR "ultra") AND ("sharp")) OR (("ultrasharp"))');
    assert.equal(hasPrefixScan("llama sharp", expand), false, "a dropped alternative is no prefix scan");
  });
  test("long queries are not glued pairwise (n terms would give n alternatives)", () => {
    const q = "a1 b2 c3 d4 e5 f6";
    assert.equal(buildFtsQuery(q), '"a1"* AND "b2"* AND "c3"* AND "d4"* AND "e5"* AND "f6"*');
    const long = Array.from({ length: 60 }, (_, i) => `word${i}`).join(" ");
    assert.ok(!buildFtsQuery(long)!.includes(") OR ("), "a 60-term query stays one AND");
  });
});
