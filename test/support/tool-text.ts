// The text of a tool result as an SDK client returns it: its text blocks, joined by newlines.

type ContentBlock = { type: string; text?: string };

export const textOf = (result: unknown): string =>
  (((result as { content?: unknown }).content ?? []) as ContentBlock[])
    .filter((c) => c.type === "text")
    .map((c) => c.text ?? "")
    .join("\n");
