// The example MCP server behind `bun run demo`: a made-up "acme-invoices" service over stdio with in-memory data. No network, no files.
//
// Built on the SDK v1 low-level `Server`, not `McpServer`: McpServer turns every error thrown by a
// tool handler into an `isError: true` result, and the demo needs one real JSON-RPC error response.

import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import {
  CallToolRequestSchema,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
  type CallToolResult,
  type Tool,
} from "@modelcontextprotocol/sdk/types.js";

export const DEMO_SERVER_NAME = "acme-invoices";
export const DEMO_SERVER_VERSION = "1.3.0";
/** How long `export_report` takes: slow enough to cross the proxy's default 1000 ms slow-call line. */
export const EXPORT_DELAY_MS = 1200;
/** The (fictional) mail relay's limit on the attachments of one message. */
export const MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024;

const STATUSES = ["open", "paid", "void"] as const;

interface Invoice {
  id: string;
  customer: string;
  status: (typeof STATUSES)[number];
  due: string;
  amountCents: number;
  pdfBytes: number;
}

const INVOICES: readonly Invoice[] = [
  {
    id: "INV-2049",
    customer: "ACME Corp",
    status: "open",
    due: "2026-09-30",
    amountCents: 98_000,
    pdfBytes: 6_190_000,
  },
  {
    id: "INV-2041",
    customer: "ACME Corp",
    status: "open",
    due: "2026-10-15",
    amountCents: 120_000,
    pdfBytes: 7_130_000,
  },
  {
    id: "INV-2057",
    customer: "ACME Corp",
    status: "paid",
    due: "2026-10-30",
    amountCents: 86_050,
    pdfBytes: 1_240_000,
  },
  {
    id: "INV-2063",
    customer: "ACME Corp",
    status: "open",
    due: "2026-12-20",
    amountCents: 341_000,
    pdfBytes: 2_050_000,
  },
  { id: "INV-2044", customer: "Globex Ltd", status: "paid", due: "2026-10-01", amountCents: 45_500, pdfBytes: 880_000 },
  { id: "INV-2060", customer: "Initech", status: "void", due: "2026-11-12", amountCents: 12_000, pdfBytes: 410_000 },
];

const INSTRUCTIONS =
  "Acme Invoices: look up, send and export the invoices of Acme's billing team. Amounts are in EUR. " +
  "Search before you act on an invoice; sending email is visible to customers.";

const TOOLS: Tool[] = [
  {
    name: "search_invoices",
    description:
      "Find invoices by customer name (case-insensitive substring), optionally filtered by status and due date.",
    inputSchema: {
      type: "object",
      properties: {
        customer: { type: "string", description: "Customer name or part of it." },
        status: { type: "string", description: "Invoice status filter." },
        due_before: { type: "string", description: "Only invoices due before this date (YYYY-MM-DD)." },
      },
      required: ["customer"],
    },
    annotations: { readOnlyHint: true },
  },
  {
    name: "get_invoice",
    description: "One invoice with its line items and the size of its PDF.",
    inputSchema: { type: "object", properties: { invoice_id: { type: "string" } }, required: ["invoice_id"] },
    annotations: { readOnlyHint: true },
  },
  {
    name: "send_email",
    description: "Email a customer, optionally attaching invoice PDFs.",
    inputSchema: {
      type: "object",
      properties: {
        to: { type: "string" },
        subject: { type: "string" },
        body: { type: "string" },
        attach_invoice_ids: { type: "array", items: { type: "string" } },
      },
      required: ["to", "subject", "body"],
    },
    annotations: { destructiveHint: false, openWorldHint: true },
  },
  {
    name: "export_report",
    description: "Builds a receivables report for a period (e.g. 2026-Q3) as CSV text.",
    inputSchema: {
      type: "object",
      properties: { period: { type: "string", description: "YYYY-Qn" }, format: { type: "string", enum: ["csv"] } },
      required: ["period"],
    },
    annotations: { readOnlyHint: true },
  },
];

type Args = Record<string, unknown>;
type Handler = (args: Args) => Promise<CallToolResult>;

