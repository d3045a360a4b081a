// The names the server answers to: loopback names always, the bound address, every interface address when
// bound to all of them, and never another DNS name.
import { test } from "node:test";
import assert from "node:assert/strict";
import { networkInterfaces } from "node:os";
import { allowedHosts, cookieValue, isLoopback, sameSecret } from "../../../src/server/request-guard.js";

test("loopback binding: only the loopback names with the port", () => {
  const hosts = allowedHosts({ port: 8765, host: "127.0.0.1", token: "t" });
  assert.deepEqual([...hosts].sort(), ["127.0.0.1:8765", "[::1]:8765", "localhost:8765"]);
});

test("a bound address is accepted as itself; IPv6 in brackets", () => {
  assert.ok(allowedHosts({ port: 1, host: "192.168.1.20", token: "t" }).has("192.168.1.20:1"));
  assert.ok(allowedHosts({ port: 1, host: "fe80::1", token: "t" }).has("[fe80::1]:1"));
});

test("bound to 0.0.0.0: every IPv4 address of this machine, still no DNS name", () => {
  const hosts = allowedHosts({ port: 9, host: "0.0.0.0", token: "t" });
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === "IPv4") assert.ok(hosts.has(`${a.address}:9`), a.address);
  assert.ok(!hosts.has("0.0.0.0:9"));
  assert.ok([...hosts].every((h) => /^(\[[0-9a-f:]+\]|[\d.]+|localhost):9$/.test(h)), [...hosts].join(" "));
});

test("helpers: loopback names, cookies, constant-time compare", () => {
  assert.ok(isLoopback("127.0.0.1") && isLoopback("::1") && isLoopback("localhost") && isLoopback("127.1.2.3"));
  assert.ok(!isLoopback("0.0.0.0") && !isLoopback("192.168.1.2"));
  assert.equal(cookieValue("a=1; mlib_token_8765=abc%3D; b=2", "mlib_token_8765"), "abc=");
  assert.equal(cookieValue("a=1", "mlib_token_8765"), null);
  assert.ok(sameSecret("abc", "abc") && !sameSecret("abc", "abd") && !sameSecret("abc", "abcd"));
});
