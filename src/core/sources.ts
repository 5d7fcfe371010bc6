/**
 * Per-image sources (`sources:` in kbuild.yaml or a profile): an archive kbuild fetches into an
 * image's build context before its build. `url` (sha256 required), `git` (a branch, tag or
 * commit), or `local` (a directory kbuild packs, or an archive with its sha256).
 *
 * Pure: the schema, validation, the archive's name in the context, and the check that an
 * archive's entries stay inside it. The adapters download, pack and list (adapters/sources.ts).
 */
import { clip } from './clip.js';
import type { ConfigProblem, Locate, SourceLocation, SourceSpec } from './model.js';
import type { Schema } from './config/schema.js';

export type { SourceSpec };

const field = (doc: string): Schema => ({ kind: 'string', doc });

export const sourcesSchema: Schema = {
  kind: 'map-of',
  doc: "Per-image sources, by image name: an archive kbuild fetches into the image's build context as kbuild-sources/<image>.tar[.gz|.xz|.bz2|.zst] before building it (templates see it as sources.<image>.archive).",
  value: {
    kind: 'object',
    doc: 'One source.',
    fields: {
      type: { kind: 'string', doc: 'Where it comes from.', enum: ['url', 'git', 'local'] },
      url: field('url: an http(s) URL of a tar archive; git: a repository URL or path.'),
      sha256: field(
        'The archive\'s sha256 (hex): required for "url" and for a "local" archive; a mismatch fails the image.',
      ),
      reference: field('git: the branch, tag or full commit id to take.'),
      path: field(
        'local: a directory (packed reproducibly by kbuild) or a tar archive, relative to the project root.',
      ),
    },
  },
};

const ARCHIVE_SUFFIXES: readonly [RegExp, string][] = [
  [/\.(tar\.gz|tgz)$/, '.tar.gz'],
  [/\.(tar\.xz|txz)$/, '.tar.xz'],
  [/\.(tar\.bz2|tbz2?)$/, '.tar.bz2'],
  [/\.(tar\.zst|tzst)$/, '.tar.zst'],
  [/\.tar$/, '.tar'],
];

