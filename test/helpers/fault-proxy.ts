/**
 * A fault-injecting HTTP proxy on 127.0.0.1 in front of a real registry, for fault tests of the
 * engine's pushes and kbuild's own registry client. It forwards every request (bodies streamed
 * both ways, headers kept, a Location naming the registry's own host rewritten to the proxy's)
 * unless a rule matches it; a rule (method + path regex, its first N matches or always) makes
 * the proxy answer an error status, reset the connection before or after part of the request
 * body went to the registry, or stall (never answer, until `release` or `stop`). Every request
 * seen is recorded, with what was done to it.
 *
 * 127.0.0.0/8 is an insecure registry range for dockerd, so `docker push 127.0.0.1:<port>/...`
 * speaks plain http to the proxy.
 */
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type Fault =
  /** Answer this status (the request body is read first, as a registry does). */
  | {
      readonly kind: 'status';
      readonly status: number;
      readonly headers?: Readonly<Record<string, string>>;
      /** Default: the distribution API's error body for the status. */
      readonly body?: string;
    }
  /**
   * Destroy the client's connection: at once (`afterBytes` 0 or absent, nothing forwarded), or
   * once `afterBytes` bytes of the request body went to the registry (the registry's request is
   * cut there too: a registry that went away mid-upload). With `downMs`, the proxy then refuses
   * connections for that long (the registry is gone, and comes back).
   */
  | { readonly kind: 'reset'; readonly afterBytes?: number; readonly downMs?: number }
  /** Accept the request and never answer (until `release()` or `stop()`). */
  | { readonly kind: 'stall' };

export interface FaultRule {
  /** Default: any method. */
  readonly method?: string;
  /** Tested against the path and query, e.g. `/v2/ns/img/blobs/uploads/…`. */
  readonly path: RegExp;
  /** How many matching requests get the fault (default: every one). */
  readonly times?: number;
  readonly fault: Fault;
}

export interface SeenRequest {
  readonly method: string;
  readonly path: string;
  /** When it arrived (Date.now()). */
  readonly at: number;
  /** The fault done to it (`status 500`, `reset after 1000`, `stall`), or undefined: forwarded. */
  fault?: string;
  /** The registry's status (forwarded requests that got an answer). */
  status?: number;
  /** Request body bytes that went to the registry. */
  forwardedBytes: number;
}

export interface FaultProxy {
  /** `127.0.0.1:<port>`: push to `<host>/ns/img:tag`. */
  readonly host: string;
  /** Every request seen, in arrival order. */
  readonly seen: SeenRequest[];
  /** Replaces the rules (and their counts). */
  setRules(rules: readonly FaultRule[]): void;
  /** The requests seen matching a method and path. */
  matching(method: string, path: RegExp): SeenRequest[];
  /** Ends every stalled request (their connections are destroyed). */
  release(): void;
  /** Forgets the requests seen. */
  clearSeen(): void;
  stop(): Promise<void>;
}

const ERROR_CODES: Record<number, string> = {
  429: 'TOOMANYREQUESTS',
  500: 'UNKNOWN',
  502: 'UNKNOWN',
  503: 'UNAVAILABLE',
};

function errorBody(status: number): string {
  return JSON.stringify({
    errors: [{ code: ERROR_CODES[status] ?? 'UNKNOWN', message: `injected fault: ${status}` }],
  });
}

