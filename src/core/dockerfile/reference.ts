/**
 * Image references, parsed and checked the way Docker does it (the grammar of
 * github.com/distribution/reference, with Docker's rule for telling a registry host
 * from the first path component).
 *
 * `parseReference` keeps what the user wrote: `debian` stays `debian`, it is not turned
 * into `docker.io/library/debian:latest`. Use `canonicalName` to compare two references.
 *
 * Written as hand-made scanners rather than the upstream regular expressions: every check
 * is one linear pass, and each failure can say exactly what is wrong.
 */
import { clip } from '../clip.js';
import { err, ok, type Result } from '../model.js';

/** An image reference split into its parts, as written (no defaults filled in). */
export interface ImageReference {
  /** Registry host and optional port, e.g. "127.0.0.1:5000", "localhost", "quay.io". */
  readonly domain?: string;
  /** Repository path, e.g. "kbuild/base" or "debian". */
  readonly path: string;
  readonly tag?: string;
  /** `algorithm:hex`, e.g. "sha256:0123…". */
  readonly digest?: string;
}

const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_REPO_PREFIX = 'library/';
const MAX_NAME_LENGTH = 255;
const MAX_TAG_LENGTH = 128;

/** Hex lengths of the digest algorithms engines accept (go-digest's registered ones). */
const DIGEST_HEX_LENGTH: Readonly<Record<string, number>> = { sha256: 64, sha384: 96, sha512: 128 };

/**
 * Parses an image reference (`[domain/]path[:tag][@digest]`).
 *
 * The first `/`-separated component is a domain only when the reference has more than
 * one component and that first one contains `.` or `:` or is `localhost`
 * (`127.0.0.1:5000/kbuild/base`, `localhost/x`, `quay.io/a/b`); otherwise it belongs to
 * the path (`kbuild/base`). The error is a sentence naming the reference and what is wrong.
 */
export function parseReference(ref: string): Result<ImageReference, string> {
  const fail = (why: string): Result<ImageReference, string> =>
    err(`invalid image reference "${clip(ref)}": ${why}`);
  if (ref === '') return err('invalid image reference: it is empty');

  let rest = ref;
  let digest: string | undefined;
  const at = ref.indexOf('@');
  if (at >= 0) {
    digest = ref.slice(at + 1);
    rest = ref.slice(0, at);
    const problem = digestProblem(digest);
    if (problem !== undefined) return fail(problem);
  }

  // The tag follows the last ':' of the last path component (a ':' before the last '/'
  // is a registry port).
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    const problem = tagProblem(tag);
    if (problem !== undefined) return fail(problem);
  }

  if (rest === '') return fail('it has no repository name');
  const components = rest.split('/');
  let domain: string | undefined;
  const first = components[0] ?? '';
  if (
    components.length > 1 &&
    (first.includes('.') || first.includes(':') || first === 'localhost')
  ) {
    domain = first;
    components.shift();
    const problem = domainProblem(domain);
    if (problem !== undefined) return fail(problem);
  }
  for (const component of components) {
    const problem = pathComponentProblem(component);
    if (problem !== undefined) return fail(problem);
  }
  const path = components.join('/');
  if (rest.length > MAX_NAME_LENGTH) {
    return fail(`the repository name is longer than ${MAX_NAME_LENGTH} characters`);
  }
  if (domain === undefined && tag === undefined && digest === undefined && isImageId(path)) {
    return fail('a 64-character hexadecimal string is an image id, not a repository name');
  }

  return ok({
    ...(domain !== undefined && { domain }),
    path,
    ...(tag !== undefined && { tag }),
    ...(digest !== undefined && { digest }),
  });
}

/** Formats a reference back to text: `[domain/]path[:tag][@digest]`. */
export function formatReference(r: ImageReference): string {
  return (
    (r.domain !== undefined ? `${r.domain}/` : '') +
    r.path +
    (r.tag !== undefined ? `:${r.tag}` : '') +
    (r.digest !== undefined ? `@${r.digest}` : '')
  );
}

