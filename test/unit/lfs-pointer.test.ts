import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { lfsPointerMessage, parseLfsPointer } from "../../src/formats/lfs-pointer.js";

const HEX = "16c3724582d59aa8bf84711894e833f916ee46a31d80e21312759c48bf8d0e69";
const pointer = (lines: string[], eol = "\n") => Buffer.from(lines.join(eol) + eol);
const GOOD = ["version https://git-lfs.github.com/spec/v1", `oid sha256:${HEX}`, "size 723869"];

describe("parseLfsPointer", () => {
  test("a standard pointer", () => {
    assert.deepEqual(parseLfsPointer(pointer(GOOD)), { oid: `sha256:${HEX}`, size: 723869 });
  });

  test("CRLF line ends and an uppercase hash are accepted (hash lowercased)", () => {
    const lines = [GOOD[0], `oid sha256:${HEX.toUpperCase()}`, GOOD[2]];
    assert.deepEqual(parseLfsPointer(pointer(lines, "\r\n")), { oid: `sha256:${HEX}`, size: 723869 });
  });

  test("extension keys are allowed", () => {
    const lines = [GOOD[0], "ext-0-foo sha256:" + "a".repeat(64), GOOD[1], GOOD[2]];
    assert.deepEqual(parseLfsPointer(pointer(lines)), { oid: `sha256:${HEX}`, size: 723869 });
  });

  const bad: [string, Buffer][] = [
    ["no version line", pointer(GOOD.slice(1))],
    ["version not first", pointer([GOOD[1], GOOD[0], GOOD[2]])],
    ["other spec version", pointer(["version https://git-lfs.github.com/spec/v2", GOOD[1], GOOD[2]])],
    ["no oid", pointer([GOOD[0], GOOD[2]])],
    ["no size", pointer([GOOD[0], GOOD[1]])],
    ["short hash", pointer([GOOD[0], "oid sha256:abc", GOOD[2]])],
    ["other hash algorithm", pointer([GOOD[0], `oid sha1:${HEX}`, GOOD[2]])],
    ["negative size", pointer([GOOD[0], GOOD[1], "size -1"])],
    ["non-numeric size", pointer([GOOD[0], GOOD[1], "size 12a"])],
    ["huge size", pointer([GOOD[0], GOOD[1], "size 99999999999999999999"])],
    ["duplicate oid", pointer([GOOD[0], GOOD[1], GOOD[1], GOOD[2]])],
    ["garbage line", pointer([...GOOD, "\u0001\u0002"])],
    ["1024 bytes or more", Buffer.concat([pointer(GOOD), Buffer.alloc(1024 - pointer(GOOD).length, 0x0a)])],
    ["not UTF-8", Buffer.concat([pointer(GOOD), Buffer.from([0xff])])],
    ["empty", Buffer.alloc(0)],
  ];
  for (const [label, bytes] of bad) {
    test(`not a pointer: ${label}`, () => {
      assert.equal(parseLfsPointer(bytes), null);
    });
  }
});

test("lfsPointerMessage names the file, the expected size and hash, and what to do", () => {
  const msg = lfsPointerMessage("/m/model.gguf", { oid: `sha256:${HEX}`, size: 723869 });
  assert.equal(
    msg,
    `/m/model.gguf is a Git LFS pointer, not the model: the file was never downloaded (expected 723869 bytes, sha256 ${HEX}). ` +
      "Run `git lfs pull` or download it again.",
  );
});