/** Starts a proxy to `upstream` (`127.0.0.1:<port>` of a registry) on a free loopback port. */
export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  let rules: { rule: FaultRule; left: number }[] = [];
  const seen: SeenRequest[] = [];
  const stalled = new Set<ServerResponse>();
  const sockets = new Set<Socket>();
  let host = '';
  let port = 0;
  let down: NodeJS.Timeout | undefined;
  let stopped = false;

  /**
   * The fault of the first rule with matches left that matches. A cut after some bytes is only
   * spent when it happens (a body shorter than that is forwarded whole, and does not count).
   */
  const take = (
    method: string,
    path: string,
  ): { fault: Fault; spend: () => boolean } | undefined => {
    for (const r of rules) {
      if (r.left <= 0) continue;
      if (r.rule.method && r.rule.method !== method) continue;
      if (!r.rule.path.test(path)) continue;
      const spend = () => (r.left > 0 ? (r.left--, true) : false);
      const { fault } = r.rule;
      if (fault.kind === 'reset' && (fault.afterBytes ?? 0) > 0) return { fault, spend };
      spend();
      return { fault, spend: () => true };
    }
    return undefined;
  };

  /** Refuses connections for `ms` (the listener closed), then listens on the same port again. */
  const goDown = (ms: number) => {
    if (down || stopped) return;
    server.close();
    for (const s of sockets) s.destroy();
    down = setTimeout(() => {
      down = undefined;
      if (!stopped) server.listen(port, '127.0.0.1');
    }, ms);
  };

  const rewriteLocation = (headers: IncomingMessage['headers']): OutgoingHttpHeaders => {
    const out: OutgoingHttpHeaders = { ...headers };
    const location = headers.location;
    if (location?.startsWith(`http://${upstream}/`)) {
      out.location = `http://${host}/${location.slice(`http://${upstream}/`.length)}`;
    }
    return out;
  };

  const forward = (
    req: IncomingMessage,
    res: ServerResponse,
    entry: SeenRequest,
    cut?: { afterBytes: number; downMs?: number; spend: () => boolean },
  ) => {
    const up = httpRequest({
      host: '127.0.0.1',
      port: Number(upstream.split(':')[1]),
      method: req.method,
      path: req.url,
      // The proxy's Host is kept: the registry names its upload URLs after it.
      headers: req.headers,
      agent: false,
    });
    const abandon = () => {
      up.destroy();
      req.socket.destroy();
    };
    up.on('error', () => req.socket.destroy());
    up.on('response', (answer) => {
      entry.status = answer.statusCode;
      res.writeHead(
        answer.statusCode ?? 502,
        answer.statusMessage,
        rewriteLocation(answer.headers),
      );
      answer.pipe(res);
      answer.on('error', () => req.socket.destroy());
    });
    let gone = false;
    req.on('data', (chunk: Buffer) => {
      if (gone) return;
      const at = entry.forwardedBytes + chunk.length;
      if (cut && at >= cut.afterBytes && cut.spend()) {
        const { downMs } = cut;
        gone = true;
        entry.fault = `reset after ${cut.afterBytes}`;
        const part = chunk.subarray(0, cut.afterBytes - entry.forwardedBytes);
        entry.forwardedBytes += part.length;
        req.pause();
        // Let the part reach the registry, then go away on both sides.
        up.write(part, () => {
          setTimeout(() => {
            abandon();
            if (downMs) goDown(downMs);
          }, 50);
        });
        return;
      }
      entry.forwardedBytes += chunk.length;
      if (!up.write(chunk)) {
        req.pause();
        up.once('drain', () => req.resume());
      }
    });
    req.on('end', () => {
      if (!gone) up.end();
    });
    req.on('error', () => up.destroy());
    res.on('close', () => {
      if (!res.writableFinished) up.destroy();
    });
  };

  const server = createServer((req, res) => {
    const method = req.method ?? '';
    const path = req.url ?? '';
    const entry: SeenRequest = { method, path, at: Date.now(), forwardedBytes: 0 };
    seen.push(entry);
    const taken = take(method, path);
    if (!taken) return forward(req, res, entry);
    const { fault, spend } = taken;
    switch (fault.kind) {
      case 'status': {
        entry.fault = `status ${fault.status}`;
        req.resume();
        req.on('end', () => {
          const body = fault.body ?? errorBody(fault.status);
          res.writeHead(fault.status, {
            'Content-Type': 'application/json',
            'Content-Length': Buffer.byteLength(body),
            ...fault.headers,
          });
          res.end(body);
        });
        return;
      }
      case 'reset': {
        const afterBytes = fault.afterBytes ?? 0;
        if (afterBytes > 0) {
          return forward(req, res, entry, {
            afterBytes,
            spend,
            ...(fault.downMs ? { downMs: fault.downMs } : {}),
          });
        }
        entry.fault = 'reset';
        req.socket.destroy();
        if (fault.downMs) goDown(fault.downMs);
        return;
      }
      case 'stall':
        entry.fault = 'stall';
        stalled.add(res);
        res.on('close', () => stalled.delete(res));
        return;
    }
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  host = `127.0.0.1:${port}`;

  const release = () => {
    for (const res of stalled) res.socket?.destroy();
    stalled.clear();
  };
  return {
    host,
    seen,
    setRules(next) {
      rules = next.map((rule) => ({ rule, left: rule.times ?? Infinity }));
    },
    matching: (method, path) => seen.filter((s) => s.method === method && path.test(s.path)),
    release,
    clearSeen: () => void seen.splice(0),
    async stop() {
      stopped = true;
      if (down) clearTimeout(down);
      release();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
      });
    },
  };
}
