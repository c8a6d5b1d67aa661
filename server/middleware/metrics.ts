/**
 * `GET /metrics` in Prometheus' text format, with `metrics: true`: open sessions, sessions
 * opened, messages in and out, dropped inputs, error frames by code, a handler-latency
 * histogram, HTTP requests by status and their latency.
 *
 * The counts are plain numbers that sessions and requests bump as they go (the realtime hot
 * path allocates nothing for them); at a scrape they are handed to a `prom-client` registry,
 * one per App run, so two Apps in one process never share a metric. `prom-client` is imported
 * at the first scrape only: it costs about 80 ms to load, which Apps without metrics never pay.
 *
 * @module
 */
import type { Counter, Gauge, Metric, Registry } from "prom-client";
import { Histogram, type SessionKind, type SessionStats } from "./stats.ts";

/** The running totals of one kind of session. */
interface Totals {
  opened: number;
  messagesIn: number;
  messagesOut: number;
  dropped: number;
  rateLimited: number;
}

const KINDS: readonly SessionKind[] = ["realtime", "websocket"];

/** The metrics of one App run. */
export class Metrics {
  /** Realtime handler calls (for streams, the time to each output), in seconds. */
  readonly handlerLatency: Histogram = new Histogram();
  /** HTTP requests, from arrival to the response's headers, in seconds. */
  readonly httpLatency: Histogram = new Histogram();
  #app: string;
  #open = new Set<SessionStats>();
  #closed: Record<SessionKind, Totals> = { realtime: zero(), websocket: zero() };
  #closedErrors = new Map<string, number>();
  #http = new Map<number, number>();
  #registry?: Promise<Registry>;

  /**
   * Start counting.
   *
   * @param app The App's name, the `app` label of every series.
   */
  constructor(app: string) {
    this.#app = app;
  }

  /**
   * Count a session from its open on.
   *
   * @param stats The session's numbers.
   */
  sessionOpened(stats: SessionStats): void {
    this.#open.add(stats);
    this.#closed[stats.kind].opened++;
  }

