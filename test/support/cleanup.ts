// Preloaded by `bun test` (bunfig.toml): after the whole run, removes the temp directories whose own cleanup hook never ran.

import { afterAll } from "bun:test";
import { removeLeftovers } from "./temp.ts";

afterAll(removeLeftovers);