/**
 * The fully-qualified form of a reference, for comparing references that name the same
 * image differently: the domain defaults to docker.io (index.docker.io counts as docker.io),
 * a one-component path on docker.io gets `library/`, and the tag defaults to `latest`
 * unless the reference has a digest. `debian` -> `docker.io/library/debian:latest`.
 */
export function canonicalName(r: ImageReference): string {
  let domain = r.domain ?? DEFAULT_DOMAIN;
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  const path =
    domain === DEFAULT_DOMAIN && !r.path.includes('/') ? OFFICIAL_REPO_PREFIX + r.path : r.path;
  const tag = r.tag ?? (r.digest === undefined ? 'latest' : undefined);
  return formatReference({
    domain,
    path,
    ...(tag !== undefined && { tag }),
    ...(r.digest !== undefined && { digest: r.digest }),
  });
}

/**
 * Whether a registry host, with or without a port, is this machine: `localhost`, an address of
 * 127.0.0.0/8, or `::1` (written `[::1]`, and bare when there is no port). Such registries are
 * spoken to without TLS: docker treats 127.0.0.0/8 as insecure on its own, kbuild passes
 * `--tls-verify=false` to podman for them, and its registry client uses http there.
 * Names that only resolve to loopback (`*.localhost`, /etc/hosts entries) are not counted.
 */
export function isLoopbackHost(domain: string): boolean {
  if (domain === '::1') return true;
  let host = domain;
  let port: string | undefined;
  if (domain.startsWith('[')) {
    const close = domain.indexOf(']');
    if (close < 0) return false;
    host = domain.slice(1, close);
    const after = domain.slice(close + 1);
    if (after !== '') {
      if (!after.startsWith(':')) return false;
      port = after.slice(1);
    }
    if (host !== '::1') return false;
  } else {
    const colon = domain.indexOf(':');
    if (colon >= 0) {
      host = domain.slice(0, colon);
      port = domain.slice(colon + 1);
    }
    if (host !== 'localhost' && !isLoopbackIPv4(host)) return false;
  }
  return port === undefined || /^[0-9]+$/.test(port);
}

/** 127.0.0.0/8 in dotted-quad form. */
function isLoopbackIPv4(host: string): boolean {
  const octets = host.split('.');
  return (
    octets.length === 4 &&
    octets[0] === '127' &&
    octets.every((o) => /^[0-9]{1,3}$/.test(o) && Number(o) <= 255)
  );
}

// ---------------------------------------------------------------------------
// Checks. Each returns undefined when the part is valid, else what is wrong with it. The
// registry client checks the repository, tag and digest it is handed with the same rules.

