/**
 * The client's side of `testClient()` (`@rally/rally/testing`): base URLs whose host is served
 * in memory. rally's client functions (`run`, `stream`, `realtime`, `connect`, `wsConnect`,
 * `fetchToken`) look a URL's host up here before they use the network, so the same calls reach
 * an App in the same process with no port. Empty unless a test client is open. Not part of the
 * public API.
 *
 * @module
 */

/** An App served in memory, as the client reaches it. */
export interface MemoryHost {
  /**
   * Answer an HTTP request (the App's `fetch`).
   *
   * @param request The request.
   * @returns The response.
   */
  fetch(request: Request): Promise<Response>;
  /**
   * Open the client's end of an in-memory WebSocket (connecting, as `new WebSocket()` is).
   *
   * @param url The `ws(s)://` URL.
   * @param headers Headers of the upgrade request, if any.
   * @returns The socket.
   */
  socket(url: URL, headers?: Record<string, string>): WebSocket;
}

const hosts = new Map<string, MemoryHost>();

/**
 * Serve a host (`name:port` as in a URL's `host`) in memory until the returned function runs.
 *
 * @param host The URL host.
 * @param target How to reach the App.
 * @returns A function that removes the host.
 */
export function addMemoryHost(host: string, target: MemoryHost): () => void {
  hosts.set(host, target);
  return () => {
    if (hosts.get(host) === target) hosts.delete(host);
  };
}

/**
 * The in-memory host a URL points at, if any.
 *
 * @param url The URL.
 * @returns The host, or `undefined` for the network.
 */
export function memoryHost(url: string | URL): MemoryHost | undefined {
  if (hosts.size === 0) return undefined;
  return hosts.get(typeof url === "string" ? new URL(url).host : url.host);
}

/**
 * `fetch`, or the App's own `fetch` when the URL is served in memory.
 *
 * @param url The URL.
 * @param init As for `fetch`.
 * @returns The response.
 */
export function clientFetch(url: string | URL, init: RequestInit): Promise<Response> {
  const host = memoryHost(url);
  return host ? host.fetch(new Request(url, init)) : fetch(url, init);
}
