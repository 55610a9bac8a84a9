// The `report` subcommand's arguments, help and exit statuses (parsed and rendered by src/command-spec.ts).

import type { CommandSpec } from "../command-spec.ts";
import { DEFAULT_SLOW_CALL_MS } from "../config.ts";
import { DEFAULT_FILE_SINK_PATH } from "../config-values.ts";
import { EXIT } from "../exit-codes.ts";

export const REPORT_SPEC: CommandSpec = {
  name: "report",
  summary: "print the friction report of one session from an event file",
  synopsis: ["[FILE.jsonl | s3://bucket/prefix] [--session ID] [--format md|json] [--list] [--slow-ms N]"],
  description: ["Prints the friction report of one session from a baton-proxy event file (JSON Lines)."],
  operands: [
    [
      "FILE",
      `the event file (default: the file sink of BATON_EVENT_SINK, else ${DEFAULT_FILE_SINK_PATH}; on Windows %TEMP%\\baton-proxy.jsonl), or s3://bucket/prefix written by the s3:// sink (credentials from AWS_* variables)`,
    ],
  ],
  options: [
    {
      name: "session",
      value: "ID",
      help: "a session id, or a prefix matching exactly one (default: the latest session, the one written last)",
    },
    { name: "format", value: "md|json", help: "Markdown report (default) or the aggregated numbers as JSON" },
    {
      name: "list",
      help: "list the sessions in FILE instead (id, first → last, events, calls, client, server, surface hash)",
    },
    {
      name: "slow-ms",
      value: "N",
      help: `calls at least N ms long count as slow (default: BATON_SLOW_CALL_MS, else ${DEFAULT_SLOW_CALL_MS})`,
    },
  ],
  notes: ["Reads the same BATON_* configuration as the proxy and refuses it the same way (exit 78)."],
  exits: [
    [EXIT.OK, "report printed"],
    [EXIT.FAILED, "file unreadable, session not found, or no valid events in the file"],
    [EXIT.USAGE, "usage error"],
    [EXIT.CONFIG, "configuration refused"],
  ],
  load: async () => (await import("./report-command.ts")).runReportCommand,
};