/** repository := path-component (`/` path-component)*, at most 255 characters (no registry). */
export function repositoryProblem(repository: string): string | undefined {
  if (repository === '') return 'it has no repository name';
  if (repository.length > MAX_NAME_LENGTH) {
    return `the repository name is longer than ${MAX_NAME_LENGTH} characters`;
  }
  for (const component of repository.split('/')) {
    const problem = pathComponentProblem(component);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

const isLowerAlnum = (c: string): boolean => (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
const isAlnum = (c: string): boolean => isLowerAlnum(c) || (c >= 'A' && c <= 'Z');
const isHexLower = (c: string): boolean => (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
const isWordChar = (c: string): boolean => isAlnum(c) || c === '_';

function isImageId(s: string): boolean {
  if (s.length !== 64) return false;
  for (const c of s) if (!isHexLower(c)) return false;
  return true;
}

/** path-component := [a-z0-9]+ ((`.` | `_` | `__` | `-`+) [a-z0-9]+)* */
function pathComponentProblem(component: string): string | undefined {
  if (component === '')
    return 'it has an empty path component (two "/" in a row, or a "/" at an end)';
  if (component !== component.toLowerCase()) {
    return `the repository name must be lowercase ("${clip(component)}")`;
  }
  const bad = (): string =>
    `"${clip(component)}" is not a valid path component: use lowercase letters and digits, ` +
    'separated by ".", "_", "__" or dashes, starting and ending with a letter or digit';
  let i = 0;
  const n = component.length;
  for (;;) {
    const start = i;
    while (i < n && isLowerAlnum(component.charAt(i))) i++;
    if (i === start) return bad();
    if (i === n) return undefined;
    const sepStart = i;
    const c = component.charAt(i);
    if (c === '-') {
      while (i < n && component.charAt(i) === '-') i++;
    } else if (c === '.') {
      i++;
    } else if (c === '_') {
      i++;
      if (component.charAt(i) === '_') i++;
    } else {
      return bad();
    }
    if (i === sepStart || i === n) return bad();
  }
}

/** domain := host [`:` port]; host := domain-name | `[` ipv6 `]` */
export function domainProblem(domain: string): string | undefined {
  let host = domain;
  let port: string | undefined;
  if (domain.startsWith('[')) {
    const close = domain.indexOf(']');
    if (close < 0) return `registry host "${domain}" has an unclosed "["`;
    const inner = domain.slice(1, close);
    if (inner === '' || !/^[0-9a-fA-F:]+$/.test(inner)) {
      return `registry host "${domain}" is not a valid IPv6 address`;
    }
    const after = domain.slice(close + 1);
    if (after !== '') {
      if (!after.startsWith(':')) return `registry host "${domain}" has text after "]"`;
      port = after.slice(1);
    }
  } else {
    const colon = domain.indexOf(':');
    if (colon >= 0) {
      host = domain.slice(0, colon);
      port = domain.slice(colon + 1);
    }
    const labels = host.split('.');
    for (const label of labels) {
      const valid =
        label !== '' &&
        isAlnum(label.charAt(0)) &&
        isAlnum(label.charAt(label.length - 1)) &&
        [...label].every((c) => isAlnum(c) || c === '-');
      if (!valid) return `registry host "${clip(host)}" is not a valid host name`;
    }
  }
  if (port !== undefined && !/^[0-9]+$/.test(port)) {
    return `registry port "${clip(port)}" must be a number`;
  }
  return undefined;
}

/** tag := [A-Za-z0-9_] [A-Za-z0-9_.-]{0,127} */
export function tagProblem(tag: string): string | undefined {
  if (tag === '') return 'it ends with ":" but has no tag after it';
  if (tag.length > MAX_TAG_LENGTH) return `the tag is longer than ${MAX_TAG_LENGTH} characters`;
  const first = tag.charAt(0);
  if (!isWordChar(first)) return `tag "${clip(tag)}" must start with a letter, digit or "_"`;
  for (const c of tag) {
    if (!isWordChar(c) && c !== '.' && c !== '-') {
      return `tag "${clip(tag)}" may only contain letters, digits, "_", "." and "-"`;
    }
  }
  return undefined;
}

/** digest := algorithm `:` hex, with the hex length of a supported algorithm. */
export function digestProblem(digest: string): string | undefined {
  const colon = digest.indexOf(':');
  if (colon <= 0 || colon === digest.length - 1) {
    return `digest "${clip(digest)}" must look like sha256:<64 hex characters>`;
  }
  const algorithm = digest.slice(0, colon);
  const hex = digest.slice(colon + 1);
  const expected = DIGEST_HEX_LENGTH[algorithm];
  if (expected === undefined) {
    return `digest algorithm "${algorithm}" is not supported (use sha256, sha384 or sha512)`;
  }
  if (hex.length !== expected || ![...hex].every(isHexLower)) {
    return `a ${algorithm} digest has ${expected} lowercase hex characters, got "${clip(hex)}"`;
  }
  return undefined;
}
