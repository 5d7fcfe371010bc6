import { describe, expect, it } from 'vitest';
import { pushFailure } from './exec.js';

const failed = (stderr: string) =>
  pushFailure({ status: 'exited', exitCode: 1, stdout: '', stderr, durationMs: 0 });

describe('a failed push: transient only for 5xx, 429 and resets during a transfer', () => {
  it.each([
    'received unexpected HTTP status: 500 Internal Server Error',
    'received unexpected HTTP status: 503 Service Unavailable',
    'toomanyrequests: 429 Too Many Requests',
    // Docker Hub's and Distribution's 429 body, as the engine prints it: no status in the text.
    'toomanyrequests: You have reached your pull rate limit. You may increase the limit by authenticating and upgrading',
    'write tcp 127.0.0.1:41234->127.0.0.1:5000: write: connection reset by peer',
    'Patch "http://127.0.0.1:5000/v2/a/blobs/uploads/x": EOF',
    'write tcp 127.0.0.1:41234->127.0.0.1:5000: write: broken pipe',
  ])('transient: %s', (line) => {
    expect(failed(`The push refers to repository [127.0.0.1:5000/a]\n${line}`)).toMatchObject({
      reason: 'push-failed',
      message: line,
      transient: true,
    });
  });

  it.each([
    'Get "http://127.0.0.1:5999/v2/": dial tcp 127.0.0.1:5999: connect: connection refused',
    'pinging container registry 127.0.0.1:5999: Get "http://127.0.0.1:5999/v2/": dial tcp 127.0.0.1:5999: connect: connection refused',
    'Get "https://10.9.9.9/v2/": dial tcp 10.9.9.9:443: i/o timeout',
    'Get "https://nope.invalid/v2/": dial tcp: lookup nope.invalid: no such host',
    'Get "https://10.9.9.9/v2/": dial tcp 10.9.9.9:443: connect: no route to host',
    'Get "https://10.9.9.9/v2/": dial tcp 10.9.9.9:443: connect: network is unreachable',
    'denied: requested access to the resource is denied',
    'unauthorized: authentication required',
  ])('not transient: %s', (line) => {
    expect(failed(line)).toMatchObject({ reason: 'push-failed', transient: false });
  });
});
