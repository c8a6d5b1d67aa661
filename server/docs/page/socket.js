// Opening a route's socket for a panel: with the page's credentials, its open, close and failure
// written to the panel's log.
import { closeCode, endpointUrl, openSocket } from "../../../client/socket.ts";
import { message } from "./dom.js";

/**
 * Open the socket of a route.
 *
 * @param {import("./main.js").PageContext} ctx The page.
 * @param {import("./main.js").PageRoute} route The route.
 * @param {ReturnType<typeof import("./log.js").createLog>} log The panel's log.
 * @param {{ label: string, onMessage(data: unknown): void, onClose(socket: WebSocket): void }} on
 * What the log names it, and the panel's handlers (`onClose` runs before the close is logged).
 * @returns {Promise<WebSocket | undefined>} The open socket, or nothing when it failed (logged).
 */
export async function openRouteSocket(ctx, route, log, on) {
  try {
    const token = await ctx.credentials.socketToken(ctx.base, ctx.app);
    const socket = await openSocket(
      endpointUrl(ctx.base, route.path, true, { fal_jwt_token: token }),
    );
    socket.addEventListener("message", (event) => on.onMessage(event.data));
    socket.addEventListener("close", (event) => {
      on.onClose(socket);
      log.add({
        dir: "in",
        kind: "info",
        tag: "close",
        text: `closed with code ${closeCode(event)}${event.reason ? `: ${event.reason}` : ""}`,
      });
    });
    log.add({ dir: "", kind: "info", tag: "open", text: `connected to ${on.label}` });
    return socket;
  } catch (error) {
    log.add({ dir: "", kind: "error", tag: "connect", text: message(error) });
    return undefined;
  }
}
