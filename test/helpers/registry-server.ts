/** A scripted HTTP server on 127.0.0.1 for registry-client tests: auth flows, retries, resets. */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the server saw it. */
export interface SeenRequest {
  readonly method: string;
  /** Path and query, e.g. `/v2/x/manifests/latest`. */
  readonly url: string;
  readonly authorization: string | undefined;
  /** The request's headers (lower-case names) and body. */
  readonly headers: IncomingMessage['headers'];
  readonly body: Buffer;
}

export interface ScriptedServer {
  /** `127.0.0.1:<port>`: a loopback host, so the client speaks http to it. */
  readonly host: string;
  /** Every request, in arrival order. */
  readonly seen: SeenRequest[];
  close(): Promise<void>;
}

/** Starts a server on an ephemeral port; `handle` answers each request (or destroys its socket). */
export async function startScriptedServer(
  handle: (req: SeenRequest, res: ServerResponse, raw: IncomingMessage) => void,
): Promise<ScriptedServer> {
  const seen: SeenRequest[] = [];
  const server = createServer((raw, res) => {
    // Read the request body before answering, as a registry does.
    const chunks: Buffer[] = [];
    raw.on('data', (c: Buffer) => chunks.push(c));
    raw.on('end', () => {
      const req: SeenRequest = {
        method: raw.method ?? '',
        url: raw.url ?? '',
        authorization: raw.headers.authorization,
        headers: raw.headers,
        body: Buffer.concat(chunks),
      };
      seen.push(req);
      handle(req, res, raw);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port on 127.0.0.1 where nothing listens (taken, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Answers with a status, headers and an optional JSON or text body. */
export function reply(
  res: ServerResponse,
  status: number,
  headers: Record<string, string> = {},
  body?: string,
): void {
  res.writeHead(status, { 'Content-Length': String(Buffer.byteLength(body ?? '')), ...headers });
  res.end(body);
}
