// The setup the Hub operation tests share: the fake Hub (real HTTP on loopback), a library in a temp folder and a
// HubClient whose cache sits beside it; `close` undoes all of it.
import { join } from "node:path";
import { HubClient } from "../../src/hub/hub-client.js";
import { ModelLibrary } from "../../src/store/model-library.js";
import { fakeHubConfig, startFakeHub, type FakeHub, type FakeHubOptions } from "./fake-hub.js";
import { tempDir } from "./library-fixtures.js";

export interface HubWorld {
  hub: FakeHub;
  /** The temp folder: the library is `<dir>/lib`, the client's cache `<dir>/cache`. */
  dir: string;
  lib: ModelLibrary;
  client: HubClient;
  close(): Promise<void>;
}

export async function openHubWorld(options: FakeHubOptions, tempPrefix: string): Promise<HubWorld> {
  const hub = await startFakeHub(options);
  const tmp = tempDir(tempPrefix);
  const lib = await ModelLibrary.open(join(tmp.dir, "lib"));
  const client = new HubClient(fakeHubConfig(hub, join(tmp.dir, "cache")));
  return {
    hub,
    dir: tmp.dir,
    lib,
    client,
    async close() {
      client.close();
      lib.close();
      await hub.close();
      tmp.cleanup();
    },
  };
}
