/** `kbuild init`: a new image family that builds. */
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { namespaceFrom, scaffoldFamily } from '../../core/config/scaffold.js';
import { UsageError, type Io } from '../io.js';

export interface InitFlags {
  baseImage: string;
  profile?: string;
  namespace?: string;
  force?: boolean;
}

export async function initCommand(io: Io, root: string, flags: InitFlags): Promise<number> {
  const made = scaffoldFamily({
    baseImage: flags.baseImage,
    namespace: flags.namespace ?? namespaceFrom(basename(root)),
    ...(flags.profile ? { profile: flags.profile } : {}),
  });
  if (!made.ok) throw new UsageError(made.message);
  // .gitignore is added to, never replaced: it may be the repository's own.
  const files = made.files.filter((f) => f.path !== '.gitignore');
  const existing = files.filter((f) => existsSync(join(root, f.path))).map((f) => f.path);
  if (existing.length && !flags.force)
    throw new UsageError(
      `not overwriting what is in ${root}: ${existing.join(', ')} — pass --force to replace them, or choose another folder`,
    );
  for (const f of files) {
    await mkdir(dirname(join(root, f.path)), { recursive: true });
    await writeFile(join(root, f.path), f.text, { mode: f.path.endsWith('.sh') ? 0o755 : 0o644 });
  }
  const ignore = join(root, '.gitignore');
  const had = existsSync(ignore) ? await readFile(ignore, 'utf8') : undefined;
  if (had === undefined)
    await writeFile(ignore, made.files.find((f) => f.path === '.gitignore')!.text);
  else if (!/^\/?\.kbuild\/?$/m.test(had))
    await appendFile(ignore, `${had.endsWith('\n') || had === '' ? '' : '\n'}.kbuild/\n`);
  const rel = relative(io.cwd, root) || '.';
  const where = rel.startsWith('..') ? root : rel;
  const next = [
    ['kbuild validate', 'templates render, the graph holds'],
    [`kbuild build -p ${made.profile} --test`, 'builds base, then hello, and smoke-tests them'],
    [`kbuild explain hello -p ${made.profile}`, 'what hello is made of, why it would rebuild'],
  ];
  const width = Math.max(...next.map(([c]) => c!.length));
  io.out(
    `created a family in ${where}: ${[...files.map((f) => f.path), '.gitignore'].join(', ')}\n` +
      `next${where === '.' ? '' : ` (in ${where})`}:\n` +
      next.map(([c, why]) => `  ${c!.padEnd(width)}   # ${why}\n`).join(''),
  );
  return 0;
}