  /**
   * Fold a closed session's numbers into the totals.
   *
   * @param stats The session's numbers.
   */
  sessionClosed(stats: SessionStats): void {
    if (!this.#open.delete(stats)) return;
    add(this.#closed[stats.kind], stats);
    for (const [code, count] of Object.entries(stats.errors ?? {})) {
      this.#closedErrors.set(code, (this.#closedErrors.get(code) ?? 0) + count);
    }
  }

  /**
   * Count one HTTP request.
   *
   * @param status The response's status.
   * @param seconds Time to the response.
   */
  request(status: number, seconds: number): void {
    this.#http.set(status, (this.#http.get(status) ?? 0) + 1);
    this.httpLatency.observe(seconds);
  }

  /**
   * The answer to `GET /metrics`.
   *
   * @returns The metrics in Prometheus' text format.
   */
  async respond(): Promise<Response> {
    const registry = await (this.#registry ??= this.#build());
    return new Response(await registry.metrics(), {
      headers: { "content-type": registry.contentType },
    });
  }

  /** Open sessions of a kind. */
  #openCount(kind: SessionKind): number {
    let count = 0;
    for (const stats of this.#open) if (stats.kind === kind) count++;
    return count;
  }

  /** Totals of a kind, closed sessions and open ones. */
  #totals(kind: SessionKind): Totals {
    const totals = { ...this.#closed[kind] };
    for (const stats of this.#open) if (stats.kind === kind) add(totals, stats);
    return totals;
  }

  #errors(): Map<string, number> {
    const errors = new Map(this.#closedErrors);
    for (const stats of this.#open) {
      for (const [code, count] of Object.entries(stats.errors ?? {})) {
        errors.set(code, (errors.get(code) ?? 0) + count);
      }
    }
    return errors;
  }

  async #build(): Promise<Registry> {
    const prom = await import("prom-client");
    const registry = new prom.Registry();
    registry.setDefaultLabels({ app: this.#app });
    const registers = [registry];
    const openCount = (kind: SessionKind) => this.#openCount(kind);
    new prom.Gauge({
      name: "rally_sessions_open",
      help: "Open WebSocket sessions.",
      labelNames: ["kind"],
      registers,
      collect(this: Gauge<"kind">) {
        for (const kind of KINDS) this.set({ kind }, openCount(kind));
      },
    });
    const counter = (
      name: string,
      help: string,
      labelName: string,
      values: () => Iterable<[string, number]>,
    ) =>
      new prom.Counter({
        name,
        help,
        labelNames: [labelName],
        registers,
        collect(this: Counter<string>) {
          this.reset();
          for (const [label, value] of values()) this.inc({ [labelName]: label }, value);
        },
      });
    const byKind = (key: keyof Totals) => () =>
      KINDS.map((kind): [string, number] => [kind, this.#totals(kind)[key]]);
    counter("rally_sessions_total", "WebSocket sessions opened.", "kind", byKind("opened"));
    counter(
      "rally_messages_received_total",
      "Messages received on WebSocket sessions (realtime: inputs).",
      "kind",
      byKind("messagesIn"),
    );
    counter(
      "rally_messages_sent_total",
      "Messages sent on WebSocket sessions (realtime: outputs, not control frames).",
      "kind",
      byKind("messagesOut"),
    );
    counter(
      "rally_inputs_dropped_total",
      "Realtime inputs never handled: dropped by buffering (the latest win) or refused by the rate limit.",
      "reason",
      () => [
        ["buffering", this.#totals("realtime").dropped],
        ["rate_limit", this.#totals("realtime").rateLimited],
      ],
    );
    counter(
      "rally_errors_total",
      "Realtime error frames sent, by code.",
      "code",
      () => this.#errors(),
    );
    counter(
      "rally_http_requests_total",
      "HTTP requests answered, by status (WebSocket upgrades aside).",
      "status",
      () => [...this.#http].map(([status, count]): [string, number] => [String(status), count]),
    );
    registry.registerMetric(histogram(
      "rally_handler_duration_seconds",
      "Realtime handler time per output, in seconds.",
      this.handlerLatency,
    ));
    registry.registerMetric(histogram(
      "rally_http_request_duration_seconds",
      "HTTP time from arrival to the response's headers, in seconds.",
      this.httpLatency,
    ));
    return registry;
  }
}

/**
 * A histogram metric read from a {@link Histogram} at each scrape. prom-client's own
 * `Histogram.observe` allocates per call (a closure and a label object), so rally keeps the
 * buckets itself and hands the registry an object with the `get()` every metric has: the
 * registry formats it as it formats its own histograms.
 */
function histogram(name: string, help: string, source: Histogram): Metric {
  const metric = {
    name,
    help,
    type: "histogram",
    aggregator: "sum",
    get() {
      const values: {
        labels: Record<string, string | number>;
        value: number;
        metricName: string;
      }[] = [];
      let cumulative = 0;
      source.counts.forEach((count, i) => {
        cumulative += count;
        const le = i < source.bounds.length ? source.bounds[i] : "+Inf";
        values.push({ labels: { le }, value: cumulative, metricName: `${name}_bucket` });
      });
      values.push({ labels: {}, value: source.sum, metricName: `${name}_sum` });
      values.push({ labels: {}, value: source.count, metricName: `${name}_count` });
      return Promise.resolve({ name, help, type: "histogram", aggregator: "sum", values });
    },
  };
  return metric as unknown as Metric;
}

function zero(): Totals {
  return { opened: 0, messagesIn: 0, messagesOut: 0, dropped: 0, rateLimited: 0 };
}

function add(totals: Totals, stats: SessionStats): void {
  totals.messagesIn += stats.messagesIn;
  totals.messagesOut += stats.messagesOut;
  totals.dropped += stats.dropped;
  totals.rateLimited += stats.rateLimited;
}