/** `.tar.gz` for `x.tgz`, `x.tar.gz` or `https://h/x.tar.gz?raw=1`; undefined when not a tar archive. */
export function archiveSuffix(pathOrUrl: string): string | undefined {
  const path = pathOrUrl.replace(/[?#].*$/, '');
  return ARCHIVE_SUFFIXES.find(([re]) => re.test(path))?.[1];
}

/** The archive's path inside the build context, e.g. kbuild-sources/memcached.tar.gz. */
export function sourceArchiveName(image: string, spec: SourceSpec): string {
  const suffix =
    spec.type === 'url'
      ? archiveSuffix(spec.url)
      : spec.type === 'local'
        ? archiveSuffix(spec.path)
        : undefined;
  return `kbuild-sources/${image.replace(/.*\//, '')}${suffix ?? '.tar'}`;
}

/** What templates see as `sources.<image>`. */
export function sourceTemplateValue(image: string, spec: SourceSpec): Record<string, string> {
  const archive = sourceArchiveName(image, spec);
  return {
    type: spec.type,
    archive,
    /** e.g. `.tar.gz`, to COPY the archive under another name. */
    suffix: archive.slice(archive.indexOf('.tar')),
    ...(spec.type === 'local' ? { path: spec.path } : { url: spec.url }),
    ...(spec.type === 'git' ? { reference: spec.reference } : {}),
  };
}

/** A short description for logs and plans: `url https://…/x.tar.gz`, `git URL@v1.2`. */
export function describeSource(spec: SourceSpec): string {
  switch (spec.type) {
    case 'url':
      return `url ${spec.url}`;
    case 'git':
      return `git ${spec.url} @ ${spec.reference}`;
    case 'local':
      return `local ${spec.path}`;
  }
}

/** Where a source was declared, as file:line for messages. */
export function sourceWhere(spec: SourceSpec, image: string): string {
  const at: SourceLocation = spec.at(['sources', image], 'key');
  return at.line ? `${at.file}:${at.line}` : at.file;
}

type Raw = Record<string, unknown>;
const HEX64 = /^[0-9a-f]{64}$/;

/**
 * The typed sources of a validated `sources:` map (the schema checked field types already);
 * problems for what the schema cannot say: required fields per type, checksums, archive names.
 */
export function parseSources(
  raw: unknown,
  locate: Locate,
): { sources: Record<string, SourceSpec>; problems: ConfigProblem[] } {
  const sources: Record<string, SourceSpec> = {};
  const problems: ConfigProblem[] = [];
  const entries =
    raw && typeof raw === 'object' && !Array.isArray(raw) ? Object.entries(raw as Raw) : [];
  for (const [image, value] of entries) {
    const v = (value ?? {}) as Raw;
    // Scalars as the user wrote them (yaml reads `sha256: 1234` as a number).
    const s = (k: string) => {
      const x = v[k];
      return typeof x === 'string' || typeof x === 'number' ? String(x) : undefined;
    };
    const problem = (key: string | undefined, message: string, hint: string) =>
      problems.push({
        ...locate(key ? ['sources', image, key] : ['sources', image], key ? 'value' : 'key'),
        message: `sources.${image}: ${message}`,
        hint,
      });
    const need = (key: string, hint: string) => {
      const x = s(key);
      if (!x) problem(undefined, `type '${s('type') ?? ''}' needs '${key}'`, hint);
      return x ?? '';
    };
    const checksum = (required: boolean) => {
      const x = s('sha256')?.toLowerCase();
      if (x === undefined) {
        if (required)
          problem(
            undefined,
            "an archive needs its 'sha256'",
            'add sha256: <hex> (sha256sum FILE prints it)',
          );
        return undefined;
      }
      if (!HEX64.test(x))
        problem(
          'sha256',
          `'${clip(x)}' is not a sha256`,
          'give the 64 hex digits sha256sum prints',
        );
      return x;
    };
    const at = locate;
    switch (s('type') ?? '') {
      case 'url': {
        const url = need('url', 'add url: https://…/name-1.0.tar.gz');
        if (url && !/^https?:\/\//.test(url))
          problem(
            'url',
            `'${clip(url)}' is not an http(s) URL`,
            'for a file on this host use type: local',
          );
        else if (url && !archiveSuffix(url))
          problem(
            'url',
            `'${clip(url)}' does not name a tar archive`,
            'kbuild fetches .tar, .tar.gz/.tgz, .tar.xz, .tar.bz2 or .tar.zst archives',
          );
        sources[image] = { type: 'url', url, sha256: checksum(true) ?? '', at };
        break;
      }
      case 'git':
        sources[image] = {
          type: 'git',
          url: need('url', 'add url: the repository URL or path'),
          reference: need('reference', 'add reference: a branch, tag or full commit id'),
          at,
        };
        break;
      case 'local': {
        const path = need('path', 'add path: a directory or archive, relative to the project root');
        const sha256 = checksum(Boolean(path && archiveSuffix(path)));
        sources[image] = { type: 'local', path, ...(sha256 ? { sha256 } : {}), at };
        break;
      }
      default:
        if (s('type') === undefined) problem(undefined, "no 'type'", 'add type: url, git or local');
    }
  }
  return { sources, problems };
}

/** One entry of a tar archive, as listed. */
export interface ArchiveEntry {
  readonly path: string;
  /** tar entry type, e.g. File, Directory, SymbolicLink, Link. */
  readonly type: string;
  readonly linkpath?: string;
}

/** `a/./b/../c` -> ['a','c']; undefined when it climbs above its start. */
function normalise(parts: readonly string[]): string[] | undefined {
  const out: string[] = [];
  for (const p of parts) {
    if (p === '' || p === '.') continue;
    if (p === '..') {
      if (out.length === 0) return undefined;
      out.pop();
    } else out.push(p);
  }
  return out;
}

/**
 * Why an entry would write or point outside the directory it is unpacked into (an absolute path,
 * a `..` that climbs out, a link whose target is outside); undefined when it stays inside.
 */
export function entryEscapes(e: ArchiveEntry): string | undefined {
  if (e.path.startsWith('/')) return `'${e.path}' is an absolute path`;
  const own = normalise(e.path.split('/'));
  if (!own) return `'${e.path}' climbs out with '..'`;
  if (e.type === 'SymbolicLink' || e.type === 'Link') {
    const target = e.linkpath ?? '';
    if (target.startsWith('/')) return `'${e.path}' links to the absolute path '${target}'`;
    // A symbolic link is relative to its own directory, a hard link to the archive's root.
    const from = e.type === 'SymbolicLink' ? own.slice(0, -1) : [];
    if (!normalise([...from, ...target.split('/')]))
      return `'${e.path}' links outside the archive, to '${target}'`;
  }
  return undefined;
}
