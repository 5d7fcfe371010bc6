/**
 * Registry credentials the way `docker login` and `podman login` leave them: docker's
 * config.json (inline auths and credential helpers) and podman's auth.json. Read only when a
 * registry answers 401 (auth.ts asks), never written.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { errorText, isDockerHub, MAX_DETAIL } from './transport.js';

export interface RegistryCredentials {
  readonly username: string;
  readonly password: string;
}

/**
 * What a credential lookup found: credentials, nothing (`undefined`: go anonymous), or a
 * `problem` saying why it could not tell (a credential helper that is not installed, an
 * unreadable config file). A problem is not fatal: the request goes on anonymously, and the
 * problem is quoted if the registry then answers 401.
 */
export type CredentialLookup = RegistryCredentials | { readonly problem: string } | undefined;

export interface ConfigFileCredentialOptions {
  /** Default: process.env (DOCKER_CONFIG, REGISTRY_AUTH_FILE, XDG_RUNTIME_DIR, PATH). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Default: os.homedir(). */
  readonly home?: string;
  /** Time limit of a credential helper. Default 30 000 ms. */
  readonly helperTimeoutMs?: number;
}

interface AuthFile {
  auths?: Record<
    string,
    { auth?: unknown; username?: unknown; password?: unknown; identitytoken?: unknown }
  >;
  credHelpers?: Record<string, unknown>;
  credsStore?: unknown;
}

/**
 * Reads credentials the way `docker login` and `podman login` leave them, first found wins:
 * `$DOCKER_CONFIG/config.json` (else `~/.docker/config.json`), then `$REGISTRY_AUTH_FILE`,
 * `$XDG_RUNTIME_DIR/containers/auth.json`, `~/.config/containers/auth.json`. In each file a
 * credential helper (`credHelpers[host]`, else `credsStore`) is asked first (it runs
 * `docker-credential-<name> get`), then the inline `auths[host].auth`. Not supported:
 * identity tokens (OAuth refresh tokens, e.g. `az acr login`) and podman's per-repository
 * entries (`host/namespace`): they are reported as a problem or ignored.
 */
export function credentialsFromConfigFiles(
  options: ConfigFileCredentialOptions = {},
): (registry: string) => Promise<CredentialLookup> {
  const env = options.env ?? process.env;
  const home = options.home ?? homedir();
  const files = [
    join(env['DOCKER_CONFIG'] ?? join(home, '.docker'), 'config.json'),
    ...(env['REGISTRY_AUTH_FILE'] ? [env['REGISTRY_AUTH_FILE']] : []),
    ...(env['XDG_RUNTIME_DIR'] ? [join(env['XDG_RUNTIME_DIR'], 'containers', 'auth.json')] : []),
    join(home, '.config', 'containers', 'auth.json'),
  ];
  return async (registry) => {
    const host = isDockerHub(registry) ? 'index.docker.io' : registry;
    const serverUrl = host === 'index.docker.io' ? 'https://index.docker.io/v1/' : host;
    const problems: string[] = [];
    for (const file of files) {
      let config: AuthFile;
      try {
        config = JSON.parse(await readFile(file, 'utf8')) as AuthFile;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
          problems.push(`cannot read ${file}: ${errorText(e)}`);
        }
        continue;
      }
      const helper = config.credHelpers?.[host] ?? config.credsStore;
      if (typeof helper === 'string' && helper !== '') {
        const r = await runCredentialHelper(helper, serverUrl, env, options.helperTimeoutMs);
        if (r && 'username' in r) return r;
        if (r) problems.push(`${r.problem} (configured in ${file})`);
      }
      const entry = Object.entries(config.auths ?? {}).find(([k]) => authKeyHost(k) === host)?.[1];
      if (!entry) continue;
      if (typeof entry.auth === 'string' && entry.auth !== '') {
        const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        if (colon > 0) {
          return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
        }
        problems.push(`the "auth" of ${host} in ${file} is not base64 of user:password`);
      } else if (typeof entry.username === 'string' && typeof entry.password === 'string') {
        return { username: entry.username, password: entry.password };
      } else if (typeof entry.identitytoken === 'string') {
        problems.push(`${file} holds an identity token for ${host}, which kbuild does not support`);
      }
    }
    return problems.length > 0 ? { problem: problems.join('; ') } : undefined;
  };
}

/** The host of an `auths` key: `https://host/v1/` and `host` are the host; `host/ns` is not. */
function authKeyHost(key: string): string | undefined {
  const m = /^(?:https?:\/\/)?([^/]+)(\/.*)?$/.exec(key);
  if (!m) return undefined;
  // A path without a scheme is podman's per-namespace entry: not for the whole host.
  if (m[2] && m[2] !== '/' && !/^https?:\/\//.test(key)) return undefined;
  return m[1];
}

/** `docker-credential-<name> get` with the server URL on stdin (the docker helper protocol). */
function runCredentialHelper(
  name: string,
  serverUrl: string,
  env: Readonly<Record<string, string | undefined>>,
  timeoutMs = 30_000,
): Promise<CredentialLookup> {
  const program = `docker-credential-${name}`;
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    const child = spawn(program, ['get'], {
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: timeoutMs,
    });
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.on('error', () => undefined);
    child.on('error', (e: NodeJS.ErrnoException) =>
      resolve({
        problem:
          e.code === 'ENOENT'
            ? `credential helper ${program} is not installed (not on PATH)`
            : `credential helper ${program} failed to start: ${e.message}`,
      }),
    );
    child.on('close', (code, signal) => {
      if (code === 0) {
        const json = (() => {
          try {
            return JSON.parse(stdout) as { Username?: unknown; Secret?: unknown };
          } catch {
            return null;
          }
        })();
        if (typeof json?.Username !== 'string' || typeof json.Secret !== 'string') {
          resolve({ problem: `credential helper ${program} printed no credentials` });
        } else if (json.Username === '<token>') {
          resolve({
            problem: `credential helper ${program} gave an identity token, which kbuild does not support`,
          });
        } else {
          resolve({ username: json.Username, password: json.Secret });
        }
        return;
      }
      const said = `${stdout} ${stderr}`.replace(/\s+/g, ' ').trim();
      if (/credentials not found/i.test(said)) resolve(undefined);
      else
        resolve({
          problem: `credential helper ${program} failed (${signal ?? `exit ${code}`})${said ? `: ${said.slice(0, MAX_DETAIL)}` : ''}`,
        });
    });
    child.stdin.end(serverUrl);
  });
}
