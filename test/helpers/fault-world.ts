/**
 * The world of the registry fault tests: a tiny busybox family (bb-base ─ bb-lib ─ bb-app3) built
 * once on the real engine, then pushed by the real CLI, case after case, to a fresh registry
 * (a real Docker Distribution) behind a fault proxy. Each case gets a registry of its own, so the
 * engine uploads every layer again; what the registry holds is asked of it directly, never
 * through the proxy.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startExtraRegistry, type ExtraRegistry } from './extra-registry.js';
import { startFaultProxy, type FaultProxy, type FaultRule } from './fault-proxy.js';
import {
  byName,
  kbuild,
  projectCopy,
  randomTag,
  readSummary,
  registryDigest,
  removeImages,
  type CliRun,
  type Summary,
  type SummaryImage,
} from './host.js';

export const IMAGES = ['bb-base', 'bb-lib', 'bb-app3'] as const;
export type Name = (typeof IMAGES)[number];

export interface Pushed extends CliRun {
  readonly summary: Summary & {
    publish?: { published: boolean; moved: string[]; failed: unknown[]; message: string };
  };
  readonly images: Record<string, SummaryImage>;
  /** Wall milliseconds of the whole CLI run. */
  readonly ms: number;
}

/** One registry behind its proxy, for one case. */
export interface Target {
  readonly registry: ExtraRegistry;
  readonly proxy: FaultProxy;
}

export interface StateImage {
  fingerprint: string;
  imageId: string;
  registry?: string;
  digest?: string;
}

export interface FaultWorld {
  readonly dir: string;
  readonly ns: string;
  readonly tag: string;
  /** `ns/<image>`. */
  readonly repo: (n: string) => string;
  /** Builds the family locally (no push); throws when that fails. */
  buildOnce(): Promise<void>;
  /** A fresh registry and proxy with these rules; stopped by `stopAll`. */
  target(rules?: readonly FaultRule[]): Promise<Target>;
  /** `kbuild build -p bb bb-app3 --push --registry <proxy>` with the summary read back. */
  push(t: Target, ...extra: string[]): Promise<Pushed>;
  /** What kbuild runs, with the world's project. */
  run(args: string[]): Promise<CliRun & { ms: number }>;
  /** The tags of a repository, asked of the registry itself (empty when it has none). */
  tags(t: Target, n: string): Promise<string[]>;
  /** The digest the registry itself serves for a tag or digest of an image (null: none). */
  digest(t: Target, n: string, reference: string): Promise<string | null>;
  /** The state file, parsed (it must parse: a half-written state fails the case). */
  state(): Record<string, StateImage>;
  stopAll(): Promise<void>;
}

export function faultWorld(): FaultWorld {
  const project = projectCopy('bb');
  const ns = `kbuild-faults-${randomTag()}`;
  const tag = randomTag();
  const targets: Target[] = [];
  const base = ['-p', 'bb', '--namespace', ns, '--tag', tag];
  const run = async (args: string[]) => {
    const t0 = Date.now();
    const r = await kbuild(args, project.dir);
    return { ...r, ms: Date.now() - t0 };
  };
  const world: FaultWorld = {
    dir: project.dir,
    ns,
    tag,
    repo: (n) => `${ns}/${n}`,
    async buildOnce() {
      const r = await run(['build', ...base, 'bb-app3', '-q']);
      if (r.code !== 0) throw new Error(`the local build failed:\n${r.stdout}\n${r.stderr}`);
    },
    async target(rules = []) {
      const registry = await startExtraRegistry();
      let proxy: FaultProxy;
      try {
        proxy = await startFaultProxy(registry.host);
      } catch (e) {
        await registry.stop();
        throw e;
      }
      proxy.setRules(rules);
      const t = { registry, proxy };
      targets.push(t);
      return t;
    },
    async push(t, ...extra) {
      const file = join(project.dir, `summary-${randomTag()}.json`);
      const args = ['build', ...base, 'bb-app3', '--push', '--registry', t.proxy.host];
      const r = await run([...args, '-q', '--summary-json', file, ...extra]);
      let summary: Pushed['summary'];
      try {
        summary = readSummary(file);
      } catch (e) {
        throw new Error(`no summary (exit ${r.code}): ${String(e)}\n${r.stdout}\n${r.stderr}`, {
          cause: e,
        });
      }
      return { ...r, summary, images: byName(summary) };
    },
    run: (args) => run(args),
    async tags(t, n) {
      const r = await fetch(`http://${t.registry.host}/v2/${ns}/${n}/tags/list`);
      if (r.status === 404) return [];
      const body = (await r.json()) as { tags?: string[] | null };
      return [...(body.tags ?? [])].sort();
    },
    digest: (t, n, reference) => registryDigest(t.registry.host, `${ns}/${n}`, reference),
    state() {
      const text = readFileSync(join(project.dir, '.kbuild', 'state', 'bb.json'), 'utf8');
      return (JSON.parse(text) as { images: Record<string, StateImage> }).images;
    },
    async stopAll() {
      for (const t of targets.splice(0)) {
        await t.proxy.stop();
        await t.registry.stop();
      }
      await removeImages((r) => r.includes(`${ns}/`));
      project.remove();
    },
  };
  return world;
}
