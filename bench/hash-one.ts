// Hashes one file the way a user's process would (start, hash, exit) and prints its hashes as JSON.
// bench/hash.ts times it with process start included: `node --import tsx bench/hash-one.ts FILE`.
import { hashFile } from "../src/hashing/index.js";

const file = process.argv[2];
if (!file) {
  console.error("usage: node --import tsx bench/hash-one.ts FILE");
  process.exit(2);
}
console.log(JSON.stringify(await hashFile(file)));
