// What the benches that drive runBuild with a fake engine share: the engine's description, the
// run options of a plain `kbuild build -j N`, the ports that keep nothing, and a container run that
// answers as an image without a package database (the inventory read after each build).

export const FAKE_INFO = {
  kind: 'fake',
  client: 'fake',
  clientVersion: '1',
  serverVersion: '1',
  buildPath: 'buildkit',
  platform: 'linux/amd64',
};

/** `kbuild build -j threads`, no push, no test. */
export const buildOptions = (threads) => ({
  threads,
  pushThreads: 2,
  retries: 0,
  pushRetries: 0,
  timeoutSeconds: 0,
  pushTimeoutSeconds: 0,
  failFast: false,
  push: false,
  pull: false,
  noCache: false,
  test: false,
  publish: 'eager',
});

/** Logs and build contexts that go nowhere; the clock and sleep given. */
export const quietPorts = (dir, engine, now) => ({
  engine,
  engineInfo: FAKE_INFO,
  logs: { dir, open: () => ({ write: () => {}, close: async () => '' }) },
  prepare: async () => ({ ok: true, value: { contextDir: dir, dockerfile: 'Dockerfile' } }),
  now,
  sleep: async () => {},
});

/** Engine.run for the inventory script: an image without a package database. */
export const runWithoutPackages = async (_req, op) => {
  op.log('KBI\tos\t\t');
  op.log('KBI\tmanager\tnone\t');
  return { ok: true, value: { exitCode: 0 } };
};
