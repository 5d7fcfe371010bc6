/**
 * `--secret id=ID,src=PATH` and `--secret id=ID,env=VAR` (docker's syntax): build secrets handed
 * to the engine for `RUN --mount=type=secret,id=ID`. kbuild never reads their content: only the
 * id is an input (of the images that mount it); the file or variable goes to the engine as is.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { BuildSecret } from '../run/ports.js';
import { UsageError } from './io.js';

/** One `--secret` value, its syntax checked; `src` as given (relative to the working directory). */
export interface SecretFlag {
  readonly flag: string;
  readonly id: string;
  readonly src?: string;
  readonly env?: string;
}

export const SECRET_FORMS =
  '--secret takes id=ID,src=PATH or id=ID,env=VAR (docker build --secret)';

/** Parses one `--secret` value (commander's argument parser: a usage error names the value). */
export function parseSecret(v: string): SecretFlag {
  const flag = `--secret '${v}'`;
  const fail = (why: string): never => {
    throw new UsageError(`${flag}: ${why} — ${SECRET_FORMS}`);
  };
  const fields = new Map<string, string>();
  for (const part of v.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) fail(`'${part}' is not key=value`);
    const key = part.slice(0, eq).trim().toLowerCase();
    const known = ['id', 'src', 'source', 'env', 'type'];
    if (!known.includes(key)) fail(`unknown key '${key}'`);
    const k = key === 'source' ? 'src' : key;
    if (fields.has(k)) fail(`'${k}' given twice`);
    fields.set(k, part.slice(eq + 1));
  }
  const id = fields.get('id');
  if (!id) fail('no id');
  if (!/^[A-Za-z0-9_.-]+$/.test(id!)) fail(`id '${id}' is not letters, digits, _ . -`);
  const type = fields.get('type');
  if (type !== undefined && type !== 'file' && type !== 'env')
    fail(`type '${type}' is neither file nor env`);
  const src = fields.get('src');
  const env = fields.get('env');
  if (src !== undefined && env !== undefined) fail('give src or env, not both');
  if (type === 'env' && src !== undefined) fail('type=env takes env=VAR, not src');
  if (type === 'file' && env !== undefined) fail('type=file takes src=PATH, not env');
  if (src === '' || env === '') fail('src and env cannot be empty');
  if (src === undefined && env === undefined) fail(`no src=PATH or env=VAR for '${id}'`);
  return { flag, id: id!, ...(src !== undefined ? { src } : { env: env! }) };
}

/**
 * The secrets, checked where they come from: a src file that is not there, or a variable that is
 * not set, is a usage error naming it (before anything is built). A given id twice is one too.
 */
export function resolveSecrets(
  cwd: string,
  env: Readonly<Record<string, string | undefined>>,
  secrets: readonly SecretFlag[] | undefined,
): BuildSecret[] {
  const out: BuildSecret[] = [];
  for (const s of secrets ?? []) {
    if (out.some((o) => o.id === s.id))
      throw new UsageError(`${s.flag}: the secret id '${s.id}' is given twice`);
    if (s.src !== undefined) {
      const path = resolve(cwd, s.src);
      const stat = statSync(path, { throwIfNoEntry: false });
      if (!stat) throw new UsageError(`${s.flag}: no such file: ${path}`);
      if (!stat.isFile()) throw new UsageError(`${s.flag}: ${path} is not a file`);
      out.push({ id: s.id, src: path });
    } else {
      if (env[s.env!] === undefined)
        throw new UsageError(`${s.flag}: the environment variable ${s.env!} is not set`);
      out.push({ id: s.id, env: s.env! });
    }
  }
  return out;
}
