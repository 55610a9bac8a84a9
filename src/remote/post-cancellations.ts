// Which POST carries each request in flight, and which of them the client cancelled: a cancelled POST stops being read once none of its requests still waits.

import type { JsonRpcId } from "../wire/jsonrpc.ts";
import type { CancelledPost } from "./post-exchange.ts";

/** One Streamable HTTP session's cancellations; `controllers`: the session's POSTs in flight. */
export class PostCancellations {
  /** The POST of each request in flight, so a cancelled one stops being read. */
  readonly byId = new Map<JsonRpcId, AbortController>();
  /** Exchanges the client cancelled: their end is not a failure to report. */
  private readonly cancelled = new WeakSet<AbortController>();
  /** Requests the client cancelled, by exchange: a batch's other requests still wait on its stream. */
  private readonly cancelledIds = new WeakMap<AbortController, Set<JsonRpcId>>();

  constructor(private readonly controllers: ReadonlySet<AbortController>) {}

  /** The client gave up on this POST: its end is not a failure to report. */
  isCancelled(controller: AbortController): boolean {
    return this.cancelled.has(controller);
  }

  /** The requests of this POST the client cancelled (they expect no answer); undefined when none. */
  gaveUp(controller: AbortController): ReadonlySet<JsonRpcId> | undefined {
    return this.cancelledIds.get(controller);
  }

  /**
   * The POST of the request a `notifications/cancelled` names, looked up when the cancellation is
   * POSTed: a client reusing the id at once (MCP forbids it, clients do it) has its new request on
   * another POST by the time the cancellation is accepted, and that one must not be let go.
   */
  cancelledPost(params: unknown): CancelledPost | undefined {
    const id =
      typeof params === "object" && params !== null ? (params as { requestId?: JsonRpcId }).requestId : undefined;
    const controller = id === undefined ? undefined : this.byId.get(id);
    return controller === undefined || id === undefined ? undefined : { id, controller };
  }

  /**
   * The server knows the call is cancelled (it will not answer): stop waiting on its stream, once
   * no other request of that POST (a batch) is still waiting on it.
   */
  stopReading(cancelled: CancelledPost | undefined): void {
    if (cancelled === undefined || !this.controllers.has(cancelled.controller)) return;
    const { id, controller } = cancelled;
    if (this.byId.get(id) === controller) this.byId.delete(id);
    const gaveUp = this.cancelledIds.get(controller) ?? new Set<JsonRpcId>();
    this.cancelledIds.set(controller, gaveUp.add(id));
    this.letGoIfCancelled(controller);
  }

  /** An answered request is no longer in flight: a batch whose other requests were cancelled may now be let go. */
  answered(id: JsonRpcId, controller: AbortController): void {
    if (this.byId.get(id) !== controller) return;
    this.byId.delete(id);
    this.letGoIfCancelled(controller);
  }

  /** Stops reading a POST the client cancelled a request of, once none of its requests still waits (a batch's others get their answers on it). */
  private letGoIfCancelled(controller: AbortController): void {
    if (!this.cancelledIds.has(controller)) return;
    for (const other of this.byId.values()) if (other === controller) return;
    this.cancelled.add(controller);
    controller.abort();
  }
}
