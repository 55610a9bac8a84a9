// The `auth` subcommand's arguments, help and exit statuses (parsed and rendered by src/command-spec.ts).

import type { CommandSpec } from "../command-spec.ts";
import { EXIT } from "../exit-codes.ts";

export const AUTH_SPEC: CommandSpec = {
  name: "auth",
  summary: "sign in to a remote MCP server for --url (OAuth), list or forget cached credentials",
  synopsis: ['login --url URL [--header "NAME: VALUE"]...', "logout (--url URL | --all)", "list"],
  description: [
    "login runs the MCP authorization flow ahead of time (hosts give a server only seconds to start): discovery,",
    "dynamic client registration (or BATON_OAUTH_CLIENT_ID), authorization code with PKCE, the browser sent to a",
    "redirect on 127.0.0.1. The URL is printed too; BATON_OAUTH_OPENER (a command, run with the URL appended)",
    "replaces the platform's browser opener. Tokens are cached per server and refreshed by the proxy before they expire.",
  ],
  operands: [["ACTION", "login, logout or list"]],
  options: [
    { name: "url", value: "URL", help: "the remote MCP server (as given to baton-proxy --url)" },
    {
      name: "header",
      short: "H",
      value: '"NAME: VALUE"',
      multiple: true,
      // biome-ignore lint/suspicious/noTemplateCurlyInString: help text shows the literal ${NAME} syntax users write
      help: "login: a header the server needs besides OAuth; ${NAME} is read from the environment",
    },
    { name: "allow-http", help: "login: allow plain http:// to a non-local host" },
    { name: "all", help: "logout: forget every cached server" },
  ],
  notes: [
    "Cache: $BATON_CONFIG_DIR, else $XDG_CONFIG_HOME/baton-proxy, else ~/.config/baton-proxy (%APPDATA%\\baton-proxy on Windows), under oauth/: directory 0700, files 0600.",
  ],
  exits: [
    [EXIT.OK, "done"],
    [EXIT.FAILED, "login failed, or nothing cached for that server"],
    [EXIT.USAGE, "usage error"],
    [EXIT.CONFIG, "configuration refused (a relative BATON_CONFIG_DIR)"],
  ],
  load: async () => (await import("./auth-command.ts")).runAuthCommand,
};
