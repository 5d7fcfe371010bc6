/**
 * Checks of single configuration values that the engine or the registry would otherwise refuse
 * only when a build runs: the build network, the registry. One rule for every place a value can
 * come from (kbuild.yaml, a profile, the command line), so they cannot drift apart.
 */
import { clip } from '../clip.js';
import { domainProblem, repositoryProblem } from '../dockerfile/reference.js';

/** What is wrong with a value, and what to do about it; it never repeats a secret. */
export interface ValueProblem {
  readonly message: string;
  readonly hint?: string;
}

/** Network modes every engine knows for RUN steps. */
export const NETWORK_MODES = ['host', 'none', 'default'] as const;
/** A user-defined network's name as the docker daemon accepts it. */
const NETWORK_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** `network`: host, none, default, or the name of a network the engine has. */
export function networkProblem(value: string): ValueProblem | undefined {
  if ((NETWORK_MODES as readonly string[]).includes(value) || NETWORK_NAME.test(value))
    return undefined;
  return {
    message: `network ${JSON.stringify(clip(value))} is neither host, none, default nor a valid network name`,
    hint: 'use host (RUN steps reach the network through the host), none, default, or a network name: a letter or digit, then letters, digits, _ . - (docker network ls lists them)',
  };
}

/**
 * `registry`: host[:port] with an optional path (`127.0.0.1:5000`, `quay.io/team`); no scheme and
 * no credentials. A value that holds credentials is shown masked (`user:***@host`).
 */
export function registryProblem(value: string): ValueProblem | undefined {
  if (value === '') return undefined;
  const scheme = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.exec(value);
  const afterScheme = scheme ? value.slice(scheme[0].length) : value;
  const authority = afterScheme.split('/')[0] ?? '';
  if (authority.includes('@')) {
    const host = authority.slice(authority.lastIndexOf('@') + 1);
    return {
      message: `registry ${JSON.stringify(clip(maskCredentials(value)))} holds credentials; kbuild does not take them in a registry value`,
      hint: `remove the 'user:password@' part and log in once with 'docker login ${host || 'HOST'}' (or podman login): kbuild reads the login from the docker credential store (~/.docker/config.json and its credential helpers)`,
    };
  }
  if (scheme) {
    return {
      message: `registry ${JSON.stringify(clip(value))} starts with a scheme (${scheme[0]})`,
      hint: `give host[:port] only, e.g. ${JSON.stringify(clip(afterScheme.replace(/\/+$/, '')))}: kbuild speaks https, and plain http to a registry on this machine (127.0.0.1, localhost)`,
    };
  }
  const slash = value.indexOf('/');
  const domain = slash < 0 ? value : value.slice(0, slash);
  const path = slash < 0 ? undefined : value.slice(slash + 1);
  const problem =
    domainProblem(domain) ?? (path !== undefined ? repositoryProblem(path) : undefined);
  if (problem === undefined && domain !== '') return undefined;
  return {
    message: `registry ${JSON.stringify(clip(value))} is not a registry host: ${problem ?? 'it has no host'}`,
    hint: 'give host[:port] with an optional path, e.g. 127.0.0.1:5000 or quay.io/team',
  };
}

/** `user:password@host` -> `user:***@host` (`***@host` without a user): safe to print. */
export function maskCredentials(value: string): string {
  return value.replace(
    /^([a-zA-Z][a-zA-Z0-9+.-]*:\/\/)?([^/]*)@/,
    (_, scheme: string | undefined, userinfo: string) => {
      const colon = userinfo.indexOf(':');
      return `${scheme ?? ''}${colon < 0 ? '' : `${userinfo.slice(0, colon)}:`}***@`;
    },
  );
}