const HANDLERS: Record<string, Handler> = {
  search_invoices: async (args) => {
    const customer = requireString(args, "customer").toLowerCase();
    const status = optionalString(args, "status");
    const dueBefore = optionalString(args, "due_before");
    if (status !== undefined && !(STATUSES as readonly string[]).includes(status)) {
      throw new McpError(ErrorCode.InvalidParams, `Invalid status "${status}": expected one of ${STATUSES.join(", ")}`);
    }
    if (dueBefore !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(dueBefore)) {
      throw new McpError(ErrorCode.InvalidParams, `Invalid due_before "${dueBefore}": expected YYYY-MM-DD`);
    }
    const found = INVOICES.filter(
      (i) =>
        i.customer.toLowerCase().includes(customer) &&
        (status === undefined || i.status === status) &&
        (dueBefore === undefined || i.due < dueBefore),
    );
    const lines = found.map(
      (i) => `- ${i.id} · ${i.customer} · ${i.status} · due ${i.due} · ${formatEuros(i.amountCents)}`,
    );
    return text(
      [`Found ${found.length} invoice${found.length === 1 ? "" : "s"} for "${args.customer}"`, ...lines].join("\n"),
    );
  },

  get_invoice: async (args) => {
    const invoice = findInvoice(requireString(args, "invoice_id"));
    return text(
      `${invoice.id} for ${invoice.customer}: ${invoice.status}, due ${invoice.due}, ${formatEuros(invoice.amountCents)}\n` +
        `- 1 × Widget subscription (annual)\n- PDF: ${formatMegabytes(invoice.pdfBytes)}`,
    );
  },

  send_email: async (args) => {
    const to = requireString(args, "to");
    requireString(args, "subject");
    const ids = Array.isArray(args.attach_invoice_ids) ? args.attach_invoice_ids.map(String) : [];
    const bytes = ids.map(findInvoice).reduce((sum, invoice) => sum + invoice.pdfBytes, 0);
    if (bytes > MAX_ATTACHMENT_BYTES) {
      return {
        isError: true,
        content: [
          {
            type: "text",
            text: `Attachments too large: ${ids.length} PDFs total ${formatMegabytes(bytes)}; the mail relay accepts at most ${formatMegabytes(MAX_ATTACHMENT_BYTES)} per message.`,
          },
        ],
      };
    }
    return text(`Queued an email to ${to} with ${ids.length} attachment${ids.length === 1 ? "" : "s"}.`);
  },

  export_report: async (args) => {
    const period = requireString(args, "period");
    if (!/^\d{4}-Q[1-4]$/.test(period))
      throw new McpError(ErrorCode.InvalidParams, `Invalid period "${period}": expected YYYY-Qn`);
    await Bun.sleep(EXPORT_DELAY_MS);
    const rows = INVOICES.map((i) => `${i.id},${i.customer},${i.status},${i.due},${(i.amountCents / 100).toFixed(2)}`);
    return text(
      `Receivables ${period}: ${rows.length} invoices\ninvoice,customer,status,due,amount_eur\n${rows.join("\n")}`,
    );
  },
};

function text(value: string): CallToolResult {
  return { content: [{ type: "text", text: value }] };
}

function requireString(args: Args, key: string): string {
  const value = args[key];
  if (typeof value !== "string" || value.trim() === "")
    throw new McpError(ErrorCode.InvalidParams, `"${key}" is required (a non-empty string)`);
  return value;
}

function optionalString(args: Args, key: string): string | undefined {
  return args[key] === undefined ? undefined : requireString(args, key);
}

function findInvoice(id: string): Invoice {
  const invoice = INVOICES.find((i) => i.id === id);
  if (invoice === undefined) throw new McpError(ErrorCode.InvalidParams, `No invoice "${id}"`);
  return invoice;
}

function formatEuros(cents: number): string {
  return `EUR ${(cents / 100).toLocaleString("en-US", { minimumFractionDigits: 2 })}`;
}

function formatMegabytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** The server, ready to connect to a transport. Unknown tools get a JSON-RPC -32602 error, as the spec suggests. */
export function createDemoServer(): Server {
  const server = new Server(
    { name: DEMO_SERVER_NAME, version: DEMO_SERVER_VERSION },
    { capabilities: { tools: {} }, instructions: INSTRUCTIONS },
  );
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: TOOLS }));
  server.setRequestHandler(CallToolRequestSchema, async (request) => {
    const handler = HANDLERS[request.params.name];
    if (handler === undefined) throw new McpError(ErrorCode.InvalidParams, `Unknown tool "${request.params.name}"`);
    return handler(request.params.arguments ?? {});
  });
  return server;
}

if (import.meta.main) {
  const transport = new StdioServerTransport();
  // Exit when the client (the proxy) closes stdin, like real stdio servers do.
  process.stdin.once("end", () => process.exit(0));
  await createDemoServer().connect(transport);
}
